//! A Pan–Tompkins QRS detector, used by the tests as a *device under test*: it is not a kizon
//! feature (kizon evaluates devices; it does not ship one).
//!
//! Pan J, Tompkins WJ. A real-time QRS detection algorithm. IEEE Trans Biomed Eng.
//! 1985;BME-32(3):230–236. The stages follow the paper:
//! 1. band-pass 5–15 Hz, where QRS energy lies;
//! 2. five-point derivative `(−x[n−2] − 2x[n−1] + 2x[n+1] + x[n+2]) / 8`;
//! 3. squaring;
//! 4. moving-window integration over 150 ms;
//! 5. adaptive thresholds on both the integrated and the band-passed signal: a peak is QRS when it
//!    exceeds `THRESHOLD1 = NPK + 0.25 (SPK − NPK)`; signal and noise levels follow
//!    `SPK = 0.125 PEAK + 0.875 SPK`, `NPK = 0.125 PEAK + 0.875 NPK`; thresholds initialised in a
//!    2-s learning phase; 200-ms refractory period; a peak within 360 ms of the last QRS whose
//!    maximal slope is under half that QRS's slope is a T wave; when no QRS comes within 166 % of
//!    the regular RR average (RR AVERAGE2: the last 8 intervals within 92–116 % of it), search
//!    back for the largest peak above `THRESHOLD2 = 0.5 THRESHOLD1` (then `SPK = 0.25 PEAK +
//!    0.75 SPK`); with an irregular rhythm the thresholds are halved.
//!
//! Departures from the paper, for an offline test: the paper's integer filters are designed for
//! 200 Hz, so the band-pass here is a second-order Butterworth high-pass at 5 Hz and low-pass at
//! 15 Hz (bilinear transform, coefficients from R. Bristow-Johnson's "Audio EQ Cookbook") run
//! forward and backward (zero phase); the derivative is centred. The beat's time is the largest
//! absolute band-passed value within the integration window that ends at the integrated peak.

/// Second-order section `b0 b1 b2 / 1 a1 a2` (normalised).
#[derive(Clone, Copy)]
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
}

impl Biquad {
    /// Butterworth (Q = 1/√2) low- or high-pass at `cutoff_hz`.
    fn butterworth(cutoff_hz: f64, fs: f64, high_pass: bool) -> Biquad {
        let w0 = 2.0 * std::f64::consts::PI * cutoff_hz / fs;
        let (sin, cos) = w0.sin_cos();
        let alpha = sin / (2.0 * std::f64::consts::FRAC_1_SQRT_2);
        let a0 = 1.0 + alpha;
        let b = if high_pass {
            [(1.0 + cos) / 2.0, -(1.0 + cos), (1.0 + cos) / 2.0]
        } else {
            [(1.0 - cos) / 2.0, 1.0 - cos, (1.0 - cos) / 2.0]
        };
        Biquad {
            b: b.map(|v| v / a0),
            a: [-2.0 * cos / a0, (1.0 - alpha) / a0],
        }
    }

    fn run(self, x: &mut [f64]) {
        let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
        for v in x.iter_mut() {
            let y =
                self.b[0] * *v + self.b[1] * x1 + self.b[2] * x2 - self.a[0] * y1 - self.a[1] * y2;
            (x2, x1, y2, y1) = (x1, *v, y1, y);
            *v = y;
        }
    }

    /// Forward then backward: zero phase, squared magnitude response.
    fn run_zero_phase(self, x: &mut [f64]) {
        self.run(x);
        x.reverse();
        self.run(x);
        x.reverse();
    }
}

/// The intermediate signals, exposed for inspection in tests.
pub struct Stages {
    pub band_passed: Vec<f64>,
    pub derivative: Vec<f64>,
    pub integrated: Vec<f64>,
}

pub fn stages(samples: &[i32], fs: f64) -> Stages {
    let mean = samples.iter().map(|v| f64::from(*v)).sum::<f64>() / samples.len().max(1) as f64;
    let mut band_passed: Vec<f64> = samples.iter().map(|v| f64::from(*v) - mean).collect();
    Biquad::butterworth(5.0, fs, true).run_zero_phase(&mut band_passed);
    Biquad::butterworth(15.0, fs, false).run_zero_phase(&mut band_passed);
    let n = band_passed.len();
    let at = |i: isize| band_passed[i.clamp(0, n as isize - 1) as usize];
    let derivative: Vec<f64> = (0..n as isize)
        .map(|i| (-at(i - 2) - 2.0 * at(i - 1) + 2.0 * at(i + 1) + at(i + 2)) / 8.0)
        .collect();
    let window = integration_window(fs);
    let mut integrated = Vec::with_capacity(n);
    let mut sum = 0.0;
    for i in 0..n {
        sum += derivative[i] * derivative[i];
        if i >= window {
            sum -= derivative[i - window] * derivative[i - window];
        }
        integrated.push(sum / window as f64);
    }
    Stages {
        band_passed,
        derivative,
        integrated,
    }
}

