//! A waveform on paper, as readers read it: a page of seconds at a paper speed and a gain.
//!
//! - **ECG**: 25 mm/s and 10 mm/mV, 10 s a page, the standard paper of resting ECGs
//!   (IEC 60601-2-25:2011, 201.12.4.107: recording speeds 25 and 50 mm/s, sensitivity
//!   10 mm/mV).
//! - **EEG**: 30 mm/s and 7 µV/mm (about 70 µV a centimetre), 10 s a page (American Clinical
//!   Neurophysiology Society Guideline 1, Sinha et al. 2016: 30 mm/s, 7 µV/mm as the default
//!   display).
//! - Anything else, or a channel without a voltage calibration: its own range over the page.
//!
//! Which paper a recording gets is decided from its channel labels (ECG leads or 10–20 EEG
//! electrodes), never from its file name.

use serde::Serialize;

use crate::access::Account;
use crate::check::signals::{CalibratedChannel, calibrated_channels};
use crate::{AppError, Study};

/// The paper a recording is shown on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Paper {
    Ecg,
    Eeg,
    Other,
}

impl Paper {
    /// Millimetres of paper per second.
    pub fn mm_per_second(self) -> f64 {
        match self {
            Paper::Ecg => 25.0,
            Paper::Eeg => 30.0,
            Paper::Other => 25.0,
        }
    }

    /// Millimetres of paper per millivolt.
    pub fn mm_per_millivolt(self) -> Option<f64> {
        match self {
            Paper::Ecg => Some(10.0),
            Paper::Eeg => Some(1000.0 / 7.0),
            Paper::Other => None,
        }
    }

    /// Seconds a page shows.
    pub fn seconds_per_page(self) -> f64 {
        10.0
    }

    /// Height of one channel's band, in millimetres.
    pub fn band_mm(self) -> f64 {
        match self {
            Paper::Ecg => 30.0,
            Paper::Eeg => 15.0,
            Paper::Other => 20.0,
        }
    }
}

/// One channel of a page: its samples in the page's window as (seconds from the page's start,
/// millimetres above the band's middle line), reduced to the minimum and maximum of each 0.2 mm
/// of paper (no peak is lost at the paper's resolution). The middle line is the window's median,
/// so that a DC offset or drift does not push the trace off its band; amplitudes are kept
/// whole (a deflection larger than the band runs into the next one, as on paper).
#[derive(Debug, Clone, Serialize)]
pub struct PaperChannel {
    pub label: String,
    /// Whether the channel is drawn at the paper's gain (else at its own range).
    pub calibrated: bool,
    pub points: Vec<(f64, f64)>,
}

/// One page of a waveform.
#[derive(Debug, Clone, Serialize)]
pub struct PaperPage {
    pub paper: Paper,
    /// From 0, of `pages`.
    pub page: u32,
    pub pages: u32,
    pub start_s: f64,
    pub seconds: f64,
    pub channels: Vec<PaperChannel>,
}

const ECG_LEADS: &[&str] = &[
    "I", "II", "III", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6", "MLII", "MLI",
    "MLIII", "V", "ECG", "EKG",
];
const EEG_PREFIXES: &[&str] = &[
    "FP", "AF", "F", "FC", "FT", "C", "CP", "T", "TP", "P", "PO", "O", "A",
];

/// The paper of a recording: ECG when most labels name ECG leads, EEG when most name 10–20
/// electrodes (a letter prefix and a digit or `z`), else neither.
pub(crate) fn paper_for(labels: &[String]) -> Paper {
    let clean = |l: &str| {
        let l = l.trim().to_ascii_uppercase();
        let l = l
            .strip_prefix("ECG")
            .map(str::trim)
            .unwrap_or(&l)
            .to_owned();
        let l = l
            .strip_prefix("EEG")
            .map(str::trim)
            .unwrap_or(&l)
            .to_owned();
        l.split(['-', ' ', '/']).next().unwrap_or("").to_owned()
    };
    let ecg = labels
        .iter()
        .filter(|l| {
            let c = clean(l);
            ECG_LEADS.contains(&c.as_str())
                || l.to_ascii_uppercase().contains("ECG")
                || l.to_ascii_uppercase().contains("LEAD")
        })
        .count();
    let eeg = labels
        .iter()
        .filter(|l| {
            let c = clean(l);
            EEG_PREFIXES.iter().any(|p| {
                c.strip_prefix(p).is_some_and(|rest| {
                    !rest.is_empty() && (rest == "Z" || rest.chars().all(|d| d.is_ascii_digit()))
                })
            }) || l.to_ascii_uppercase().contains("EEG")
        })
        .count();
    let half = labels.len().div_ceil(2).max(1);
    if ecg >= half && ecg >= eeg {
        Paper::Ecg
    } else if eeg >= half {
        Paper::Eeg
    } else {
        Paper::Other
    }
}

