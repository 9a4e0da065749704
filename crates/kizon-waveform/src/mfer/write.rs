//! MFER writer for the supported subset. Items are written in the order readers such as BioSig
//! expect: definitions (channel count first, data type before offset), then
//! patient fields, then the waveform data, then the end tag.

use super::tlv::{int_bytes, order, uint_bytes, write_channel_number, write_item, write_length};
use super::{MferDataType, MferRecording, MferSensitivity, tag};
use crate::error::{Error, Result};

/// Encodes `rec`. Errors name what cannot be encoded: channels of different lengths, a length that is
/// not a whole number of blocks, a sample outside the data type, a rate that is not `m × 10^e`.
pub fn write_mfer(rec: &MferRecording) -> Result<Vec<u8>> {
    let le = rec.little_endian;
    let samples = rec.channels.first().map_or(0, |c| c.samples.len());
    if rec.block_length == 0 || !samples.is_multiple_of(rec.block_length) {
        return Err(Error::encode(
            "block length",
            format!(
                "{samples} samples are not a whole number of blocks of {}",
                rec.block_length
            ),
        ));
    }
    if let Some(c) = rec.channels.iter().find(|c| c.samples.len() != samples) {
        return Err(Error::encode(
            format!("channel {:?}", c.label),
            "channels hold different numbers of samples",
        ));
    }
    let sequences = samples / rec.block_length;

    let mut out = Vec::new();
    let preamble = rec.preamble.as_bytes();
    if preamble.len() > 32 {
        return Err(Error::encode("preamble", "longer than 32 bytes"));
    }
    let mut padded = preamble.to_vec();
    padded.resize(32, b' ');
    write_item(&mut out, tag::PREAMBLE, &padded);
    write_item(&mut out, tag::BYTE_ORDER, &[u8::from(le)]);
    // Channel count first: BioSig sizes its per-channel settings (data type, scaling) when it
    // meets 0x05, and leaves channel 1 without a data type if 0x0A came earlier.
    write_item(
        &mut out,
        tag::CHANNELS,
        &uint_bytes(rec.channels.len() as u64, le),
    );
    write_item(
        &mut out,
        tag::BLOCK_LENGTH,
        &uint_bytes(rec.block_length as u64, le),
    );
    write_item(&mut out, tag::SEQUENCES, &uint_bytes(sequences as u64, le));
    if let Some(w) = rec.waveform_type {
        write_item(&mut out, tag::WAVEFORM_TYPE, &order(&w.to_be_bytes(), le));
    }
    let (exponent, mantissa) = decimal(rec.sampling_rate_hz).ok_or_else(|| {
        Error::encode(
            "sampling rate",
            format!(
                "{} Hz is not a positive decimal with up to 9 places",
                rec.sampling_rate_hz
            ),
        )
    })?;
    write_item(
        &mut out,
        tag::SAMPLING,
        &[&[0u8, exponent as u8][..], &int_bytes(mantissa, le)].concat(),
    );
    if let Some(s) = &rec.sensitivity {
        write_item(&mut out, tag::SENSITIVITY, &sensitivity_bytes(s, le));
    }
    write_item(&mut out, tag::DATA_TYPE, &[rec.data_type.code()]);
    if let Some(offset) = rec.offset {
        write_item(
            &mut out,
            tag::OFFSET,
            &sample_bytes(rec.data_type, offset, le)
                .ok_or_else(|| Error::encode("offset", "outside the data type"))?,
        );
    }

    for (n, c) in rec.channels.iter().enumerate() {
        let mut attrs = Vec::new();
        match c.lead_code {
            Some(code) if code <= 0xFF => write_item(&mut attrs, tag::LEAD, &[code as u8]),
            Some(code) => write_item(&mut attrs, tag::LEAD, &order(&code.to_be_bytes(), le)),
            None => {
                // Values of 1–2 bytes are lead codes, so a short name is padded to 3 (readers trim).
                let mut name = c.label.as_bytes().to_vec();
                if name.len() < 3 {
                    name.resize(3, b' ');
                }
                write_item(&mut attrs, tag::LEAD, &name);
            }
        }
        if let Some(s) = &c.sensitivity {
            write_item(&mut attrs, tag::SENSITIVITY, &sensitivity_bytes(s, le));
        }
        out.push(tag::CHANNEL_ATTRIBUTES);
        write_channel_number(&mut out, n as u64);
        write_length(&mut out, attrs.len());
        out.extend_from_slice(&attrs);
    }

    let p = &rec.patient;
    if let Some(name) = &p.name {
        write_item(&mut out, tag::PATIENT_NAME, name.as_bytes());
    }
    if let Some(id) = &p.id {
        write_item(&mut out, tag::PATIENT_ID, id.as_bytes());
    }
    if p.age_years.is_some() || p.birthdate.is_some() {
        let (y, m, d) = p.birthdate.unwrap_or_default();
        let age = [
            &[p.age_years.unwrap_or(0)][..],
            &order(&0u16.to_be_bytes(), le),
            &order(&y.to_be_bytes(), le),
            &[m, d],
        ]
        .concat();
        write_item(&mut out, tag::PATIENT_AGE, &age);
    }
    if let Some(sex) = p.sex {
        write_item(&mut out, tag::PATIENT_SEX, &[sex]);
    }
    if let Some(t) = &rec.measurement_time {
        let v = [
            &order(&t.year.to_be_bytes(), le)[..],
            &[t.month, t.day, t.hour, t.minute, t.second],
            &order(&t.millisecond.to_be_bytes(), le),
            &order(&t.microsecond.to_be_bytes(), le),
        ]
        .concat();
        write_item(&mut out, tag::MEASUREMENT_TIME, &v);
    }
    for c in &rec.comments {
        write_item(&mut out, tag::COMMENT, c.as_bytes());
    }

    let mut data = Vec::with_capacity(samples * rec.channels.len() * rec.data_type.size());
    for block in 0..sequences {
        for c in &rec.channels {
            for (k, v) in c
                .samples
                .iter()
                .enumerate()
                .skip(block * rec.block_length)
                .take(rec.block_length)
            {
                let bytes = sample_bytes(rec.data_type, i64::from(*v), le).ok_or_else(|| {
                    Error::encode(
                        format!("channel {:?} sample {k}", c.label),
                        format!("{v} does not fit {:?}", rec.data_type),
                    )
                })?;
                data.extend_from_slice(&bytes);
            }
        }
    }
    write_item(&mut out, tag::WAVEFORM_DATA, &data);
    out.extend_from_slice(&[tag::END, 0]);
    Ok(out)
}

