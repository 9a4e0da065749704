//! Decoding the signals of waveform items for `check`: flat channels and the signal-content
//! hash (the same signal in EDF and in WFDB gets the same hash). Reads the source files again;
//! a file that moved or changed since ingest is not decoded (its hash no longer matches).

use std::fs;
use std::path::Path;

use kizon_checks::SignalFacts;
use kizon_waveform::{ChannelSamples, edf, quality, wfdb};

use crate::sha256_hex;

/// Labels, sampling rates and digital samples of each channel.
type Channels = (Vec<String>, Vec<f64>, Vec<Vec<i32>>);

/// The signal facts of one item, if it is an EDF file or a WFDB header whose files are readable.
pub fn facts(item: &kizon_store::Item) -> Option<SignalFacts> {
    let bytes = fs::read(&item.source).ok()?;
    if sha256_hex(&bytes) != item.sha256 {
        return None;
    }
    let (labels, rates, samples) = match item.kind.as_str() {
        "edf" => edf_channels(&bytes)?,
        "wfdb" if item.metadata.contains("\"role\":\"header\"") => {
            wfdb_channels(Path::new(&item.source), &bytes)?
        }
        _ => return None,
    };
    let channels: Vec<ChannelSamples<'_>> = rates
        .iter()
        .zip(&samples)
        .map(|(&sampling_rate_hz, samples)| ChannelSamples {
            sampling_rate_hz,
            samples,
        })
        .collect();
    let longest_flat_s = labels
        .iter()
        .zip(rates.iter().zip(&samples))
        .map(|(label, (&rate, samples))| {
            (
                label.clone(),
                quality::flat_line(samples, rate, 0.0).longest_run_s,
            )
        })
        .collect();
    Some(SignalFacts {
        item_id: item.id,
        longest_flat_s,
        content_sha256: sha256_hex(&quality::canonical_bytes(&channels)),
    })
}

fn edf_channels(bytes: &[u8]) -> Option<Channels> {
    let header = edf::EdfHeader::parse(bytes).ok()?;
    let mut out: Channels = (Vec::new(), Vec::new(), Vec::new());
    for (index, signal) in header.signals.iter().enumerate() {
        if signal.label.trim().ends_with("Annotations") {
            continue;
        }
        out.0.push(signal.label.trim().to_owned());
        out.1.push(header.sampling_rate_hz(index)?);
        out.2.push(edf::read_samples(&header, bytes, index).ok()?);
    }
    Some(out)
}

fn wfdb_channels(header_path: &Path, bytes: &[u8]) -> Option<Channels> {
    let text = String::from_utf8_lossy(bytes);
    let header = wfdb::WfdbHeader::parse(&text).ok()?;
    let dir = header_path.parent()?;
    let mut files: Vec<String> = header.signals.iter().map(|s| s.file_name.clone()).collect();
    files.dedup();
    let mut out: Channels = (Vec::new(), Vec::new(), Vec::new());
    for file in files {
        let data = fs::read(dir.join(&file)).ok()?;
        let decoded = wfdb::read_signal_file(&header, &file, &data).ok()?;
        for (index, samples) in decoded.signal_indices.into_iter().zip(decoded.samples) {
            let signal = &header.signals[index];
            out.0.push(signal.description.clone());
            out.1
                .push(header.sampling_frequency_hz * f64::from(signal.samples_per_frame.max(1)));
            out.2.push(samples);
        }
    }
    Some(out)
}
