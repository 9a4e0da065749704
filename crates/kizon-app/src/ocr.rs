//! Burned-in text found in pixels (Q1) with OCR: Tesseract (Debian's `tesseract-ocr`, with
//! `tesseract-ocr-jpn` for Japanese names) run on the first frame as an 8-bit PNG.
//!
//! kizon stays one self-contained binary: Tesseract is used when it is installed, and `check`
//! and `deidentify` say when it was not (so nobody takes "no text found" for "no text"). Only
//! the places of text that may identify are kept, never the text: a word with six or more
//! digits (an ID, a date written without separators), a date (`4/14/2020`, `2017-03-02`), two
//! names joined by a comma or a caret (`DOE,JOHN`, the DICOM form `DOE^JOHN`), a label such as
//! `DOB`, `MRN`, `ID:`, `Name`, 氏名, 患者, or two or more kanji or kana read with confidence.
//! The words of one line are merged into one region `[x, y, width, height]`.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The OCR engine as installed: its version and the languages used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    pub version: String,
    pub languages: String,
}

impl Engine {
    /// How findings and summaries name it: `tesseract 5.3.0 (eng+jpn)`.
    pub fn describe(&self) -> String {
        format!("tesseract {} ({})", self.version, self.languages)
    }
}

/// Tesseract, if installed with English (and Japanese when present); looked up once.
pub fn engine() -> Option<&'static Engine> {
    static ENGINE: OnceLock<Option<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let version = Command::new("tesseract").arg("--version").output().ok()?;
            let text = String::from_utf8_lossy(&version.stdout).into_owned()
                + &String::from_utf8_lossy(&version.stderr);
            let version = text
                .lines()
                .next()?
                .trim()
                .strip_prefix("tesseract ")?
                .to_owned();
            let langs = Command::new("tesseract")
                .arg("--list-langs")
                .output()
                .ok()?;
            let listed = String::from_utf8_lossy(&langs.stdout).into_owned();
            let has = |l: &str| listed.lines().any(|line| line.trim() == l);
            if !has("eng") {
                return None;
            }
            let languages = if has("jpn") { "eng+jpn" } else { "eng" };
            Some(Engine {
                version,
                languages: languages.to_owned(),
            })
        })
        .as_ref()
}

/// Whether an OCR word may identify a person (see the module doc).
pub fn word_identifies(word: &str, confidence: f64) -> bool {
    let word = word.trim();
    if word.chars().filter(char::is_ascii_digit).count() >= 6 {
        return true;
    }
    // a date: three numbers joined by `/`, `-` or `.` with a year of two or four digits
    let groups: Vec<&str> = word
        .split(['/', '-', '.'])
        .filter(|g| !g.is_empty())
        .collect();
    if groups.len() == 3
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_digit()) && g.len() <= 4)
        && groups.iter().any(|g| g.len() == 4 || g.len() == 2)
        && word.contains(['/', '-', '.'])
    {
        return true;
    }
    // two names joined: DOE,JOHN or DOE^JOHN
    for joiner in [',', '^'] {
        if let Some((a, b)) = word.split_once(joiner)
            && a.chars().filter(|c| c.is_alphabetic()).count() >= 2
            && b.chars().filter(|c| c.is_alphabetic()).count() >= 2
        {
            return true;
        }
    }
    let upper = word.to_uppercase();
    let label = upper.trim_end_matches([':', '.']);
    if matches!(label, "DOB" | "MRN" | "ID" | "NAME" | "PATIENT" | "PID")
        || word.contains("氏名")
        || word.contains("患者")
    {
        return true;
    }
    // kana and kanji letters (not the long-vowel mark or the middle dot, which lines and
    // speckle read as)
    let japanese = word
        .chars()
        .filter(|c| matches!(*c as u32, 0x3041..=0x3096 | 0x30A1..=0x30FA | 0x4E00..=0x9FFF))
        .count();
    japanese >= 2 && confidence >= 80.0
}

/// The regions of identifying text in an 8-bit frame, by line.
pub fn identifying_regions(
    frame: &kizon_pixels::DisplayFrame,
    engine: &Engine,
) -> Result<Vec<[u32; 4]>, String> {
    let png = kizon_pixels::encode_png(frame);
    let path = temporary_png(&png)?;
    let output = Command::new("tesseract")
        .arg(&path)
        .arg("stdout")
        .args(["-l", &engine.languages, "--psm", "11", "tsv"])
        .stdin(Stdio::null())
        .output();
    let _ = std::fs::remove_file(&path);
    let output = output.map_err(|e| format!("tesseract could not be run: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "tesseract failed: {}",
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or_default()
        ));
    }
    Ok(regions(&String::from_utf8_lossy(&output.stdout)))
}

