//! study.toml as serde reads it, with the position of every deciding key, and its conversion
//! into a checked [`Protocol`].

use serde::Deserialize;
use toml::Spanned;

use crate::consistency::{self, KeyAt};
use crate::{
    BilingualText, CiMethod, CorrespondenceTable, DataKind, Design, Device, Eligibility, Endpoint,
    Location, Metric, Novelty, Privacy, Protocol, ProtocolError, ReferenceStandard,
    SourceDataVerification, Study,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProtocol {
    study: RawStudy,
    device: RawDevice,
    design: RawDesign,
    #[serde(default)]
    eligibility: RawEligibility,
    #[serde(default)]
    endpoints: Vec<RawEndpoint>,
    #[serde(default)]
    checks: crate::CheckParameters,
    #[serde(default)]
    reference: RawReference,
    #[serde(default)]
    analysis: RawAnalysis,
    #[serde(default)]
    tables: Vec<Spanned<crate::TableSpec>>,
    lesions: Option<Spanned<RawLesions>>,
    sample_size: Option<RawSampleSize>,
    #[serde(default)]
    reading: crate::reading::RawReading,
    specimens: Option<crate::specimens::RawSpecimens>,
    #[serde(default)]
    method_comparison: Vec<Spanned<crate::method_comparison::RawMethodComparison>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSampleSize {
    expected: Spanned<f64>,
    #[serde(default = "default_power")]
    power: Spanned<f64>,
    prevalence: Option<Spanned<f64>>,
    planned_cases: Option<u64>,
    rationale: Option<RawText>,
}

fn default_power() -> Spanned<f64> {
    Spanned::new(0..0, 0.8)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLesions {
    criterion: crate::LesionCriterion,
    radius: Option<Spanned<f64>>,
    threshold: Option<Spanned<f64>>,
    units: Option<crate::LesionUnits>,
    k: Option<Spanned<u32>>,
    adjudication: Option<bool>,
    duplicates: Option<crate::DuplicateMarks>,
    rating_threshold: Option<Spanned<f64>>,
    #[serde(default)]
    types: Vec<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawReference {
    consensus: Option<Spanned<crate::Consensus>>,
    k: Option<Spanned<u32>>,
    minimum_reads: Option<Spanned<u32>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAnalysis {
    #[serde(default)]
    subgroups: Vec<crate::Subgroup>,
    age_bands: Option<Spanned<Vec<f64>>>,
    score_threshold: Option<f64>,
    bootstrap_replicates: Option<Spanned<u32>>,
    seed: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStudy {
    id: String,
    title: String,
    title_en: Option<String>,
    sponsor: String,
    sponsor_en: Option<String>,
    planned_on: Option<Spanned<toml::value::Datetime>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDevice {
    name: String,
    version: Option<String>,
    novelty: Novelty,
    intended_use: Option<String>,
    intended_use_en: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDesign {
    pub linked_clinical_info: Spanned<bool>,
    pub reference_standard: Spanned<ReferenceStandard>,
    pub privacy: Spanned<Privacy>,
    pub correspondence_table: Spanned<CorrespondenceTable>,
    pub data_kinds: Spanned<Vec<DataKind>>,
    pub source_data_verification: Option<Spanned<SourceDataVerification>>,
    pub source_data_verification_reason: Option<RawText>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawEligibility {
    #[serde(default)]
    inclusion: Vec<RawText>,
    #[serde(default)]
    exclusion: Vec<RawText>,
}

/// A criterion as written: `"…"`, or `{ ja = "…", en = "…" }` in two languages.
#[derive(Deserialize)]
#[serde(
    untagged,
    expecting = "a string, or a table { ja = \"…\", en = \"…\" }"
)]
pub(crate) enum RawText {
    Written(String),
    Bilingual(RawBilingual),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBilingual {
    ja: String,
    en: String,
}

impl From<RawText> for BilingualText {
    fn from(raw: RawText) -> Self {
        match raw {
            RawText::Written(text) => BilingualText { text, en: None },
            RawText::Bilingual(RawBilingual { ja, en }) => BilingualText {
                text: ja,
                en: Some(en),
            },
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEndpoint {
    id: Spanned<String>,
    primary: Option<Spanned<bool>>,
    pub metric: Spanned<Metric>,
    #[serde(default = "default_ci")]
    ci: CiMethod,
    #[serde(default = "default_level")]
    level: Spanned<f64>,
    lower_bound_at_least: Option<Spanned<f64>>,
    estimate_at_least: Option<Spanned<f64>>,
}

fn default_ci() -> CiMethod {
    CiMethod::Wilson
}

fn default_level() -> Spanned<f64> {
    Spanned::new(0..0, 0.95)
}

impl RawProtocol {
    pub(crate) fn into_protocol(self, source: &str) -> Result<Protocol, ProtocolError> {
        let at = |span: std::ops::Range<usize>| Location::of_offset(source, span.start);
        let invalid = |span, key: &str, message: String, hint: &str| ProtocolError::Invalid {
            location: at(span),
            key: key.to_owned(),
            message,
            hint: hint.to_owned(),
        };

        let planned_on = match self.study.planned_on {
            None => None,
            Some(spanned) => Some(to_date(spanned.get_ref()).ok_or_else(|| {
                invalid(
                    spanned.span(),
                    "study.planned_on",
                    format!("`{}` is not a calendar date", spanned.get_ref()),
                    "write a TOML date without time, e.g. planned_on = 2026-11-25",
                )
            })?),
        };

        if self.design.data_kinds.get_ref().is_empty() {
            return Err(invalid(
                self.design.data_kinds.span(),
                "design.data_kinds",
                "lists no kind of data".to_owned(),
                &format!("name at least one of {}", DataKind::choices()),
            ));
        }

        let mut endpoints: Vec<Endpoint> = Vec::with_capacity(self.endpoints.len());
        for (index, raw) in self.endpoints.iter().enumerate() {
            let key = |field: &str| format!("endpoints[{index}].{field}");
            let metric = *raw.metric.get_ref();
            if !metric.is_endpoint() {
                return Err(invalid(
                    raw.metric.span(),
                    &key("metric"),
                    format!("`{metric}` is not an endpoint metric"),
                    &format!("use one of {}", Metric::endpoint_choices()),
                ));
            }
            let level = *raw.level.get_ref();
            if !(level > 0.0 && level < 1.0) {
                return Err(invalid(
                    raw.level.span(),
                    &key("level"),
                    format!("{level} is not a confidence level"),
                    "use a number between 0 and 1, e.g. level = 0.95",
                ));
            }
            for (field, bound) in [
                ("lower_bound_at_least", &raw.lower_bound_at_least),
                ("estimate_at_least", &raw.estimate_at_least),
            ] {
                if let Some(bound) = bound {
                    let value = *bound.get_ref();
                    if !(0.0..=1.0).contains(&value) && *raw.metric.get_ref() != Metric::Kappa {
                        return Err(invalid(
                            bound.span(),
                            &key(field),
                            format!("{value} is not a proportion"),
                            "write proportions between 0 and 1, e.g. 0.80 for 80 %",
                        ));
                    }
                }
            }
            if endpoints.iter().any(|e| e.id == *raw.id.get_ref()) {
                return Err(invalid(
                    raw.id.span(),
                    &key("id"),
                    format!("endpoint id `{}` is used twice", raw.id.get_ref()),
                    "give every [[endpoints]] entry its own id",
                ));
            }
            let primary = raw.primary.as_ref().is_some_and(|p| *p.get_ref());
            if primary && endpoints.iter().any(|e| e.primary) {
                return Err(invalid(
                    raw.primary.as_ref().map_or(0..0, |p| p.span()),
                    &key("primary"),
                    "a second endpoint is marked primary".to_owned(),
                    "mark exactly one endpoint `primary = true`",
                ));
            }
            endpoints.push(Endpoint {
                id: raw.id.get_ref().clone(),
                primary,
                metric: *raw.metric.get_ref(),
                ci: raw.ci,
                level,
                lower_bound_at_least: raw.lower_bound_at_least.as_ref().map(|b| *b.get_ref()),
                estimate_at_least: raw.estimate_at_least.as_ref().map(|b| *b.get_ref()),
            });
        }

        let endpoint_metrics: Vec<KeyAt<Metric>> = self
            .endpoints
            .iter()
            .enumerate()
            .map(|(index, raw)| KeyAt {
                key: format!("endpoints[{index}].metric"),
                location: at(raw.metric.span()),
                value: *raw.metric.get_ref(),
            })
            .collect();
        consistency::check(&self.design, &endpoint_metrics, source)
            .map_err(ProtocolError::Contradiction)?;

        let mut tables: Vec<crate::TableSpec> = Vec::with_capacity(self.tables.len());
        for (index, spanned) in self.tables.iter().enumerate() {
            let spec = spanned.get_ref();
            let key = format!("tables[{index}]");
            if spec.columns.is_empty() {
                return Err(invalid(
                    spanned.span(),
                    &key,
                    "declares no column".into(),
                    "list the columns every such table has: columns = [\"specimen_id\", ...]",
                ));
            }
            if tables.iter().any(|t| t.name == spec.name) {
                return Err(invalid(
                    spanned.span(),
                    &key,
                    format!("table name `{}` is used twice", spec.name),
                    "give every [[tables]] entry its own name",
                ));
            }
            for (column, [low, high]) in &spec.reportable_range {
                if !spec.columns.contains(column) {
                    return Err(invalid(
                        spanned.span(),
                        &format!("{key}.reportable_range.{column}"),
                        format!("`{column}` is not among the table's columns"),
                        "add it to columns, or fix its name",
                    ));
                }
                if !(low.is_finite() && high.is_finite() && low < high) {
                    return Err(invalid(
                        spanned.span(),
                        &format!("{key}.reportable_range.{column}"),
                        format!("[{low}, {high}] is not a range"),
                        "write [low, high] with low < high, in the column's unit",
                    ));
                }
            }
            tables.push(spec.clone());
        }
        let reference = self.reference.into_plan(&invalid)?;
        let analysis = self.analysis.into_plan(&invalid)?;
        let lesions = match self.lesions {
            None => None,
            Some(raw) => Some(RawLesions::into_plan(raw, &invalid)?),
        };
        let sample_size = match self.sample_size {
            None => None,
            Some(raw) => {
                for (name, value) in [("expected", &raw.expected), ("power", &raw.power)]
                    .into_iter()
                    .chain(raw.prevalence.as_ref().map(|p| ("prevalence", p)))
                {
                    let v = *value.get_ref();
                    if !(v > 0.0 && v < 1.0) {
                        return Err(invalid(
                            value.span(),
                            &format!("sample_size.{name}"),
                            format!("{v} is not a proportion between 0 and 1"),
                            "write it as a fraction, e.g. expected = 0.92, power = 0.8, prevalence = 0.4",
                        ));
                    }
                }
                Some(crate::SampleSizePlan {
                    expected: raw.expected.into_inner(),
                    power: raw.power.into_inner(),
                    prevalence: raw.prevalence.map(Spanned::into_inner),
                    planned_cases: raw.planned_cases,
                    rationale: raw.rationale.map(Into::into),
                })
            }
        };
        let specimens = match self.specimens {
            None => None,
            Some(raw) => Some(raw.into_plan(&invalid)?),
        };
        let reading = self.reading.into_plan(&invalid)?;

        let method_comparisons = crate::method_comparison::plans(
            self.method_comparison,
            self.design
                .data_kinds
                .get_ref()
                .contains(&crate::DataKind::Specimen),
            &invalid,
        )?;
        let mut data_kinds = self.design.data_kinds.into_inner();
        data_kinds.sort();
        data_kinds.dedup();

        Ok(Protocol {
            study: Study {
                id: self.study.id,
                title: self.study.title,
                title_en: self.study.title_en,
                sponsor: self.study.sponsor,
                sponsor_en: self.study.sponsor_en,
                planned_on,
            },
            device: Device {
                name: self.device.name,
                version: self.device.version,
                novelty: self.device.novelty,
                intended_use: self.device.intended_use,
                intended_use_en: self.device.intended_use_en,
            },
            design: Design {
                linked_clinical_info: self.design.linked_clinical_info.into_inner(),
                reference_standard: self.design.reference_standard.into_inner(),
                privacy: self.design.privacy.into_inner(),
                correspondence_table: self.design.correspondence_table.into_inner(),
                data_kinds,
                source_data_verification: self
                    .design
                    .source_data_verification
                    .map(Spanned::into_inner),
                source_data_verification_reason: self
                    .design
                    .source_data_verification_reason
                    .map(Into::into),
            },
            eligibility: Eligibility {
                inclusion: self
                    .eligibility
                    .inclusion
                    .into_iter()
                    .map(Into::into)
                    .collect(),
                exclusion: self
                    .eligibility
                    .exclusion
                    .into_iter()
                    .map(Into::into)
                    .collect(),
            },
            endpoints,
            checks: self.checks,
            reference,
            analysis,
            tables,
            lesions,
            sample_size,
            reading,
            specimens,
            method_comparisons,
        })
    }
}

type Invalid<'a> = dyn Fn(std::ops::Range<usize>, &str, String, &str) -> ProtocolError + 'a;

impl RawReference {
    fn into_plan(self, invalid: &Invalid<'_>) -> Result<crate::ReferencePlan, ProtocolError> {
        let mut plan = crate::ReferencePlan::default();
        if let Some(consensus) = &self.consensus {
            plan.consensus = *consensus.get_ref();
        }
        if let Some(minimum) = &self.minimum_reads {
            if *minimum.get_ref() == 0 {
                return Err(invalid(
                    minimum.span(),
                    "reference.minimum_reads",
                    "0 reads cannot decide a case".into(),
                    "give the number of panel reads every case needs, e.g. minimum_reads = 3",
                ));
            }
            plan.minimum_reads = *minimum.get_ref();
        }
        match (&self.k, plan.consensus) {
            (None, crate::Consensus::KOfN) => {
                let span = self.consensus.as_ref().map_or(0..0, |c| c.span());
                return Err(invalid(
                    span,
                    "reference.k",
                    "`k-of-n` needs `k`, the positive reads that make a case positive".into(),
                    "add e.g. k = 2 under [reference]",
                ));
            }
            (Some(k), crate::Consensus::KOfN) => {
                if *k.get_ref() == 0 || *k.get_ref() > plan.minimum_reads {
                    return Err(invalid(
                        k.span(),
                        "reference.k",
                        format!(
                            "k = {} must be between 1 and minimum_reads = {}",
                            k.get_ref(),
                            plan.minimum_reads
                        ),
                        "k counts positive panel reads out of at least minimum_reads",
                    ));
                }
                plan.k = Some(*k.get_ref());
            }
            (Some(k), _) => {
                return Err(invalid(
                    k.span(),
                    "reference.k",
                    format!(
                        "`k` applies only to consensus = \"k-of-n\", not \"{}\"",
                        plan.consensus
                    ),
                    "remove k, or set consensus = \"k-of-n\"",
                ));
            }
            (None, _) => {}
        }
        Ok(plan)
    }
}

impl RawLesions {
    fn into_plan(
        raw: Spanned<RawLesions>,
        invalid: &Invalid<'_>,
    ) -> Result<crate::LesionPlan, ProtocolError> {
        let span = raw.span();
        let raw = raw.into_inner();
        use crate::LesionCriterion as C;
        let (radius, threshold) = match raw.criterion {
            C::Distance => {
                let Some(r) = &raw.radius else {
                    return Err(invalid(
                        span,
                        "lesions.radius",
                        "criterion = \"distance\" needs `radius`, the largest centre distance"
                            .into(),
                        "add e.g. radius = 10.0 (in `units`, mm by default)",
                    ));
                };
                if !(r.get_ref().is_finite() && *r.get_ref() > 0.0) {
                    return Err(invalid(
                        r.span(),
                        "lesions.radius",
                        format!("{} is not a distance", r.get_ref()),
                        "give a positive distance, e.g. radius = 10.0",
                    ));
                }
                (Some(*r.get_ref()), None)
            }
            C::Iou => {
                let Some(t) = &raw.threshold else {
                    return Err(invalid(
                        span,
                        "lesions.threshold",
                        "criterion = \"iou\" needs `threshold`, the smallest intersection over union".into(),
                        "add e.g. threshold = 0.5",
                    ));
                };
                if !(*t.get_ref() > 0.0 && *t.get_ref() <= 1.0) {
                    return Err(invalid(
                        t.span(),
                        "lesions.threshold",
                        format!("{} is not in (0, 1]", t.get_ref()),
                        "an IoU threshold is a fraction, e.g. threshold = 0.5",
                    ));
                }
                (None, Some(*t.get_ref()))
            }
            C::Inside => (None, None),
        };
        for (value, key, applies) in [
            (&raw.radius, "lesions.radius", raw.criterion == C::Distance),
            (&raw.threshold, "lesions.threshold", raw.criterion == C::Iou),
        ] {
            if let (Some(v), false) = (value, applies) {
                return Err(invalid(
                    v.span(),
                    key,
                    format!(
                        "`{}` does not apply to criterion = \"{}\"",
                        &key[8..],
                        raw.criterion
                    ),
                    "radius goes with \"distance\", threshold with \"iou\"; remove the other",
                ));
            }
        }
        let k = match &raw.k {
            None => 1,
            Some(k) if *k.get_ref() == 0 => {
                return Err(invalid(
                    k.span(),
                    "lesions.k",
                    "k = 0 would admit lesions nobody marked".into(),
                    "give the readers a lesion needs, e.g. k = 2",
                ));
            }
            Some(k) => *k.get_ref(),
        };
        if let Some(t) = &raw.rating_threshold
            && !t.get_ref().is_finite()
        {
            return Err(invalid(
                t.span(),
                "lesions.rating_threshold",
                "not a finite number".into(),
                "give the rating at or above which a mark counts, e.g. rating_threshold = 0.5",
            ));
        }
        let mut types: Vec<String> = Vec::new();
        for t in &raw.types {
            let name = t.get_ref().trim();
            if name.is_empty() || types.iter().any(|x| x == name) {
                return Err(invalid(
                    t.span(),
                    "lesions.types",
                    format!("lesion type `{name}` is empty or named twice"),
                    "list each lesion type once, e.g. types = [\"nodule\", \"mass\"]",
                ));
            }
            types.push(name.to_owned());
        }
        Ok(crate::LesionPlan {
            types,
            criterion: raw.criterion,
            radius,
            threshold,
            units: raw.units.unwrap_or(crate::LesionUnits::Mm),
            k,
            adjudication: raw.adjudication.unwrap_or(true),
            duplicates: raw.duplicates.unwrap_or(crate::DuplicateMarks::Discard),
            rating_threshold: raw.rating_threshold.map(|t| *t.get_ref()),
        })
    }
}

impl RawAnalysis {
    fn into_plan(self, invalid: &Invalid<'_>) -> Result<crate::AnalysisPlan, ProtocolError> {
        let mut plan = crate::AnalysisPlan::default();
        let mut subgroups = self.subgroups;
        subgroups.dedup();
        plan.subgroups = subgroups;
        if let Some(bands) = &self.age_bands {
            let cuts = bands.get_ref();
            if cuts.iter().any(|c| !c.is_finite() || *c <= 0.0)
                || cuts.windows(2).any(|w| w[0] >= w[1])
            {
                return Err(invalid(
                    bands.span(),
                    "analysis.age_bands",
                    "age cut points must be positive and increasing".into(),
                    "write the cut points in years, e.g. age_bands = [40, 65]",
                ));
            }
            plan.age_bands = cuts.clone();
        }
        plan.score_threshold = self.score_threshold;
        if let Some(replicates) = &self.bootstrap_replicates {
            if *replicates.get_ref() < 100 {
                return Err(invalid(
                    replicates.span(),
                    "analysis.bootstrap_replicates",
                    format!(
                        "{} replicates are too few for an interval",
                        replicates.get_ref()
                    ),
                    "use at least 1000; 2000 is the default",
                ));
            }
            plan.bootstrap_replicates = *replicates.get_ref();
        }
        if let Some(seed) = self.seed {
            plan.seed = seed;
        }
        Ok(plan)
    }
}

/// A TOML local date (no time, no offset) as a calendar date.
pub(crate) fn to_date(value: &toml::value::Datetime) -> Option<time::Date> {
    if value.time.is_some() || value.offset.is_some() {
        return None;
    }
    let date = value.date?;
    let month = time::Month::try_from(date.month).ok()?;
    time::Date::from_calendar_date(i32::from(date.year), month, date.day).ok()
}
