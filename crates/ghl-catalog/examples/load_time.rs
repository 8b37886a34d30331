//! How long the embedded catalog takes to load: `cargo run --release -p ghl-catalog --example load_time`.
fn main() {
    let t = std::time::Instant::now();
    let n = ghl_catalog::operations().len();
    println!(
        "loaded {n} operations in {:.2} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
}