/// Parses Tesseract's TSV (level, page, block, par, line, word, left, top, width, height,
/// conf, text) into the merged regions of identifying words.
fn regions(tsv: &str) -> Vec<[u32; 4]> {
    let mut lines: std::collections::BTreeMap<(u32, u32, u32), [u32; 4]> = Default::default();
    for row in tsv.lines().skip(1) {
        let f: Vec<&str> = row.split('\t').collect();
        if f.len() < 12 || f[0] != "5" {
            continue;
        }
        let num = |i: usize| f[i].trim().parse::<u32>().ok();
        let (Some(block), Some(par), Some(line), Some(x), Some(y), Some(w), Some(h)) =
            (num(2), num(3), num(4), num(6), num(7), num(8), num(9))
        else {
            continue;
        };
        let confidence: f64 = f[10].trim().parse().unwrap_or(0.0);
        // Text a person could read is at least 6 pixels high; less is a line or speckle.
        if confidence < 60.0 || h < 6 || !word_identifies(f[11], confidence) {
            continue;
        }
        lines
            .entry((block, par, line))
            .and_modify(|r| {
                let (x1, y1) = ((r[0] + r[2]).max(x + w), (r[1] + r[3]).max(y + h));
                r[0] = r[0].min(x);
                r[1] = r[1].min(y);
                r[2] = x1 - r[0];
                r[3] = y1 - r[1];
            })
            .or_insert([x, y, w, h]);
    }
    let mut out: Vec<[u32; 4]> = lines.into_values().collect();
    out.sort_by_key(|r| (r[1], r[0]));
    out
}

/// Writes the PNG to a private temporary file (the frame may show a name: owner-only, removed
/// right after use).
fn temporary_png(png: &[u8]) -> Result<PathBuf, String> {
    use std::io::Write;
    let mut name = [0u8; 12];
    crate::access::fill_random(&mut name).map_err(|e| e.to_string())?;
    let path =
        std::env::temp_dir().join(format!("kizon-ocr-{}.png", kizon_store::ledger::hex(&name)));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    file.write_all(png)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// The regions as findings and reasons name them: `x,y w×h; …`.
pub fn describe_regions(regions: &[[u32; 4]]) -> String {
    regions
        .iter()
        .map(|[x, y, w, h]| format!("{x},{y} {w}×{h}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The first frame of a DICOM image as 8 bits through its full range, for OCR.
pub fn first_frame(bytes: &[u8]) -> Result<kizon_pixels::DisplayFrame, String> {
    let image = kizon_pixels::Image::open(bytes).map_err(|e| e.to_string())?;
    kizon_pixels::display_frame(&image, 0, None).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifying_words_are_ids_dates_names_and_labels() {
        for word in [
            "ZZZDOWNTIME,MARY",
            "00047431395",
            "4/14/2020",
            "2017-03-02",
            "DOE^JOHN",
            "DOB:",
            "山田太郎",
        ] {
            assert!(word_identifies(word, 90.0), "{word}");
        }
        for word in [
            "SIEMENS",
            "General",
            "16cm",
            "8:48:26",
            "TIS0.0",
            "L12-5",
            "Liver",
            "2D",
            "山",
            "ーーー",
            "44C643",
        ] {
            assert!(!word_identifies(word, 90.0), "{word}");
        }
        assert!(!word_identifies("山田", 50.0), "uncertain kanji are noise");
    }

    #[test]
    fn words_of_one_line_merge_into_one_region() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
5\t1\t1\t1\t1\t1\t0\t4\t227\t29\t90.6\tZZZDOWNTIME,MARY\n\
5\t1\t1\t1\t1\t2\t504\t8\t71\t15\t96.3\t8:48:26\n\
5\t1\t1\t1\t1\t3\t776\t8\t105\t15\t96.7\t120907058\n\
5\t1\t3\t1\t1\t1\t929\t65\t88\t14\t96.5\tSIEMENS\n\
5\t1\t4\t1\t1\t1\t4\t36\t131\t15\t30.0\t00047431395\n";
        assert_eq!(regions(tsv), vec![[0, 4, 881, 29]]);
    }
}
