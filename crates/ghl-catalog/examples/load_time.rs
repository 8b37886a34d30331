//! How long the embedded catalog takes to load, as a process's first use:
//! `cargo run --release -p ghl-catalog --example load_time` times one v2
//! lookup (what a friendly command pays: that operation's JSON alone,
//! found through the index built at compile time);
//! `... --example load_time -- all` times the whole catalog, v2 and v3
//! (what `ghl api list` and the discovery tools pay).
fn main() {
    let all = std::env::args().nth(1).as_deref() == Some("all");
    let t = std::time::Instant::now();
    let what = if all {
        format!("all {} operations", ghl_catalog::operations().len())
    } else {
        let found = ghl_catalog::find("contacts.get-contact").is_some();
        format!("one v2 lookup (found={found})")
    };
    println!(
        "loaded {what} in {:.3} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
}
