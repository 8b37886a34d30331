//! How long the embedded catalog takes to load:
//! `cargo run --release -p ghl-catalog --example load_time`.
//! One process per figure would be fairer, so each figure is the first
//! call's cost in this process: v2 alone (what a friendly command pays,
//! looking up one v2 operation), then v3, then both merged.
fn main() {
    let ms = |t: std::time::Instant| t.elapsed().as_secs_f64() * 1000.0;
    let t = std::time::Instant::now();
    let found = ghl_catalog::find("contacts.get-contact").is_some();
    let v2 = ms(t);
    let t = std::time::Instant::now();
    let n3 = ghl_catalog::operations_of(ghl_catalog::Api::V3).len();
    let v3 = ms(t);
    let t = std::time::Instant::now();
    let n = ghl_catalog::operations().len();
    let all = ms(t);
    println!(
        "v2 find (parse {} v2 operations): {v2:.2} ms; v3 part ({n3} operations): {v3:.2} ms; both merged ({n}): {all:.2} ms more; found={found}",
        ghl_catalog::operations_of(ghl_catalog::Api::V2).len()
    );
}
