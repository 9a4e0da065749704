//! Free text that may identify: the rule every non-DICOM cleaner shares (EDF+ annotations, WFDB
//! comments kept by none, MFER comments): a text is identifying when it holds one of the
//! patient's own identifiers, six or more digits (an ID, a telephone number or a date), or `@`.

/// The patient's identifiers as byte strings (IDs, name parts of two characters or more).
pub fn identifiers(values: &[&str]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for value in values {
        for part in value.split(['^', '=', ' ', '_', ',']) {
            let part = part.trim();
            if part.len() >= 2 && part != "X" {
                out.push(part.as_bytes().to_vec());
            }
        }
    }
    out
}

/// Whether `text` may identify the patient (see the module doc).
pub fn is_identifying(text: &[u8], identifiers: &[Vec<u8>]) -> bool {
    if text.contains(&b'@') {
        return true;
    }
    if text.iter().filter(|b| b.is_ascii_digit()).count() >= 6 {
        return true;
    }
    identifiers
        .iter()
        .any(|id| text.windows(id.len()).any(|w| w.eq_ignore_ascii_case(id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_ids_and_long_numbers_identify() {
        let ids = identifiers(&["abcxyz99", "Hans_Muller"]);
        assert!(is_identifying(b"seen by Hans", &ids));
        assert!(is_identifying(b"pt abcxyz99", &ids));
        assert!(is_identifying(b"call 0312345678", &ids));
        assert!(is_identifying(b"2011-04-04 10:00", &ids));
        assert!(is_identifying(b"mail a@b", &ids));
        assert!(!is_identifying(b"Recording starts", &ids));
        assert!(!is_identifying(b"stimulus 10 Hz", &ids));
    }
}
