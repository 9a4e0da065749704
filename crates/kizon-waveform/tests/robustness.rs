//! No parser may panic, whatever the bytes: every prefix of the real headers, a sample of prefixes
//! of the real data files, random byte flips seeded from the real files, and random buffers must
//! each give `Ok` or `Err`. A panic fails the test.

mod common;

use common::{XorShift, data};
use kizon_waveform::edf::{self, EdfHeader};
use kizon_waveform::mfer::{
    MferChannel, MferDataType, MferPatient, MferRecording, read_mfer, write_mfer,
};
use kizon_waveform::wfdb::{WfdbHeader, read_mit_annotations, read_signal_file};

/// Everything the EDF reader offers, on one buffer.
fn exercise_edf(bytes: &[u8]) {
    let _ = edf::read_info(bytes);
    if let Ok(h) = EdfHeader::parse(bytes) {
        for i in 0..h.signals.len() {
            if let Ok(s) = edf::read_samples(&h, bytes, i) {
                let _ = s.first().map(|v| h.signals[i].physical(*v));
            }
        }
        let _ = edf::read_annotations(&h, bytes);
        let _ = h.info(bytes, 0);
    }
}

/// Header text, and when it parses, every signal file decoded from `dat`.
fn exercise_wfdb(header: &[u8], dat: &[u8]) {
    let text = String::from_utf8_lossy(header);
    if let Ok(h) = WfdbHeader::parse(&text) {
        let _ = h.info(&text, 0);
        let _ = h.start_iso();
        for f in h.companion_files() {
            let _ = read_signal_file(&h, &f, dat);
        }
    }
}

fn exercise_mfer(bytes: &[u8]) {
    if let Ok(r) = read_mfer(bytes) {
        let _ = r.info();
    }
}

fn flips(seed: &[u8], rng: &mut XorShift, rounds: usize, max_flips: usize, f: impl Fn(&[u8])) {
    for _ in 0..rounds {
        let mut b = seed.to_vec();
        for _ in 0..=rng.below(max_flips) {
            let i = rng.below(b.len());
            b[i] = match rng.below(3) {
                0 => b[i] ^ (1 << rng.below(8)),
                1 => rng.next() as u8,
                _ => *b"0123456789-+. \x00\x14\x15\xFF"
                    .get(rng.below(18))
                    .unwrap_or(&0),
            };
        }
        f(&b);
    }
}

fn random_buffers(rng: &mut XorShift, prefix: &[u8], rounds: usize, f: impl Fn(&[u8])) {
    for _ in 0..rounds {
        let len = rng.below(4096);
        let mut b = prefix.to_vec();
        b.extend((0..len).map(|_| rng.next() as u8));
        f(&b);
    }
}

#[test]
fn edf_never_panics() {
    let mut rng = XorShift(0x5EED_EDF0);
    for name in [
        "edf/test_generator.edf",
        "edf/test_generator.bdf",
        "edf/test_subsecond.edf",
        "edf/test_utf8.edf",
    ] {
        let file = data(name);
        let header_len = EdfHeader::parse(&file).unwrap().header_len();
        // Every prefix through the headers and the first record's start.
        for end in 0..=(header_len + 600).min(file.len()) {
            exercise_edf(&file[..end]);
        }
        // A sample of longer prefixes.
        for _ in 0..20 {
            exercise_edf(&file[..rng.below(file.len())]);
        }
        // Flips in a short copy (headers and a few records), so each round stays fast.
        let short = &file[..(header_len + 20_000).min(file.len())];
        flips(short, &mut rng, 300, 8, exercise_edf);
    }
    random_buffers(&mut rng, b"", 200, exercise_edf);
    random_buffers(&mut rng, b"0       ", 200, exercise_edf);
    random_buffers(&mut rng, b"\xFFBIOSEMI", 200, exercise_edf);
}

#[test]
fn wfdb_header_and_signals_never_panic() {
    let mut rng = XorShift(0x0100_0212);
    for (hea, dat) in [
        ("wfdb/100.hea", "wfdb/100.dat"),
        ("wfdb/test01_00s.hea", "wfdb/test01_00s.dat"),
    ] {
        let header = data(hea);
        let signal = data(dat);
        let short_dat = &signal[..signal.len().min(3000)];
        for end in 0..=header.len() {
            exercise_wfdb(&header[..end], short_dat);
        }
        for _ in 0..20 {
            exercise_wfdb(&header, &signal[..rng.below(signal.len())]);
        }
        flips(&header, &mut rng, 500, 4, |h| exercise_wfdb(h, short_dat));
        flips(short_dat, &mut rng, 50, 20, |d| exercise_wfdb(&header, d));
    }
    // Every format on random data.
    for format in [
        "8", "16", "61", "80", "160", "212", "310", "311", "24", "32", "0", "999",
    ] {
        let hea = format!(
            "r 3 250 1000\nr.dat {format}x2 200 12 0 5\nr.dat {format} 100(3)/uV\nr.dat {format}:2+7\n"
        );
        random_buffers(&mut rng, b"", 20, |d| exercise_wfdb(hea.as_bytes(), d));
    }
    random_buffers(&mut rng, b"", 100, |h| exercise_wfdb(h, b""));
}

#[test]
fn mit_annotations_never_panic() {
    let mut rng = XorShift(0xA7A7_2274);
    let atr = data("wfdb/100.atr");
    for end in 0..=atr.len() {
        let _ = read_mit_annotations(&atr[..end]);
    }
    flips(&atr, &mut rng, 500, 10, |b| {
        let _ = read_mit_annotations(b);
    });
    random_buffers(&mut rng, b"", 300, |b| {
        let _ = read_mit_annotations(b);
    });
}

#[test]
fn mfer_never_panics() {
    let mut rng = XorShift(0x4D46_4552);
    let header = WfdbHeader::parse(&String::from_utf8(data("wfdb/100.hea")).unwrap()).unwrap();
    let samples = read_signal_file(&header, "100.dat", &data("wfdb/100.dat"))
        .unwrap()
        .samples;
    let rec = MferRecording {
        preamble: "MFR robustness".into(),
        little_endian: false,
        sampling_rate_hz: 360.0,
        data_type: MferDataType::Int16,
        block_length: 180,
        waveform_type: Some(1),
        sensitivity: None,
        offset: Some(-1024),
        patient: MferPatient {
            name: Some("X".into()),
            id: Some("1".into()),
            age_years: Some(69),
            birthdate: None,
            sex: Some(1),
        },
        measurement_time: None,
        comments: vec!["c".into()],
        channels: samples
            .iter()
            .map(|s| MferChannel {
                label: "MLII".into(),
                lead_code: None,
                sensitivity: None,
                samples: s[..360].to_vec(),
            })
            .collect(),
    };
    let file = write_mfer(&rec).unwrap();
    for end in 0..=file.len() {
        exercise_mfer(&file[..end]);
    }
    flips(&file, &mut rng, 1000, 6, exercise_mfer);
    random_buffers(&mut rng, b"", 300, exercise_mfer);
    random_buffers(&mut rng, b"@ MFR ", 300, exercise_mfer);
    // Long-form lengths and huge declared counts.
    for tail in [
        &b"\x05\x88\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF"[..],
        b"\x1E\x84\xFF\xFF\xFF\xFF",
        b"\x3F\xFF\xFF\xFF\x80\x09",
        b"\x05\x04\xFF\xFF\xFF\xFF\x0B\x03\x00\x00\x01\x1E\x01\x00",
    ] {
        exercise_mfer(&[&file[..34], tail].concat());
    }
}
