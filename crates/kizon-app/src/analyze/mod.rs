//! `kizon analyze`: every endpoint of the protocol, evaluated with the statistics engine on the
//! locked dataset, the locked reference standard and the device's results.
//!
//! The analysis is a pure function of its inputs (protocol, dataset, reference standard,
//! results, decisions on findings), whose hashes it records; its output is canonical JSON with
//! no clock in it, stored once per input hash, so a rerun gives byte-identical output and adds
//! nothing to the ledger. Every count keeps the case ids behind it (the report's traceability
//! appendix and the evidence package point at them).
//!
//! What it reports:
//! - the STARD 2015 flow (Bossuyt et al. 2015, item 19): collected → excluded with reasons →
//!   included → without reference / indeterminate reference / without device result /
//!   indeterminate device result → analysed;
//! - each endpoint: the 2×2 table (or the AUC), the estimate with the protocol's interval,
//!   the verdict against its acceptance criterion; against a comparator method the agreement
//!   measures (PPA/NPA/OPA), never labelled sensitivity (FDA 2007 statistical guidance);
//! - when a patient contributes several cases, a clustered interval (Obuchowski 1998) beside
//!   the protocol's;
//! - subgroups (`[analysis] subgroups`) and sensitivity analyses: indeterminate device results
//!   counted as positive, and as negative; cases with accepted findings left out;
//! - for a study of specimens, each `[[method_comparison]]` (CLSI EP09c) on the dataset's
//!   specimen records, with its acceptance criteria (`method_comparison.rs`).

mod compute;
mod counts;
mod endpoints;
mod lesion_analysis;
mod method_comparison;
mod model;
mod reader_study;

pub use counts::*;
pub(crate) use endpoints::proportion_ci;
use endpoints::*;
use lesion_analysis::*;
pub use method_comparison::{CriterionResult, MethodComparisonResult, NotAnalysed};
pub use model::*;
use reader_study::*;

use std::collections::{BTreeMap, BTreeSet};

use kizon_protocol::{Endpoint, Metric, ReferenceStandard, Subgroup};
use kizon_stats::{Estimate, ProportionCi, TwoByTwo};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::check::FindingStatus;
use crate::dataset::Dataset;
use crate::reference::{Label, PanelAgreement, REFERENCE};
use crate::{AppError, Study, sha256_hex};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_bands_sort_by_age_and_other_levels_by_name() {
        let mut levels = vec!["≥65", "40–64", "<40", "unknown"];
        levels.sort_by(|a, b| compare_levels(a, b));
        assert_eq!(levels, ["<40", "40–64", "≥65", "unknown"]);
    }

    #[test]
    fn age_bands_read_like_a_table() {
        let cuts = [40.0, 65.0];
        assert_eq!(age_band(12.0, &cuts), "<40");
        assert_eq!(age_band(40.0, &cuts), "40–64");
        assert_eq!(age_band(64.9, &cuts), "40–64");
        assert_eq!(age_band(65.0, &cuts), "≥65");
    }
}
