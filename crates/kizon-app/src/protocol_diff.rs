//! What an amendment changed in study.toml, key by key (`endpoints[0].lower_bound_at_least:
//! 0.8 → 0.3`), and which of those keys are pre-specified: fixed before any result is seen.
//!
//! A reviewer reads the differences, not two hashes; and after the device's results are in, a
//! change to a pre-specified key would let the criteria follow the results, so it is refused
//! (see [`PRESPECIFIED`] and `Study::amend`).

use std::collections::BTreeMap;

use serde::Serialize;

/// One key that an amendment added, removed or changed (values as TOML).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyChange {
    pub key: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl KeyChange {
    /// `key: old → new`, with `（なし）/ (none)` for a side that is absent.
    pub fn describe(&self, absent: &str) -> String {
        format!(
            "{}: {} → {}",
            self.key,
            self.old.as_deref().unwrap_or(absent),
            self.new.as_deref().unwrap_or(absent)
        )
    }
}

/// The parts of the protocol that are pre-specified: the endpoints and their acceptance
/// criteria, the analysis (sets, subgroups, thresholds), the eligibility criteria (who is
/// analysed), the reference standard and how it is decided, lesion matching, result tables.
pub const PRESPECIFIED: &[&str] = &[
    "(protocol)",
    "checks",
    "endpoints",
    "analysis",
    "eligibility",
    "reference",
    "lesions",
    "tables",
    "design.reference_standard",
];

/// Whether a change to `key` changes something pre-specified.
pub fn is_prespecified(key: &str) -> bool {
    PRESPECIFIED.iter().any(|prefix| {
        key == *prefix
            || key
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
    })
}

/// The key-level differences between two protocol texts, in key order. A text that does not
/// parse as TOML gives one change of the whole text (`(protocol)`).
pub fn changes(old: &str, new: &str) -> Vec<KeyChange> {
    let (Ok(old_value), Ok(new_value)) = (old.parse::<toml::Table>(), new.parse::<toml::Table>())
    else {
        return vec![KeyChange {
            key: "(protocol)".into(),
            old: Some(old.to_owned()),
            new: Some(new.to_owned()),
        }];
    };
    let (mut before, mut after) = (BTreeMap::new(), BTreeMap::new());
    flatten("", &toml::Value::Table(old_value), &mut before);
    flatten("", &toml::Value::Table(new_value), &mut after);
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| KeyChange {
            key: k.clone(),
            old: before.get(k).cloned(),
            new: after.get(k).cloned(),
        })
        .collect()
}

/// Leaves of a TOML value by dotted path; arrays of tables by index, arrays of plain values
/// as one value.
fn flatten(prefix: &str, value: &toml::Value, out: &mut BTreeMap<String, String>) {
    match value {
        toml::Value::Table(table) => {
            for (key, value) in table {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, value, out);
            }
        }
        toml::Value::Array(items) if items.iter().any(toml::Value::is_table) => {
            for (i, item) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), item, out);
            }
        }
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loosened_criterion_is_one_prespecified_change() {
        let old = "[study]\nid = \"A\"\n[[endpoints]]\nid = \"p\"\nlower_bound_at_least = 0.80\n";
        let new = "[study]\nid = \"A\"\n[[endpoints]]\nid = \"p\"\nlower_bound_at_least = 0.30\n";
        let found = changes(old, new);
        assert_eq!(
            found,
            vec![KeyChange {
                key: "endpoints[0].lower_bound_at_least".into(),
                old: Some("0.8".into()),
                new: Some("0.3".into()),
            }]
        );
        assert!(is_prespecified(&found[0].key));
        assert_eq!(
            found[0].describe("-"),
            "endpoints[0].lower_bound_at_least: 0.8 → 0.3"
        );
    }

    #[test]
    fn added_removed_and_unchanged_keys() {
        let old = "[device]\nversion = \"1.0\"\n[analysis]\nsubgroups = [\"sex\"]\n";
        let new = "[device]\nversion = \"1.1\"\nintended_use = \"x\"\n";
        let found = changes(old, new);
        let keys: Vec<&str> = found.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "analysis.subgroups",
                "device.intended_use",
                "device.version"
            ]
        );
        assert_eq!(found[0].new, None);
        assert_eq!(found[1].old, None);
        assert!(is_prespecified("analysis.subgroups"));
        assert!(!is_prespecified("device.version"));
        assert!(!is_prespecified("analysisx"));
        assert!(is_prespecified("design.reference_standard"));
        assert!(!is_prespecified("design.novelty"));
        assert!(changes(old, old).is_empty());
    }
}
