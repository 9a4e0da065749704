//! Statistics for proving the performance of a diagnostic device on existing data.
//!
//! Plain functions over counts and slices; no I/O, printing, files, environment or
//! threads. Each function cites the method it implements in its module doc. Invalid
//! input is a [`StatsError`]; a quantity the data cannot estimate is `None` (JSON
//! `null`), never NaN and never a panic. Every result type serialises with `serde` so
//! the CLI can emit it as JSON; the common currency is [`Estimate`]
//! (`{"estimate", "lower", "upper"}`).
//!
//! Modules:
//! - [`proportion`]: intervals for one proportion (Wilson, Clopper–Pearson,
//!   Agresti–Coull, Jeffreys).
//! - [`binary`]: a binary test against a reference standard (sensitivity, specificity,
//!   PPV, NPV, accuracy, prevalence, likelihood ratios, DOR, Youden's J).
//! - `dist`: the distribution functions underneath (normal, beta, gamma, binomial),
//!   written here and validated against scipy.

pub mod agreement;
pub mod binary;
pub mod bootstrap;
pub mod criteria;
pub mod dist;
pub mod error;
pub mod estimate;
pub mod kappa;
pub mod paired;
pub mod proportion;
pub mod roc;
pub mod sample_size;

pub use agreement::{Agreement, agreement};
pub use binary::{BinaryAccuracy, TwoByTwo, binary_accuracy};
pub use criteria::{Criterion, Metric, Verdict, evaluate};
pub use error::StatsError;
pub use estimate::Estimate;
pub use kappa::{CohenKappa, FleissKappa, KappaWeights, RaterKappa, cohen_kappa, fleiss_kappa, rater_kappa};
pub use paired::{McNemar, PairedAccuracy, PairedTable, mcnemar, paired_accuracy, paired_difference};
pub use bootstrap::{BootstrapAuc, Resampling, bca_interval, bootstrap_auc, percentile_interval};
pub use proportion::{ProportionCi, proportion_ci};
pub use roc::{AucDelong, DelongTest, RocCurve, auc_delong, delong_test, roc_curve};
pub use sample_size::{
    AucSampleSize, AucVariance, ProportionSampleSize, auc_sample_size, proportion_sample_size, total_for_fraction,
};
