//! One residual specimen (残余検体) as kizon keeps it: a row of a laboratory's export, typed.
//!
//! `kizon specimens import` reads the rows (kizon-app, through kizon-tables); what it keeps of
//! each is a [`SpecimenRecord`] in the item's [`crate::Metadata`], and the item's SHA-256 is
//! that of the record's stored form, so the dataset's Merkle root fixes every pre-analytical
//! fact and every result of every specimen. The checks of kizon-checks read the record.
//!
//! Values are kept as written (`6.52`, `<0.5`, `>1000`): full precision for the identical-row
//! check (Q7), and a laboratory's censored results (below or above what the analyser
//! measures) are not turned into numbers they are not.

use serde::{Deserialize, Serialize};

use kizon_vocab::{Label, SpecimenType, StorageTemperature};

/// A specimen's pre-analytical facts and the results of both methods on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecimenRecord {
    pub specimen_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barcode: Option<String>,
    pub specimen_type: SpecimenType,
    /// `YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ss`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collected_at: Option<String>,
    /// The day its case was collected for the test (症例の収集日, `YYYY-MM-DD`): the specimen is
    /// existing data when it had been collected by then (Q2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_collection_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<StorageTemperature>,
    /// The storage temperature, when the export gives it in °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_celsius: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeze_thaw_cycles: Option<u32>,
    /// Serum indices of haemolysis, icterus and lipaemia (HIL), in the analyser's units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub haemolysis_index: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icterus_index: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lipaemia_index: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residual_volume_ul: Option<f64>,
    /// The comparator method's result (対照法).
    pub comparator: MethodResult,
    /// The device's result (被験機器).
    pub device: MethodResult,
}

/// One method's result on a specimen: when it was analysed, a quantitative value with its
/// unit, a qualitative judgement, or both.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MethodResult {
    /// `YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ss`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysed_at: Option<String>,
    /// As written: a number, or `<x` / `>x` for a result below or above what was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judgement: Option<Label>,
}

/// A result value read: a number, or a bound the laboratory reported instead.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Number(f64),
    /// `<x`: below `x` (under the analyser's measuring interval).
    Below(f64),
    /// `>x`: above `x`.
    Above(f64),
}

impl Value {
    /// Reads `6.52`, `<0.5`, `< 0.5`, `>1000`, `≥` and `≤` as bounds too; `None` otherwise.
    pub fn parse(text: &str) -> Option<Value> {
        let text = text.trim();
        let number = |s: &str| -> Option<f64> {
            s.trim()
                .replace(['−', '－'], "-")
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
        };
        if let Some(rest) = text.strip_prefix(['<', '≤', '＜']) {
            return number(rest.trim_start_matches('=')).map(Value::Below);
        }
        if let Some(rest) = text.strip_prefix(['>', '≥', '＞']) {
            return number(rest.trim_start_matches('=')).map(Value::Above);
        }
        number(text).map(Value::Number)
    }

    /// The number, when the value is one.
    pub fn number(self) -> Option<f64> {
        match self {
            Value::Number(v) => Some(v),
            Value::Below(_) | Value::Above(_) => None,
        }
    }
}

impl MethodResult {
    /// The value read ([`Value::parse`]); `None` when there is none.
    pub fn parsed_value(&self) -> Option<Value> {
        self.value.as_deref().and_then(Value::parse)
    }
}

impl SpecimenRecord {
    /// The stored form hashed for the item's SHA-256: JSON, fields in declaration order,
    /// absent fields omitted.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a specimen record serialises")
    }
}

/// Minutes since 0000-03-01T00:00 of `YYYY-MM-DD` (midnight) or `YYYY-MM-DDThh:mm[:ss]`, for
/// the intervals the specimen checks measure (stability, methods run apart).
pub fn minute_number(date_time: &str) -> Option<i64> {
    let day = crate::calendar_day_number(date_time)?;
    let minutes = match date_time.get(10..) {
        None | Some("") => 0,
        Some(time) => {
            let time = time.strip_prefix(['T', ' '])?;
            let hour: i64 = time.get(0..2)?.parse().ok()?;
            let minute: i64 = time.get(3..5)?.parse().ok()?;
            if time.get(2..3)? != ":" || hour > 23 || minute > 59 {
                return None;
            }
            hour * 60 + minute
        }
    };
    Some(day * 24 * 60 + minutes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laboratory_values_read_with_their_bounds() {
        assert_eq!(Value::parse("6.52"), Some(Value::Number(6.52)));
        assert_eq!(Value::parse("<0.5"), Some(Value::Below(0.5)));
        assert_eq!(Value::parse("< 0.5"), Some(Value::Below(0.5)));
        assert_eq!(Value::parse(">1000"), Some(Value::Above(1000.0)));
        assert_eq!(Value::parse("≥=3"), Some(Value::Above(3.0)));
        assert_eq!(Value::parse("−1.5"), Some(Value::Number(-1.5)));
        assert_eq!(Value::parse("－1.5"), Some(Value::Number(-1.5)));
        assert_eq!(Value::parse("6.5%"), None);
        assert_eq!(Value::parse("NaN"), None);
        assert_eq!(Value::parse(""), None);
    }

    #[test]
    fn minutes_count_across_days_and_refuse_impossible_times() {
        let at = |s| minute_number(s).unwrap();
        assert_eq!(at("2026-03-02T00:10") - at("2026-03-01T23:50"), 20);
        assert_eq!(at("2024-03-01") - at("2024-02-28"), 2 * 24 * 60);
        assert_eq!(at("2026-01-01 08:30:15") - at("2026-01-01"), 8 * 60 + 30);
        assert_eq!(minute_number("2026-01-01T24:00"), None);
        assert_eq!(minute_number("2026-13-01"), None);
        assert_eq!(minute_number("2026-01-01X08:00"), None);
    }

    #[test]
    fn a_record_hashes_what_it_holds() {
        let record = SpecimenRecord {
            specimen_id: "S-1".into(),
            barcode: None,
            specimen_type: SpecimenType::Serum,
            collected_at: Some("2025-01-02T08:00:00".into()),
            case_collection_date: None,
            storage: Some(StorageTemperature::Frozen),
            storage_celsius: Some(-20.0),
            freeze_thaw_cycles: Some(1),
            haemolysis_index: None,
            icterus_index: None,
            lipaemia_index: None,
            residual_volume_ul: Some(250.0),
            comparator: MethodResult {
                value: Some("6.5".into()),
                ..MethodResult::default()
            },
            device: MethodResult::default(),
        };
        let bytes = record.canonical_bytes();
        let back: SpecimenRecord = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, record);
        let mut other = record.clone();
        other.comparator.value = Some("6.50".into());
        assert_ne!(other.canonical_bytes(), bytes);
    }
}
