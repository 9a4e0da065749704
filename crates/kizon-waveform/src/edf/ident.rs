//! The EDF+ identification subfields (EDF+ spec §2.1.3.3 and §2.1.3.4).
//!
//! The 80-character patient field holds, separated by spaces: hospital code, sex (`F`/`M`),
//! birthdate (`dd-MMM-yyyy`), name (spaces replaced by `_`), then optional free subfields. The
//! recording field holds `Startdate dd-MMM-yyyy`, admin code, technician, equipment, then optional
//! subfields. A subfield that is unknown, not applicable or **removed for anonymity** is `X`.

use serde::Serialize;

use crate::datetime::{iso_date, month_from_abbrev};

/// The EDF+ patient subfields; `None` where the file has `X`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatientFields {
    pub code: Option<String>,
    pub sex: Option<String>,
    /// As written (`dd-MMM-yyyy`).
    pub birthdate: Option<String>,
    /// As written, with `_` for spaces.
    pub name: Option<String>,
    pub additional: Vec<String>,
}

impl PatientFields {
    /// `None` unless the field has the four mandatory EDF+ subfields.
    pub fn parse(field: &str) -> Option<PatientFields> {
        let mut parts = field.split_whitespace();
        let (code, sex, birthdate, name) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        Some(PatientFields {
            code: known(code),
            sex: known(sex),
            birthdate: known(birthdate),
            name: known(name),
            additional: parts.map(str::to_string).collect(),
        })
    }

    /// Birthdate as ISO `YYYY-MM-DD`, if present and well formed.
    pub fn birthdate_iso(&self) -> Option<String> {
        let (y, m, d) = edf_plus_date(self.birthdate.as_deref()?)?;
        iso_date(y, m, d)
    }
}

/// The EDF+ recording subfields; `None` where the file has `X`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordingFields {
    /// As written after "Startdate" (`dd-MMM-yyyy`).
    pub startdate: Option<String>,
    pub admin_code: Option<String>,
    pub technician: Option<String>,
    pub equipment: Option<String>,
    pub additional: Vec<String>,
}

impl RecordingFields {
    /// `None` unless the field starts with the EDF+ keyword `Startdate`.
    pub fn parse(field: &str) -> Option<RecordingFields> {
        let mut parts = field.split_whitespace();
        if parts.next()? != "Startdate" {
            return None;
        }
        let mut next = || parts.next().and_then(known);
        let (startdate, admin_code, technician, equipment) = (next(), next(), next(), next());
        Some(RecordingFields {
            startdate,
            admin_code,
            technician,
            equipment,
            additional: parts.map(str::to_string).collect(),
        })
    }

    /// Startdate as `(year, month, day)`, if present and well formed.
    pub fn startdate_ymd(&self) -> Option<(i64, u32, u32)> {
        let ymd = edf_plus_date(self.startdate.as_deref()?)?;
        iso_date(ymd.0, ymd.1, ymd.2).map(|_| ymd)
    }
}

/// Whether an EDF patient field carries only a provider's pseudonym: a code, birthdate and name
/// `X`, and the one additional subfield [`crate::PSEUDONYM_MARK`] (what kizon-deid writes; sex may
/// be given).
pub fn is_pseudonymised(patient_field: &str) -> bool {
    PatientFields::parse(patient_field).is_some_and(|p| {
        p.code.is_some()
            && p.birthdate.is_none()
            && p.name.is_none()
            && p.additional == [crate::PSEUDONYM_MARK]
    })
}

/// Whether an EDF patient field carries no identifying content.
///
/// True when the field is blank, or when it follows EDF+ and the hospital code, birthdate and name
/// are all `X` and every additional subfield is `X` too. Sex may be given: alone it does not
/// identify a person, and EDF+ anonymisers (e.g. pyedflib, EDFbrowser) keep it. A field that does not
/// follow EDF+ (plain EDF free text) is treated as identifying: free text cannot be judged
/// mechanically, so it is left to a person to check.
pub fn is_anonymized(patient_field: &str) -> bool {
    if patient_field.trim().is_empty() {
        return true;
    }
    PatientFields::parse(patient_field).is_some_and(|p| {
        p.code.is_none()
            && p.birthdate.is_none()
            && p.name.is_none()
            && p.additional.iter().all(|a| a == "X")
    })
}

fn known(subfield: &str) -> Option<String> {
    (subfield != "X").then(|| subfield.to_string())
}

/// `dd-MMM-yyyy` → `(year, month, day)`.
fn edf_plus_date(s: &str) -> Option<(i64, u32, u32)> {
    let mut parts = s.split('-');
    let day = parts.next()?.parse().ok()?;
    let month = month_from_abbrev(parts.next()?)?;
    let year = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((year, month, day))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x_means_removed_so_all_x_is_anonymous() {
        assert!(is_anonymized("X X X X"));
        assert!(is_anonymized("X F X X"));
        assert!(is_anonymized("   "));
        assert!(!is_anonymized("X F 20-JAN-1998 X,X"));
        assert!(!is_anonymized("X X X X the_patient_lives_in_Kyoto"));
        assert!(!is_anonymized("Yamada Taro"));
    }

    #[test]
    fn recording_startdate_is_parsed() {
        let r = RecordingFields::parse("Startdate 04-APR-2011 Dr._X Mr._Spotty test_generator")
            .unwrap();
        assert_eq!(r.startdate_ymd(), Some((2011, 4, 4)));
        assert_eq!(r.equipment.as_deref(), Some("test_generator"));
        assert_eq!(
            RecordingFields::parse("Startdate X X X X")
                .unwrap()
                .startdate_ymd(),
            None
        );
    }
}
