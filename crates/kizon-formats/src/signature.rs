//! Biosignal files (EDF/BDF, WFDB headers, MFER): recognition by signature here, parsing by
//! kizon-waveform, and its [`WaveformInfo`](kizon_waveform::WaveformInfo) turned into [`Metadata`].

use kizon_waveform::{WaveformInfo, edf, mfer, wfdb};

use crate::{Inspection, ItemKind, Metadata};

/// The biosignal kind `bytes` hold, with their metadata, if any.
pub fn inspect_waveform(bytes: &[u8]) -> Option<Inspection> {
    let (kind, read) = if is_edf(bytes) {
        (
            ItemKind::Edf,
            edf::read_info(bytes).map_err(|e| e.to_string()),
        )
    } else if mfer::looks_like_mfer(bytes) {
        (
            ItemKind::Mfer,
            mfer::read_mfer(bytes)
                .map(|m| m.info())
                .map_err(|e| e.to_string()),
        )
    } else if is_wfdb_header(bytes) {
        let text = String::from_utf8_lossy(bytes);
        let read = wfdb::WfdbHeader::parse(&text)
            .map(|h| h.info(&text, 0))
            .map_err(|e| e.to_string());
        (ItemKind::Wfdb, read)
    } else {
        return None;
    };
    Some(match read {
        Ok(info) => Inspection {
            kind: Some(kind),
            metadata: metadata(&info, kind),
            problem: None,
            patient_id: None,
        },
        Err(problem) => Inspection {
            kind: Some(kind),
            problem: Some(problem),
            ..Default::default()
        },
    })
}

fn metadata(info: &WaveformInfo, kind: ItemKind) -> Metadata {
    Metadata {
        identifying_attributes: identifying_fields(info, kind),
        ..waveform_metadata(info, kind)
    }
}

/// Header fields of a waveform file that may identify a person (Q1), by name (never value):
/// - EDF+ patient subfields other than `X` (EDF+ writes `X` for each one left out), and the
///   recording field's hospital administration code or technician when not `X`;
/// - MFER patient name or ID (tags 0x81, 0x82);
/// - WFDB header comments that hold a date or name a person (`name`, `patient`, 氏名, 患者).
fn identifying_fields(info: &WaveformInfo, kind: ItemKind) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(field) = info
        .patient_field
        .as_deref()
        .filter(|f| !f.trim().is_empty())
    {
        // A provider's pseudonym with its mark (kizon-deid) is not the hospital's identifier.
        let marked = info
            .comments
            .iter()
            .any(|c| c.trim() == kizon_waveform::PSEUDONYM_MARK);
        match kind {
            ItemKind::Mfer if marked && !field.contains(' ') => {}
            ItemKind::Mfer => out.push("MFER patient name/ID (0x81, 0x82)".to_owned()),
            _ if edf::is_anonymized(field) || edf::is_pseudonymised(field) => {}
            _ => out.push("EDF patient field".to_owned()),
        }
    }
    if let Some(recording) = info
        .recording_field
        .as_deref()
        .and_then(edf::RecordingFields::parse)
    {
        let named = |v: &Option<String>| v.as_deref().is_some_and(|s| s != "X");
        if named(&recording.admin_code) || named(&recording.technician) {
            out.push("EDF recording field (administration code or technician)".to_owned());
        }
    }
    let revealing = |comment: &str| {
        let lower = comment.to_lowercase();
        let keyword = ["name", "patient", "氏名", "患者"]
            .iter()
            .any(|k| lower.contains(k));
        let digits: Vec<&str> = comment
            .split(|c: char| !c.is_ascii_digit())
            .filter(|d| !d.is_empty())
            .collect();
        // A date: YYYY-MM-DD, YYYY/MM/DD, DD/MM/YYYY or DD.MM.YYYY (a 4-digit year among
        // three adjacent numbers with date separators).
        let date = digits.windows(3).any(|w| {
            (w[0].len() == 4 && w[1].len() <= 2 && w[2].len() <= 2)
                || (w[0].len() <= 2 && w[1].len() <= 2 && w[2].len() == 4)
        }) && comment.chars().any(|c| matches!(c, '-' | '/' | '.'));
        keyword || date
    };
    if kind == ItemKind::Wfdb && info.comments.iter().any(|c| revealing(c)) {
        out.push("WFDB header comment (a date or a name)".to_owned());
    }
    out
}

fn waveform_metadata(info: &WaveformInfo, kind: ItemKind) -> Metadata {
    let rates: Vec<f64> = info.channels.iter().map(|c| c.sampling_rate_hz).collect();
    let max_rate = rates
        .iter()
        .copied()
        .fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.max(r))));
    Metadata {
        channels: Some(info.channels.len() as u32),
        sampling_rate_hz: max_rate,
        samples: info.channels.iter().map(|c| c.samples).max(),
        channel_labels: info.channels.iter().map(|c| c.label.clone()).collect(),
        start: info.start.clone(),
        duration_s: info.duration_s,
        header_text: Some(info.header_text.clone()),
        role: (kind == ItemKind::Wfdb).then(|| "header".to_owned()),
        ..Metadata::default()
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
