//! MIT-format WFDB annotation files (`annot(5)`), e.g. the reference beat labels `100.atr`.
//!
//! The file is a sequence of 16-bit little-endian words: the top 6 bits `A` are a code, the low
//! 10 bits `I` a value. `A` = 1..=49 starts an annotation of type `A`, `I` samples after the
//! previous one. Pseudo-codes modify it: `SKIP` (59) adds the following 32-bit interval (stored as
//! two words, high word first) to the next annotation's time; `NUM` (60), `SUB` (61) and `CHN` (62)
//! set the annotation's num, subtype and channel fields (num and channel persist to later
//! annotations, as in the WFDB library); `AUX` (63) attaches `I` bytes of text (padded to even).
//! `A` = 0 with `I` = 0 ends the file.

use serde::Serialize;

use crate::bytes::Cursor;
use crate::error::Result;

const SKIP: u16 = 59;
const NUM: u16 = 60;
const SUB: u16 = 61;
const CHN: u16 = 62;
const AUX: u16 = 63;

/// One annotation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MitAnnotation {
    /// Sample number (frame) from the start of the record.
    pub sample: u64,
    /// Annotation code (1..=49 standard, see [`mnemonic`]).
    pub code: u8,
    /// The code's WFDB mnemonic, e.g. `N`, `V`, `+`; empty for codes without one.
    pub mnemonic: String,
    pub subtype: u16,
    pub channel: u16,
    pub num: u16,
    /// Auxiliary text, e.g. the rhythm `(N` on a `+` annotation (trailing NULs removed).
    pub aux: Option<String>,
}

impl MitAnnotation {
    /// Whether this annotation marks a QRS complex (see [`is_beat`]).
    pub fn is_beat(&self) -> bool {
        is_beat(self.code)
    }
}

/// All annotations of a file and problems found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MitAnnotations {
    pub annotations: Vec<MitAnnotation>,
    pub warnings: Vec<String>,
}

impl MitAnnotations {
    /// Number of beat annotations.
    pub fn beats(&self) -> usize {
        self.annotations.iter().filter(|a| a.is_beat()).count()
    }
}

/// WFDB mnemonics for codes 0..=41 (`ecgcodes.h` / `ecgmap.h`); codes 42..=49 are user-defined.
const MNEMONICS: [&str; 42] = [
    "", "N", "L", "R", "a", "V", "F", "J", "A", "S", "E", "j", "/", "Q", "~", "", "|", "", "s",
    "T", "*", "D", "\"", "=", "p", "B", "^", "t", "+", "u", "?", "!", "[", "]", "e", "n", "@", "x",
    "f", "(", ")", "r",
];

/// The WFDB mnemonic of an annotation code, if it has one.
pub fn mnemonic(code: u8) -> Option<&'static str> {
    MNEMONICS
        .get(usize::from(code))
        .copied()
        .filter(|m| !m.is_empty())
}

/// The WFDB `isqrs` table: codes that mark a beat — N, L, R, B, A, a, J, S, V, r, F, e, j, n, E,
/// /, f, Q, ?. Rhythm (`+`), noise (`~`), artefact (`|`) and comment (`"`) annotations are not
/// beats.
pub fn is_beat(code: u8) -> bool {
    matches!(code, 1..=13 | 25 | 30 | 34 | 35 | 38 | 41)
}

/// Reads an MIT-format annotation file. A file cut short keeps the annotations before the cut and
/// reports the cut as a warning, since the annotations read are still valid.
pub fn read_mit_annotations(bytes: &[u8]) -> Result<MitAnnotations> {
    let mut out = MitAnnotations::default();
    let mut cur = Cursor::new(bytes);
    let (mut time, mut pending_skip) = (0u64, 0i64);
    let (mut channel, mut num) = (0u16, 0u16);
    let mut ended = false;
    while !cur.is_empty() {
        let at = cur.pos();
        let Ok(word) = cur.u16_le("annotation word") else {
            out.warnings.push(format!("odd trailing byte at {at}"));
            break;
        };
        let (a, i) = (word >> 10, word & 0x3FF);
        let last = out.annotations.last_mut();
        match (a, last) {
            (0, _) if i == 0 => {
                ended = true;
                break;
            }
            (SKIP, _) => {
                let (Ok(hi), Ok(lo)) = (cur.u16_le("SKIP interval"), cur.u16_le("SKIP interval"))
                else {
                    out.warnings.push(format!("SKIP at byte {at} is cut short"));
                    break;
                };
                pending_skip = pending_skip
                    .saturating_add(i64::from((u32::from(hi) << 16 | u32::from(lo)) as i32));
            }
            (NUM, last) => {
                num = i;
                if let Some(a) = last {
                    a.num = i;
                }
            }
            (SUB, Some(a)) => a.subtype = i,
            (CHN, last) => {
                channel = i;
                if let Some(a) = last {
                    a.channel = i;
                }
            }
            (AUX, last) => {
                let len = usize::from(i);
                let Ok(text) = cur.take(len + len % 2, "AUX text") else {
                    out.warnings
                        .push(format!("AUX text at byte {at} is cut short"));
                    break;
                };
                let text = String::from_utf8_lossy(&text[..len])
                    .trim_end_matches('\0')
                    .to_string();
                match last {
                    Some(a) => a.aux = Some(text),
                    None => out
                        .warnings
                        .push(format!("AUX at byte {at} precedes any annotation")),
                }
            }
            (SUB, None) => out
                .warnings
                .push(format!("SUB at byte {at} precedes any annotation")),
            (code, _) => {
                time = time
                    .saturating_add_signed(pending_skip)
                    .saturating_add(u64::from(i));
                pending_skip = 0;
                let code = code as u8; // a < 64
                out.annotations.push(MitAnnotation {
                    sample: time,
                    code,
                    mnemonic: mnemonic(code).unwrap_or_default().to_string(),
                    subtype: 0,
                    channel,
                    num,
                    aux: None,
                });
            }
        }
    }
    if !ended {
        out.warnings
            .push("annotation file has no end marker (file cut short?)".to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(a: u16, i: u16) -> [u8; 2] {
        ((a << 10) | i).to_le_bytes()
    }

    #[test]
    fn skip_aux_and_end_are_decoded() {
        let mut f = Vec::new();
        f.extend(word(28, 18)); // '+' at 18
        f.extend(word(AUX, 3));
        f.extend(b"(N\0\0");
        f.extend(word(SKIP, 0));
        f.extend(1u16.to_le_bytes()); // high word: 65536
        f.extend(5u16.to_le_bytes());
        f.extend(word(1, 4)); // 'N' at 18 + 65541 + 4
        f.extend(word(SUB, 2));
        f.extend(word(0, 0));
        let out = read_mit_annotations(&f).unwrap();
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(out.annotations[0].aux.as_deref(), Some("(N"));
        assert_eq!(out.annotations[0].mnemonic, "+");
        assert_eq!(out.annotations[1].sample, 18 + 65541 + 4);
        assert_eq!(out.annotations[1].subtype, 2);
        assert_eq!(out.beats(), 1);
    }

    #[test]
    fn isqrs_has_nineteen_beat_codes() {
        let beats: String = (0..=49)
            .filter(|c| is_beat(*c))
            .filter_map(mnemonic)
            .collect();
        assert_eq!(beats, "NLRaVFJASEj/QB?enfr");
    }
}
