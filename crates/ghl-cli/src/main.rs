//! `ghl`: a thin binary over the `ghl-cli` library.

fn main() {
    ghl_cli::main();
}
