//! Signatures of the biosignal formats (EDF/BDF, WFDB headers, MFER). Their full parsing is in
//! kizon-waveform; here only the recognition, so that dispatch stays in one place.

use crate::Kind;

/// The biosignal kind `bytes` hold, if any.
pub fn waveform_kind(bytes: &[u8]) -> Option<Kind> {
    if is_edf(bytes) {
        Some(Kind::Edf)
    } else if is_mfer(bytes) {
        Some(Kind::Mfer)
    } else if is_wfdb_header(bytes) {
        Some(Kind::Wfdb)
    } else {
        None
    }
}

/// EDF/EDF+ (`0` and seven spaces) or BDF (0xFF `BIOSEMI`), with a header whose size field is a
/// multiple of 256 (256 + 256 per signal).
pub fn is_edf(bytes: &[u8]) -> bool {
    let version = bytes.get(0..8);
    let edf = version == Some(b"0       ") || version == Some(b"\xffBIOSEMI");
    let header_bytes = bytes
        .get(184..192)
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|s| s.trim().parse::<usize>().ok());
    edf && header_bytes.is_some_and(|n| n >= 256 && n % 256 == 0)
}

/// MFER (ISO 22077-1): the preamble tag 0x40 with a 32-byte text that begins `MFR`
/// (as the writers of the standard emit it), or a byte-order tag 0x01 first.
pub fn is_mfer(bytes: &[u8]) -> bool {
    match bytes {
        [0x40, 0x20, rest @ ..] => rest.starts_with(b"MFR") || rest.starts_with(b"MFER"),
        _ => false,
    }
}

/// A WFDB header: text whose first non-comment line is `name[/segments] nsig [fs [nsamp ...]]`
/// followed by one signal line per signal naming a file and a format.
pub fn is_wfdb_header(bytes: &[u8]) -> bool {
    if bytes.len() > 1 << 20 {
        return false;
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let Some(record) = lines.next() else {
        return false;
    };
    let fields: Vec<&str> = record.split_whitespace().collect();
    let signals = match fields.as_slice() {
        [name, nsig, ..]
            if name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_/-.".contains(c)) =>
        {
            match nsig.parse::<usize>() {
                Ok(n) => n,
                Err(_) => return false,
            }
        }
        _ => return false,
    };
    if name_has_segments(fields[0]) {
        return true; // a multi-segment header lists segments, not signals
    }
    let signal_lines: Vec<&str> = lines.take(signals).collect();
    signal_lines.len() == signals
        && signal_lines.iter().all(|line| {
            let mut parts = line.split_whitespace();
            let file = parts.next();
            let format = parts
                .next()
                .map(|f| f.split(['x', ':', '+']).next().unwrap_or(""));
            file.is_some() && format.is_some_and(|f| f.parse::<u16>().is_ok())
        })
}

fn name_has_segments(name: &str) -> bool {
    name.contains('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wfdb_header_needs_its_signal_lines() {
        assert!(is_wfdb_header(b"100 2 360 650000\n100.dat 212 200 11 1024 995 -22131 0 MLII\n100.dat 212 200 11 1024 1011 20052 0 V5\n"));
        assert!(!is_wfdb_header(b"100 2 360 650000\n100.dat 212 200\n"));
        assert!(!is_wfdb_header(b"hello world\nthis is text\n"));
        assert!(!is_wfdb_header(b"case_id,path\n1,a.dcm\n"));
    }

    #[test]
    fn edf_needs_a_plausible_header_size() {
        let mut header = b"0       ".to_vec();
        header.resize(184, b' ');
        header.extend_from_slice(b"768     ");
        assert!(is_edf(&header));
        header[184..192].copy_from_slice(b"700     ");
        assert!(!is_edf(&header));
    }
}