/// `x = mantissa × 10^exponent` with the largest exponent (≤ 0) that makes the mantissa exact.
fn decimal(x: f64) -> Option<(i8, i64)> {
    if !(x.is_finite() && x > 0.0) {
        return None;
    }
    (0..=9).find_map(|places: i32| {
        let m = x * 10f64.powi(places);
        (m.abs() < 9.0e15 && (m - m.round()).abs() <= 1e-9 * m.abs().max(1.0))
            .then(|| (-places as i8, m.round() as i64))
    })
}

fn sensitivity_bytes(s: &MferSensitivity, le: bool) -> Vec<u8> {
    [&[s.unit, s.exponent as u8][..], &int_bytes(s.mantissa, le)].concat()
}

/// One value in the data type, or `None` when it does not fit.
fn sample_bytes(t: MferDataType, v: i64, le: bool) -> Option<Vec<u8>> {
    let be: Vec<u8> = match t {
        MferDataType::Int16 => i16::try_from(v).ok()?.to_be_bytes().to_vec(),
        MferDataType::Uint16 | MferDataType::Status16 => {
            u16::try_from(v).ok()?.to_be_bytes().to_vec()
        }
        MferDataType::Int32 => i32::try_from(v).ok()?.to_be_bytes().to_vec(),
        MferDataType::Uint8 => vec![u8::try_from(v).ok()?],
        MferDataType::Int8 => i8::try_from(v).ok()?.to_be_bytes().to_vec(),
    };
    Some(order(&be, le))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_become_exact_decimals() {
        assert_eq!(decimal(360.0), Some((0, 360)));
        assert_eq!(decimal(0.5), Some((-1, 5)));
        assert_eq!(decimal(8.1777), Some((-4, 81777)));
        assert_eq!(decimal(0.0), None);
    }
}