/// 150 ms, in samples.
fn integration_window(fs: f64) -> usize {
    ((0.150 * fs).round() as usize).max(1)
}

/// A candidate: a local maximum of the integrated signal and what goes with it.
#[derive(Clone, Copy)]
struct Peak {
    /// Index of the integrated peak.
    at: usize,
    integrated: f64,
    /// Largest |band-passed| value in the window, and where it is (the beat's time).
    band_passed: f64,
    r: usize,
    /// Largest |derivative| in the window (the QRS slope).
    slope: f64,
}

/// Signal and noise levels of one signal (integrated or band-passed), with the paper's updates.
#[derive(Clone, Copy)]
struct Levels {
    signal: f64,
    noise: f64,
}

impl Levels {
    fn threshold1(&self, irregular: bool) -> f64 {
        let t = self.noise + 0.25 * (self.signal - self.noise);
        if irregular { 0.5 * t } else { t }
    }

    fn signal_peak(&mut self, peak: f64, weight: f64) {
        self.signal = weight * peak + (1.0 - weight) * self.signal;
    }

    fn noise_peak(&mut self, peak: f64) {
        self.noise = 0.125 * peak + 0.875 * self.noise;
    }
}

/// QRS complexes found in one ECG channel sampled at `fs` Hz, as sample indices of the R waves.
pub fn detect(samples: &[i32], fs: f64) -> Vec<usize> {
    let Stages {
        band_passed,
        derivative,
        integrated,
    } = stages(samples, fs);
    let n = integrated.len();
    let window = integration_window(fs);
    let seconds = |s: f64| (s * fs).round() as usize;

    let peaks: Vec<Peak> = (1..n.saturating_sub(1))
        .filter(|&i| integrated[i] > integrated[i - 1] && integrated[i] >= integrated[i + 1])
        .map(|i| {
            let from = i.saturating_sub(window - 1);
            let (r, band) = (from..=i)
                .map(|j| (j, band_passed[j].abs()))
                .fold((from, f64::MIN), |m, c| if c.1 > m.1 { c } else { m });
            let slope = derivative[from..=i]
                .iter()
                .fold(0.0f64, |m, d| m.max(d.abs()));
            Peak {
                at: i,
                integrated: integrated[i],
                band_passed: band,
                r,
                slope,
            }
        })
        .collect();

    // Learning phase: the first 2 s set the initial levels.
    let learn = seconds(2.0).min(n);
    let max_of = |v: &[f64]| v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let mean_of = |v: &[f64]| v.iter().map(|x| x.abs()).sum::<f64>() / v.len().max(1) as f64;
    let mut level_i = Levels {
        signal: max_of(&integrated[..learn]) / 3.0,
        noise: mean_of(&integrated[..learn]) / 2.0,
    };
    let mut level_f = Levels {
        signal: max_of(&band_passed[..learn]) / 3.0,
        noise: mean_of(&band_passed[..learn]) / 2.0,
    };

    let refractory = seconds(0.200);
    let t_wave_window = seconds(0.360);
    let mut beats: Vec<Peak> = Vec::new();
    let mut recent_rr: Vec<usize> = Vec::new(); // RR AVERAGE1: the last 8 intervals
    let mut regular_rr: Vec<usize> = Vec::new(); // RR AVERAGE2: the last 8 regular intervals
    let mut noise_since_beat: Vec<Peak> = Vec::new();
    for peak in peaks {
        let last = beats.last().copied();
        if let Some(last) = last
            && peak.at - last.at < refractory
        {
            continue; // no QRS within 200 ms of the last one
        }
        let irregular = recent_rr.len() == 8 && regular_rr.len() == 8 && {
            let avg = average(&regular_rr);
            recent_rr
                .iter()
                .any(|rr| !(0.92 * avg..=1.16 * avg).contains(&(*rr as f64)))
        };
        // Search back when no QRS came within 166 % of the regular RR average.
        if let Some(last) = last
            && !regular_rr.is_empty()
            && (peak.at - last.at) as f64 > 1.66 * average(&regular_rr)
        {
            let threshold_i2 = 0.5 * level_i.threshold1(irregular);
            let threshold_f2 = 0.5 * level_f.threshold1(irregular);
            let missed = noise_since_beat
                .iter()
                .filter(|p| p.at - last.at >= refractory)
                .filter(|p| p.integrated > threshold_i2 && p.band_passed > threshold_f2)
                .fold(None::<Peak>, |best, p| match best {
                    Some(b) if b.integrated >= p.integrated => Some(b),
                    _ => Some(*p),
                });
            if let Some(missed) = missed {
                level_i.signal_peak(missed.integrated, 0.25);
                level_f.signal_peak(missed.band_passed, 0.25);
                push_beat(missed, &mut beats, &mut recent_rr, &mut regular_rr);
                noise_since_beat.retain(|p| p.at > missed.at);
                if peak.at - missed.at < refractory {
                    continue;
                }
            }
        }
        let last = beats.last().copied();
        let is_qrs = peak.integrated > level_i.threshold1(irregular)
            && peak.band_passed > level_f.threshold1(irregular);
        let t_wave = is_qrs
            && last.is_some_and(|l| peak.at - l.at < t_wave_window && peak.slope < 0.5 * l.slope);
        if is_qrs && !t_wave {
            level_i.signal_peak(peak.integrated, 0.125);
            level_f.signal_peak(peak.band_passed, 0.125);
            push_beat(peak, &mut beats, &mut recent_rr, &mut regular_rr);
            noise_since_beat.clear();
        } else {
            level_i.noise_peak(peak.integrated);
            level_f.noise_peak(peak.band_passed);
            noise_since_beat.push(peak);
        }
    }
    beats.into_iter().map(|p| p.r).collect()
}

