//! Prints the content hash and pHash of each DICOM file given: `hash_files FILE...`
fn main() {
    for path in std::env::args().skip(1) {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                println!("{path}\terror: {e}");
                continue;
            }
        };
        let content = kizon_pixels::pixel_content_hash(&bytes)
            .map(|h| h.iter().map(|b| format!("{b:02x}")).collect::<String>())
            .unwrap_or_else(|e| format!("error: {e}"));
        let phash = kizon_pixels::perceptual_hash(&bytes)
            .map(|h| format!("{h:016x}"))
            .unwrap_or_else(|e| format!("error: {e}"));
        println!("{path}\t{phash}\t{content}");
    }
}
