//! `[specimens]`: what a study of residual specimens (残余検体, Q4) fixes in advance about its
//! specimens: from when their cases' collection dates must show they already existed (Q2), the analyser's measuring
//! interval and the physiological limits, the unit, and the pre-analytical limits —
//! freeze–thaw cycles, HIL indices, the time between the two methods, and the stability of
//! each specimen type at each storage temperature (Q7). `kizon check` turns what breaks them
//! into findings (kizon-checks, `specimens`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use kizon_vocab::{SpecimenType, StorageTemperature};

use crate::ProtocolError;

/// `[specimens]`, checked.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct SpecimenPlan {
    /// The day the study began collecting residual specimens. A specimen collected on it or
    /// later is still existing data if it had been collected when its case was collected for
    /// the test (Q2); `kizon check` asks for the case's collection date to show it.
    pub collection_start: Option<time::Date>,
    /// The unit every quantitative result must be in (e.g. `mmol/mol`).
    pub unit: Option<String>,
    /// The analyser's measuring interval `[low, high]` (測定範囲).
    pub measuring_interval: Option<[f64; 2]>,
    /// Values outside these are medically implausible (Q7).
    pub physiological_limits: Option<[f64; 2]>,
    pub max_freeze_thaw: Option<u32>,
    /// The longest time between the comparator's and the device's analysis, in hours.
    pub max_hours_between_methods: Option<f64>,
    /// The largest haemolysis, icterus and lipaemia indices an analysable specimen may have.
    pub hil: HilLimits,
    /// Per specimen type and storage temperature, the longest time from collection to
    /// analysis, in hours.
    pub stability: BTreeMap<SpecimenType, BTreeMap<StorageTemperature, f64>>,
}

/// `[specimens.hil]`: serum index limits (pre-analytical interference, CLSI C56).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HilLimits {
    pub haemolysis: Option<f64>,
    pub icterus: Option<f64>,
    pub lipaemia: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSpecimens {
    collection_start: Option<Spanned<toml::value::Datetime>>,
    unit: Option<String>,
    measuring_interval: Option<Spanned<[f64; 2]>>,
    physiological_limits: Option<Spanned<[f64; 2]>>,
    max_freeze_thaw: Option<u32>,
    max_hours_between_methods: Option<Spanned<f64>>,
    hil: Option<Spanned<HilLimits>>,
    #[serde(default)]
    stability: BTreeMap<SpecimenType, BTreeMap<StorageTemperature, Spanned<String>>>,
}

type Invalid<'a> = dyn Fn(std::ops::Range<usize>, &str, String, &str) -> ProtocolError + 'a;

impl RawSpecimens {
    pub(crate) fn into_plan(self, invalid: &Invalid<'_>) -> Result<SpecimenPlan, ProtocolError> {
        let collection_start = match self.collection_start {
            None => None,
            Some(spanned) => Some(crate::raw::to_date(spanned.get_ref()).ok_or_else(|| {
                invalid(
                    spanned.span(),
                    "specimens.collection_start",
                    format!("`{}` is not a calendar date", spanned.get_ref()),
                    "write a TOML date without time, e.g. collection_start = 2026-04-01",
                )
            })?),
        };
        for (name, range) in [
            ("measuring_interval", &self.measuring_interval),
            ("physiological_limits", &self.physiological_limits),
        ] {
            if let Some(range) = range {
                let [low, high] = *range.get_ref();
                if !(low.is_finite() && high.is_finite() && low < high) {
                    return Err(invalid(
                        range.span(),
                        &format!("specimens.{name}"),
                        format!("[{low}, {high}] is not a range"),
                        "write [low, high] with low < high, in the protocol's unit",
                    ));
                }
            }
        }
        if let Some(hours) = &self.max_hours_between_methods
            && !(hours.get_ref().is_finite() && *hours.get_ref() >= 0.0)
        {
            return Err(invalid(
                hours.span(),
                "specimens.max_hours_between_methods",
                format!("{} is not a number of hours", hours.get_ref()),
                "write the hours as a number ≥ 0, e.g. max_hours_between_methods = 24",
            ));
        }
        let hil_span = self.hil.as_ref().map_or(0..0, |h| h.span());
        let hil = self.hil.map(Spanned::into_inner).unwrap_or_default();
        for (name, limit) in [
            ("haemolysis", hil.haemolysis),
            ("icterus", hil.icterus),
            ("lipaemia", hil.lipaemia),
        ] {
            if let Some(limit) = limit
                && !(limit.is_finite() && limit >= 0.0)
            {
                return Err(invalid(
                    hil_span.clone(),
                    &format!("specimens.hil.{name}"),
                    format!("{limit} is not an index limit"),
                    "write the largest index an analysable specimen may have, a number ≥ 0",
                ));
            }
        }
        let mut stability = BTreeMap::new();
        for (specimen_type, limits) in self.stability {
            let mut hours_at = BTreeMap::new();
            for (storage, limit) in limits {
                let hours = duration_hours(limit.get_ref()).ok_or_else(|| {
                    invalid(
                        limit.span(),
                        &format!("specimens.stability.{specimen_type}.{storage}"),
                        format!("`{}` is not a duration", limit.get_ref()),
                        "write hours or days: \"8h\", \"7d\"",
                    )
                })?;
                hours_at.insert(storage, hours);
            }
            stability.insert(specimen_type, hours_at);
        }
        Ok(SpecimenPlan {
            collection_start,
            unit: self.unit,
            measuring_interval: self.measuring_interval.map(Spanned::into_inner),
            physiological_limits: self.physiological_limits.map(Spanned::into_inner),
            max_freeze_thaw: self.max_freeze_thaw,
            max_hours_between_methods: self.max_hours_between_methods.map(Spanned::into_inner),
            hil,
            stability,
        })
    }
}

/// `"8h"` or `"7d"` (also `"36 h"`, `"1.5d"`) in hours.
fn duration_hours(text: &str) -> Option<f64> {
    let text = text.trim();
    let (number, per) = if let Some(n) = text.strip_suffix(['h', 'H']) {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix(['d', 'D']) {
        (n, 24.0)
    } else {
        return None;
    };
    let value: f64 = number.trim().parse().ok()?;
    (value.is_finite() && value > 0.0).then_some(value * per)
}

#[cfg(test)]
mod tests {
    use super::duration_hours;

    #[test]
    fn durations_read_in_hours() {
        assert_eq!(duration_hours("8h"), Some(8.0));
        assert_eq!(duration_hours("7d"), Some(168.0));
        assert_eq!(duration_hours(" 1.5 d"), Some(36.0));
        assert_eq!(duration_hours("8"), None);
        assert_eq!(duration_hours("0h"), None);
        assert_eq!(duration_hours("-1d"), None);
        assert_eq!(duration_hours("weekh"), None);
    }
}