fn average(v: &[usize]) -> f64 {
    v.iter().sum::<usize>() as f64 / v.len().max(1) as f64
}

/// Records a QRS and its RR interval in RR AVERAGE1 (last 8) and, when within 92–116 % of it,
/// RR AVERAGE2 (last 8 regular).
fn push_beat(
    peak: Peak,
    beats: &mut Vec<Peak>,
    recent_rr: &mut Vec<usize>,
    regular_rr: &mut Vec<usize>,
) {
    if let Some(last) = beats.last() {
        let rr = peak.at - last.at;
        recent_rr.push(rr);
        if recent_rr.len() > 8 {
            recent_rr.remove(0);
        }
        let regular = regular_rr.is_empty() || {
            let avg = average(regular_rr);
            (0.92 * avg..=1.16 * avg).contains(&(rr as f64))
        };
        if regular {
            regular_rr.push(rr);
            if regular_rr.len() > 8 {
                regular_rr.remove(0);
            }
        } else if recent_rr.len() == 8 && {
            let avg = average(regular_rr);
            recent_rr
                .iter()
                .all(|rr| !(0.92 * avg..=1.16 * avg).contains(&(*rr as f64)))
        } {
            // The rate has changed for good: start RR AVERAGE2 again from RR AVERAGE1.
            regular_rr.clone_from(recent_rr);
        }
    }
    beats.push(peak);
}

/// The one-to-one matching of detections to reference beats within `±tolerance` samples:
/// candidate pairs are taken in order of increasing distance (ties: earlier reference first), each
/// beat and detection used at most once (as in ANSI/AAMI EC57 beat-by-beat comparison, which
/// pairs each reference beat with the nearest detection inside the match window).
pub struct Matching {
    pub true_positives: u64,
    pub false_negatives: u64,
    pub false_positives: u64,
    /// `detection − reference` of each matched pair, in samples.
    pub offsets: Vec<i64>,
}

pub fn match_beats(reference: &[usize], detected: &[usize], tolerance: usize) -> Matching {
    let mut pairs: Vec<(usize, usize, usize)> = Vec::new(); // (distance, reference, detection)
    let mut start = 0;
    for (r, &at) in reference.iter().enumerate() {
        while start < detected.len() && detected[start] + tolerance < at {
            start += 1;
        }
        for (d, &det) in detected.iter().enumerate().skip(start) {
            if det > at + tolerance {
                break;
            }
            pairs.push((det.abs_diff(at), r, d));
        }
    }
    pairs.sort_unstable();
    let (mut used_r, mut used_d) = (vec![false; reference.len()], vec![false; detected.len()]);
    let mut offsets = Vec::new();
    for (_, r, d) in pairs {
        if !used_r[r] && !used_d[d] {
            used_r[r] = true;
            used_d[d] = true;
            offsets.push(detected[d] as i64 - reference[r] as i64);
        }
    }
    let tp = offsets.len() as u64;
    Matching {
        true_positives: tp,
        false_negatives: reference.len() as u64 - tp,
        false_positives: detected.len() as u64 - tp,
        offsets,
    }
}
