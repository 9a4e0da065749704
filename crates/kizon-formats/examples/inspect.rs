//! Prints what kizon-formats makes of each file given: `cargo run -p kizon-formats --example inspect -- FILE...`
fn main() {
    for path in std::env::args().skip(1) {
        match std::fs::read(&path) {
            Ok(bytes) => {
                let i = kizon_formats::inspect(&bytes);
                println!(
                    "{path}\t{}\t{}\t{}",
                    i.kind(),
                    i.problem.unwrap_or_default(),
                    serde_json::to_string(&i.metadata).unwrap()
                );
            }
            Err(e) => println!("{path}\terror {e}"),
        }
    }
}
