//! The lesion reference: the panel's marks clustered into lesions, decided k of n or by the adjudicator, fixed with the reference lock.

use super::*;

/// The protocol's criterion for the statistics engine.
pub fn match_criterion(plan: &LesionPlan) -> MatchCriterion {
    match plan.criterion {
        LesionCriterion::Distance => MatchCriterion::CentreDistance {
            max: plan.radius.unwrap_or(0.0),
        },
        LesionCriterion::Iou => MatchCriterion::Iou {
            min: plan.threshold.unwrap_or(1.0),
        },
        LesionCriterion::Inside => MatchCriterion::PointInRegion,
    }
}

/// The criterion in words: `distance ≤ 10 mm`, `IoU ≥ 0.5`, `inside`.
pub fn criterion_text(plan: &LesionPlan) -> String {
    match plan.criterion {
        LesionCriterion::Distance => format!(
            "distance ≤ {} {}",
            plan.radius.unwrap_or(0.0),
            plan.units.as_str()
        ),
        LesionCriterion::Iou => format!("IoU ≥ {}", plan.threshold.unwrap_or(1.0)),
        LesionCriterion::Inside => "inside".into(),
    }
}

/// A lesion of the reference standard (or a cluster the panel did not settle).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceLesion {
    /// `L1`, `L2`, … in case, image and cluster order (rejected clusters: `X1`, …).
    pub id: String,
    pub case_id: String,
    pub image: String,
    pub shape: Shape,
    /// The type most of its marks give (ties: first in alphabetical order).
    pub lesion_type: Option<String>,
    /// Mean of its marks' sizes.
    pub size_mm: Option<f64>,
    pub readers: Vec<String>,
    pub basis: LesionBasis,
    /// Stored mark ids (table `marks`) of the panel marks in the cluster.
    pub marks: Vec<i64>,
    pub adjudicator_marks: Vec<i64>,
}

/// The lesions of the reference standard, locked with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LesionReference {
    pub criterion: LesionCriterion,
    pub radius: Option<f64>,
    pub threshold: Option<f64>,
    pub units: LesionUnits,
    pub k: u32,
    pub adjudication: bool,
    /// Panel and adjudicator marks on the dataset's cases.
    pub marks: usize,
    pub lesions: Vec<ReferenceLesion>,
    /// Clusters below k without the adjudicator: kept, with their marks, but not lesions.
    pub rejected: Vec<ReferenceLesion>,
}

impl LesionReference {
    pub fn cases_with_lesions(&self) -> usize {
        self.lesions
            .iter()
            .map(|l| l.case_id.as_str())
            .collect::<BTreeSet<_>>()
            .len()
    }
}

/// Clusters the panel's marks on the dataset's cases and decides each cluster by the
/// protocol's `[lesions]` rule (`kizon_stats::lesions`).
pub(crate) fn lesion_reference(
    plan: &LesionPlan,
    marks: &[kizon_store::StoredMark],
    in_dataset: &BTreeSet<&str>,
) -> Result<LesionReference, AppError> {
    let criterion = match_criterion(plan);
    let readers: Vec<&kizon_store::StoredMark> = marks
        .iter()
        .filter(|m| m.reader.is_some() && in_dataset.contains(m.case_id.as_str()))
        .collect();
    let mut images: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for m in &readers {
        let next = images.len();
        images.entry((&m.case_id, &m.image)).or_insert(next);
    }
    let image_keys: Vec<(&str, &str)> = {
        let mut v = vec![("", ""); images.len()];
        for (k, &i) in &images {
            v[i] = *k;
        }
        v
    };
    let reader_codes: BTreeMap<&str, usize> = readers
        .iter()
        .filter_map(|m| m.reader.as_deref())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .enumerate()
        .map(|(i, c)| (c, i))
        .collect();
    let codes: Vec<&str> = reader_codes.keys().copied().collect();
    let parse = |m: &kizon_store::StoredMark| -> Result<Shape, AppError> {
        serde_json::from_str(&m.shape).map_err(|e| AppError::Refused {
            what: format!("stored mark {} has an unreadable shape: {e}", m.id),
            hint: "run `kizon audit verify`".into(),
        })
    };
    let mut panel = Vec::new();
    let mut panel_rows = Vec::new();
    let mut adjudicator = Vec::new();
    let mut adjudicator_rows = Vec::new();
    for m in &readers {
        let mark = kizon_stats::PanelMark {
            image: images[&(m.case_id.as_str(), m.image.as_str())],
            reader: reader_codes[m.reader.as_deref().expect("reader")],
            shape: parse(m)?,
        };
        if m.role == Some(ReadRole::Adjudicator) {
            if plan.adjudication {
                adjudicator.push(mark);
                adjudicator_rows.push(*m);
            }
        } else {
            panel.push(mark);
            panel_rows.push(*m);
        }
    }
    let decided = kizon_stats::lesion_consensus(&panel, &adjudicator, criterion, plan.k as usize)?;
    let mut decided: Vec<_> = decided.into_iter().collect();
    decided.sort_by(|a, b| {
        image_keys[a.cluster.image]
            .cmp(&image_keys[b.cluster.image])
            .then(a.cluster.marks[0].cmp(&b.cluster.marks[0]))
    });
    let (mut lesions, mut rejected) = (Vec::new(), Vec::new());
    for d in decided {
        let (case_id, image) = image_keys[d.cluster.image];
        let members: Vec<&kizon_store::StoredMark> =
            d.cluster.marks.iter().map(|&i| panel_rows[i]).collect();
        let mut types: BTreeMap<&str, usize> = BTreeMap::new();
        for m in &members {
            if let Some(t) = m.lesion_type.as_deref() {
                *types.entry(t).or_default() += 1;
            }
        }
        let lesion_type = types
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(t, _)| t.to_string());
        let sizes: Vec<f64> = members.iter().filter_map(|m| m.size_mm).collect();
        let list = if d.basis == LesionBasis::Rejected {
            &mut rejected
        } else {
            &mut lesions
        };
        let id = format!(
            "{}{}",
            if d.basis == LesionBasis::Rejected {
                "X"
            } else {
                "L"
            },
            list.len() + 1
        );
        list.push(ReferenceLesion {
            id,
            case_id: case_id.to_owned(),
            image: image.to_owned(),
            shape: d.cluster.shape,
            lesion_type,
            size_mm: (!sizes.is_empty()).then(|| sizes.iter().sum::<f64>() / sizes.len() as f64),
            readers: d
                .cluster
                .readers
                .iter()
                .map(|&r| codes[r].to_owned())
                .collect(),
            basis: d.basis,
            marks: members.iter().map(|m| m.id).collect(),
            adjudicator_marks: d
                .adjudicator_marks
                .iter()
                .map(|&i| adjudicator_rows[i].id)
                .collect(),
        });
    }
    Ok(LesionReference {
        criterion: plan.criterion,
        radius: plan.radius,
        threshold: plan.threshold,
        units: plan.units,
        k: plan.k,
        adjudication: plan.adjudication,
        marks: readers.len(),
        lesions,
        rejected,
    })
}