/// Page `page` of the channels on `paper` (a page past the last is the last).
pub(crate) fn lay_out(channels: &[CalibratedChannel], paper: Paper, page: u32) -> PaperPage {
    let seconds = paper.seconds_per_page();
    let duration = channels
        .iter()
        .filter(|c| c.sampling_rate_hz > 0.0)
        .map(|c| c.samples.len() as f64 / c.sampling_rate_hz)
        .fold(0.0, f64::max);
    let pages = ((duration / seconds).ceil() as u32).max(1);
    let page = page.min(pages - 1);
    let start_s = f64::from(page) * seconds;
    let columns = (seconds * paper.mm_per_second() / 0.2).round() as usize;
    let band = paper.band_mm();
    let channels = channels
        .iter()
        .map(|c| {
            let rate = c.sampling_rate_hz.max(f64::MIN_POSITIVE);
            let from = ((start_s * rate) as usize).min(c.samples.len());
            let to = (((start_s + seconds) * rate).ceil() as usize).min(c.samples.len());
            let window = &c.samples[from..to];
            let millivolts = c
                .calibration
                .as_ref()
                .and_then(|cal| cal.millivolts_per_unit().map(|mv| (cal, mv)));
            let gain = paper.mm_per_millivolt();
            let median = {
                let mut sorted = window.to_vec();
                sorted.sort_unstable();
                sorted.get(sorted.len() / 2).copied().unwrap_or(0)
            };
            // The height of a sample on paper, in mm above the band's middle line (the
            // window's median: the calibration's offset cancels).
            let (calibrated, scale): (bool, Box<dyn Fn(i32) -> f64>) = match (millivolts, gain) {
                (Some((cal, mv)), Some(mm)) => {
                    let step = cal.step;
                    (
                        true,
                        Box::new(move |d| (f64::from(d) - f64::from(median)) * step * mv * mm),
                    )
                }
                _ => {
                    let (lo, hi) = window
                        .iter()
                        .fold((i32::MAX, i32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
                    let mid = (f64::from(lo) + f64::from(hi)) / 2.0;
                    let span = (f64::from(hi) - f64::from(lo)).max(1.0);
                    (
                        false,
                        Box::new(move |d| (f64::from(d) - mid) / span * band * 0.8),
                    )
                }
            };
            let per_column = window.len().div_ceil(columns.max(1)).max(1);
            let mut points = Vec::with_capacity(2 * columns);
            for (k, chunk) in window.chunks(per_column).enumerate() {
                let t = (k * per_column) as f64 / rate;
                let (lo, hi) = chunk
                    .iter()
                    .fold((i32::MAX, i32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
                if per_column == 1 {
                    points.push((t, scale(lo)));
                } else {
                    points.push((t, scale(lo)));
                    points.push((t + (per_column as f64 / rate) / 2.0, scale(hi)));
                }
            }
            PaperChannel {
                label: c.label.clone(),
                calibrated,
                points,
            }
        })
        .collect();
    PaperPage {
        paper,
        page,
        pages,
        start_s,
        seconds,
        channels,
    }
}

impl Study {
    /// Page `page` of a waveform item on its paper (readers: their assigned cases only).
    pub fn item_paper(&self, account: &Account, id: i64, page: u32) -> Result<PaperPage, AppError> {
        let item = self.viewable_item(account, id)?;
        let channels = calibrated_channels(&item).ok_or_else(|| AppError::Refused {
            what: format!("{}: not a waveform whose samples decode", item.path),
            hint:
                "waveforms are EDF/BDF, WFDB, MFER and DICOM waveform files unchanged since ingest"
                    .into(),
        })?;
        let labels: Vec<String> = channels.iter().map(|c| c.label.clone()).collect();
        Ok(lay_out(&channels, paper_for(&labels), page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::signals::Calibration;

    fn labels(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_paper_follows_the_channel_labels() {
        assert_eq!(paper_for(&labels(&["MLII", "V5"])), Paper::Ecg);
        assert_eq!(
            paper_for(&labels(&["Lead I (Einthoven)", "Lead II", "Lead III"])),
            Paper::Ecg
        );
        assert_eq!(
            paper_for(&labels(&[
                "EEG Fp1-Ref",
                "EEG C3-Ref",
                "EEG O2-Ref",
                "EEG Cz-Ref"
            ])),
            Paper::Eeg
        );
        assert_eq!(paper_for(&labels(&["Fp1", "F3", "Pz"])), Paper::Eeg);
        assert_eq!(paper_for(&labels(&["pressure", "flow"])), Paper::Other);
    }

    /// One millivolt is 10 mm on ECG paper, and one second 25 mm (the page's window is cut
    /// from the right samples); an electrode offset does not move the trace.
    #[test]
    fn a_millivolt_is_ten_millimetres_on_ecg_paper() {
        // 500 Hz, 25 s: a 1 mV pulse from 12 s to 13 s, in steps of 5 µV (digital 200 = 1 mV),
        // on a 40 mV electrode offset (digital 8000), which the page's median removes.
        let samples: Vec<i32> = (0..12_500)
            .map(|i| 8000 + if (6_000..6_500).contains(&i) { 200 } else { 0 })
            .collect();
        let channel = CalibratedChannel {
            label: "II".into(),
            sampling_rate_hz: 500.0,
            samples,
            calibration: Some(Calibration {
                step: 5.0,
                offset: 0.0,
                unit: "uV".into(),
            }),
        };
        let page = lay_out(&[channel], Paper::Ecg, 1);
        assert_eq!((page.pages, page.page, page.start_s), (3, 1, 10.0));
        let points = &page.channels[0].points;
        assert!(page.channels[0].calibrated);
        let before = points.iter().find(|p| p.0 < 1.9).unwrap();
        let during = points.iter().find(|p| p.0 > 2.1 && p.0 < 2.9).unwrap();
        let after = points.iter().rev().find(|p| p.0 > 3.1).unwrap();
        assert_eq!((before.1, after.1), (0.0, 0.0));
        assert!((during.1 - 10.0).abs() < 1e-9, "{during:?}");
        // 0.2 mm columns: 250 mm of paper, two points each.
        assert!(points.len() <= 2 * 1250, "{}", points.len());
        assert_eq!(
            lay_out(&[], Paper::Ecg, 7).pages,
            1,
            "a page past the last is the last"
        );
    }
}
