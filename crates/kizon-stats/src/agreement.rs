//! Agreement of a new test with a comparator method that is not a reference standard.
//!
//! Following the FDA *Statistical Guidance on Reporting Results from Studies
//! Evaluating Diagnostic Tests* (2007), §7.2, agreement is reported as positive,
//! negative and overall percent agreement (PPA = a/(a+c), NPA = d/(b+d),
//! OPA = (a+d)/n, with a = both positive, b = new test positive only, c = comparator
//! positive only, d = both negative) rather than as sensitivity and specificity, each
//! with the chosen [`ProportionCi`], plus Cohen's kappa (see [`crate::kappa`]).

use serde::Serialize;

use crate::binary::TwoByTwo;
use crate::error::StatsError;
use crate::estimate::Estimate;
use crate::kappa::{KappaWeights, cohen_kappa};
use crate::proportion::{ProportionCi, proportion_ci};

/// Agreement with a comparator; `null` fields are not estimable (e.g. PPA with no
/// comparator-positive case).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agreement {
    pub ppa: Option<Estimate>,
    pub npa: Option<Estimate>,
    pub opa: Option<Estimate>,
    pub kappa: Option<Estimate>,
}

/// PPA, NPA, OPA and Cohen's kappa of a new test against a comparator. The table is
/// read with the comparator in the place of the reference: `tp` = both positive,
/// `fp` = new test positive only, `fn_` = comparator positive only, `tn` = both negative.
pub fn agreement(table: &TwoByTwo, ci: ProportionCi, level: f64) -> Result<Agreement, StatsError> {
    let t = table;
    let kappa_table = [vec![t.tp, t.fp], vec![t.fn_, t.tn]];
    Ok(Agreement {
        ppa: proportion_ci(t.tp, t.diseased(), ci, level)?,
        npa: proportion_ci(t.tn, t.non_diseased(), ci, level)?,
        opa: proportion_ci(t.tp + t.tn, t.total(), ci, level)?,
        kappa: cohen_kappa(&kappa_table, KappaWeights::Unweighted, level)?.map(|k| k.kappa),
    })
}
