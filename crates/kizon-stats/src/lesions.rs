//! Panel consensus for lesions: the marks several readers put on the same image are
//! clustered, and a cluster becomes a lesion of the reference standard when at least `k`
//! readers marked it, or when the adjudicator confirms it.
//!
//! **Clustering rule** ([`cluster_marks`]). Two marks *link* when they are on the same image,
//! come from different readers, and the protocol's criterion ([`MatchCriterion`]) holds
//! between them, symmetrically: centre distance at most `r`; or IoU of their boxes at least
//! `t`; or the centre of one inside the region of the other. A reader's own marks never link
//! to each other. Clusters are the connected components of the link graph (single linkage),
//! the rule by which pylidc groups the four LIDC-IDRI readers' nodule annotations
//! (`Scan.cluster_annotations`: annotations within a distance tolerance are adjacent, and
//! the connected components of that adjacency are the nodules; Hancock MC, Magnan JF. Lung
//! nodule malignancy classification using only radiologist-quantified image features as
//! inputs to statistical learning algorithms. *J Med Imaging* 2016;3(4):044504; the data:
//! Armato SG 3rd et al. The Lung Image Database Consortium (LIDC) and Image Database
//! Resource Initiative (IDRI). *Med Phys* 2011;38(2):915–931, whose panel reference keeps
//! every reader's mark and reports how many readers marked each nodule). Single linkage can
//! chain two nearby lesions through intermediate marks; a tight criterion avoids it, and
//! every cluster lists its marks so the chain is visible.
//!
//! A cluster counts the *distinct* readers among its marks (a reader who marked one lesion
//! twice counts once). The cluster's location ([`LesionCluster::shape`]) is the mean of its
//! marks when they are all of one kind (point: mean centre; circle: mean centre and mean
//! radius; box: mean corners), otherwise the mark nearest the mean centre (ties to the first
//! given).
//!
//! **Consensus** ([`lesion_consensus`]). A cluster marked by at least `k` readers enters the
//! reference standard (`panel`). A cluster below `k` enters when an adjudicator mark links
//! to any of its marks (`adjudicator`); otherwise it is kept, marked `rejected`, with its
//! marks. An adjudicator mark linking to no panel mark adds nothing (the adjudicator settles
//! the panel's disagreements; a lesion no panel reader saw is reported as such). Every
//! individual mark stays attached to its cluster.

use serde::{Deserialize, Serialize};

use crate::error::StatsError;
use crate::froc::{MatchCriterion, Shape, iou};

/// A panel reader's mark (no rating is needed for the reference standard).
#[derive(Debug, Clone, PartialEq)]
pub struct PanelMark {
    pub image: usize,
    pub reader: usize,
    pub shape: Shape,
}

/// A cluster of marks on one image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LesionCluster {
    pub image: usize,
    /// Indices of its marks, ascending.
    pub marks: Vec<usize>,
    /// Distinct readers, ascending.
    pub readers: Vec<usize>,
    pub shape: Shape,
}

/// How a cluster was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LesionBasis {
    /// At least `k` readers marked it.
    Panel,
    /// Below `k`, confirmed by the adjudicator.
    Adjudicator,
    /// Below `k` and not confirmed: not a lesion of the reference standard.
    Rejected,
}

/// A cluster with its decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsensusLesion {
    pub cluster: LesionCluster,
    pub basis: LesionBasis,
    /// Indices of the adjudicator marks linking to the cluster.
    pub adjudicator_marks: Vec<usize>,
}

fn check_criterion(criterion: MatchCriterion) -> Result<(), StatsError> {
    match criterion {
        MatchCriterion::CentreDistance { max } if !(max >= 0.0 && max.is_finite()) => {
            Err(StatsError::InvalidArgument(format!(
                "the centre-distance criterion needs a finite distance ≥ 0, got {max}"
            )))
        }
        MatchCriterion::Iou { min } if !(min > 0.0 && min <= 1.0) => {
            Err(StatsError::InvalidArgument(format!(
                "the IoU criterion needs a threshold in (0, 1], got {min}"
            )))
        }
        _ => Ok(()),
    }
}

fn check_mark(shape: &Shape, criterion: MatchCriterion, index: usize) -> Result<(), StatsError> {
    shape.check("mark", index)?;
    if matches!(criterion, MatchCriterion::Iou { .. }) && shape.as_box().is_none() {
        return Err(StatsError::InvalidArgument(format!(
            "mark {index}: the IoU criterion needs marks given as boxes"
        )));
    }
    Ok(())
}

/// Whether two shapes link under `criterion` (symmetric).
pub fn shapes_link(a: &Shape, b: &Shape, criterion: MatchCriterion) -> bool {
    let (ca, cb) = (a.centre(), b.centre());
    match criterion {
        MatchCriterion::CentreDistance { max } => (ca.0 - cb.0).hypot(ca.1 - cb.1) <= max,
        MatchCriterion::Iou { min } => match (a.as_box(), b.as_box()) {
            (Some(x), Some(y)) => iou(x, y) >= min,
            _ => false,
        },
        MatchCriterion::PointInRegion => {
            a.contains(cb) == Some(true) || b.contains(ca) == Some(true)
        }
    }
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// The representative location of a cluster (see the module documentation).
fn representative(shapes: &[&Shape]) -> Shape {
    let n = shapes.len() as f64;
    let mean = |f: &dyn Fn(&Shape) -> f64| shapes.iter().map(|s| f(s)).sum::<f64>() / n;
    let (mx, my) = (mean(&|s| s.centre().0), mean(&|s| s.centre().1));
    if shapes.iter().all(|s| matches!(s, Shape::Point { .. })) {
        return Shape::Point { x: mx, y: my };
    }
    if shapes.iter().all(|s| matches!(s, Shape::Circle { .. })) {
        let r = mean(&|s| match s {
            Shape::Circle { r, .. } => *r,
            _ => 0.0,
        });
        return Shape::Circle { x: mx, y: my, r };
    }
    if let Some(boxes) = shapes
        .iter()
        .map(|s| s.as_box())
        .collect::<Option<Vec<_>>>()
    {
        let m = |k: usize| boxes.iter().map(|b| b[k]).sum::<f64>() / n;
        return Shape::Box {
            x0: m(0),
            y0: m(1),
            x1: m(2),
            y1: m(3),
        };
    }
    let mut best = 0;
    let mut best_d = f64::INFINITY;
    for (i, s) in shapes.iter().enumerate() {
        let (x, y) = s.centre();
        let d = (x - mx).hypot(y - my);
        if d < best_d {
            best = i;
            best_d = d;
        }
    }
    shapes[best].clone()
}

/// Clusters the panel's marks (see the module documentation for the rule). Clusters come
/// in order of image, then of their first mark.
pub fn cluster_marks(
    marks: &[PanelMark],
    criterion: MatchCriterion,
) -> Result<Vec<LesionCluster>, StatsError> {
    check_criterion(criterion)?;
    for (i, m) in marks.iter().enumerate() {
        check_mark(&m.shape, criterion, i)?;
    }
    let mut order: Vec<usize> = (0..marks.len()).collect();
    order.sort_by_key(|&i| (marks[i].image, i));
    let mut parent: Vec<usize> = (0..marks.len()).collect();
    let mut start = 0;
    while start < order.len() {
        let image = marks[order[start]].image;
        let end = start
            + order[start..]
                .iter()
                .take_while(|&&i| marks[i].image == image)
                .count();
        let group = &order[start..end];
        for (p, &a) in group.iter().enumerate() {
            for &b in &group[p + 1..] {
                if marks[a].reader != marks[b].reader
                    && shapes_link(&marks[a].shape, &marks[b].shape, criterion)
                {
                    let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
                    if ra != rb {
                        parent[ra.max(rb)] = ra.min(rb);
                    }
                }
            }
        }
        start = end;
    }
    let mut clusters: Vec<(usize, Vec<usize>)> = Vec::new();
    let mut index_of_root = vec![usize::MAX; marks.len()];
    for &i in &order {
        let root = find(&mut parent, i);
        if index_of_root[root] == usize::MAX {
            index_of_root[root] = clusters.len();
            clusters.push((marks[i].image, Vec::new()));
        }
        clusters[index_of_root[root]].1.push(i);
    }
    Ok(clusters
        .into_iter()
        .map(|(image, mut members)| {
            members.sort_unstable();
            let mut readers: Vec<usize> = members.iter().map(|&i| marks[i].reader).collect();
            readers.sort_unstable();
            readers.dedup();
            let shapes: Vec<&Shape> = members.iter().map(|&i| &marks[i].shape).collect();
            LesionCluster {
                image,
                shape: representative(&shapes),
                marks: members,
                readers,
            }
        })
        .collect())
}

/// Clusters the panel's marks and decides each cluster: at least `k` readers, or an
/// adjudicator mark linking to one of its marks (see the module documentation).
pub fn lesion_consensus(
    panel: &[PanelMark],
    adjudicator: &[PanelMark],
    criterion: MatchCriterion,
    k: usize,
) -> Result<Vec<ConsensusLesion>, StatsError> {
    if k == 0 {
        return Err(StatsError::InvalidArgument(
            "k, the readers a lesion needs, must be at least 1".into(),
        ));
    }
    let clusters = cluster_marks(panel, criterion)?;
    for (i, m) in adjudicator.iter().enumerate() {
        check_mark(&m.shape, criterion, i)?;
    }
    Ok(clusters
        .into_iter()
        .map(|cluster| {
            let adjudicator_marks: Vec<usize> = adjudicator
                .iter()
                .enumerate()
                .filter(|(_, a)| {
                    a.image == cluster.image
                        && cluster
                            .marks
                            .iter()
                            .any(|&m| shapes_link(&a.shape, &panel[m].shape, criterion))
                })
                .map(|(i, _)| i)
                .collect();
            let basis = if cluster.readers.len() >= k {
                LesionBasis::Panel
            } else if !adjudicator_marks.is_empty() {
                LesionBasis::Adjudicator
            } else {
                LesionBasis::Rejected
            };
            ConsensusLesion {
                cluster,
                basis,
                adjudicator_marks,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(image: usize, reader: usize, x: f64, y: f64) -> PanelMark {
        PanelMark {
            image,
            reader,
            shape: Shape::Point { x, y },
        }
    }

    /// Three readers, two images. Image 0: readers 0, 1, 2 near (10, 10) (all within 5 of
    /// each other), reader 1 alone at (50, 50); image 1: readers 0 and 2 at (20, 20) and
    /// (23, 24) (distance 5, linked at r = 5), reader 1 at (40, 20).
    #[test]
    fn clusters_are_connected_components_by_distance_and_k_decides() {
        let marks = vec![
            point(0, 0, 10.0, 10.0),
            point(0, 1, 12.0, 10.0),
            point(0, 2, 10.0, 13.0),
            point(0, 1, 50.0, 50.0),
            point(1, 0, 20.0, 20.0),
            point(1, 2, 23.0, 24.0),
            point(1, 1, 40.0, 20.0),
        ];
        let criterion = MatchCriterion::CentreDistance { max: 5.0 };
        let clusters = cluster_marks(&marks, criterion).unwrap();
        let members: Vec<Vec<usize>> = clusters.iter().map(|c| c.marks.clone()).collect();
        assert_eq!(members, vec![vec![0, 1, 2], vec![3], vec![4, 5], vec![6]]);
        // Mean of (10,10), (12,10), (10,13) = (32/3, 11).
        assert_eq!(
            clusters[0].shape,
            Shape::Point {
                x: 32.0 / 3.0,
                y: 11.0
            }
        );
        assert_eq!(clusters[2].readers, vec![0, 2]);
        // k = 2: clusters 0 and 2 enter; the adjudicator confirms reader 1's lone mark at
        // (50, 50) with a mark 3 away, and marks (90, 90), linked to nothing.
        let adjudicator = vec![point(0, 9, 53.0, 50.0), point(0, 9, 90.0, 90.0)];
        let decided = lesion_consensus(&marks, &adjudicator, criterion, 2).unwrap();
        let bases: Vec<LesionBasis> = decided.iter().map(|d| d.basis).collect();
        assert_eq!(
            bases,
            vec![
                LesionBasis::Panel,
                LesionBasis::Adjudicator,
                LesionBasis::Panel,
                LesionBasis::Rejected
            ]
        );
        assert_eq!(decided[1].adjudicator_marks, vec![0]);
        // k = 3: only the first cluster has three readers.
        let three = lesion_consensus(&marks, &[], criterion, 3).unwrap();
        assert_eq!(
            three
                .iter()
                .filter(|d| d.basis == LesionBasis::Panel)
                .count(),
            1
        );
    }

    /// A reader's own two marks do not link; a chain a–b–c links a and c through b.
    #[test]
    fn same_reader_marks_do_not_link_but_chains_do() {
        let criterion = MatchCriterion::CentreDistance { max: 4.0 };
        let own = vec![point(0, 0, 0.0, 0.0), point(0, 0, 1.0, 0.0)];
        assert_eq!(cluster_marks(&own, criterion).unwrap().len(), 2);
        let chain = vec![
            point(0, 0, 0.0, 0.0),
            point(0, 1, 4.0, 0.0),
            point(0, 2, 8.0, 0.0),
        ];
        let c = cluster_marks(&chain, criterion).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].readers, vec![0, 1, 2]);
    }

    /// Boxes by IoU: [0,0,10,10] and [2,0,12,10] overlap 80/120 = 2/3 ≥ 0.5; [0,0,10,10]
    /// and [5,5,15,15] overlap 25/175 = 1/7 < 0.5. The mean box of the first pair is
    /// [1,0,11,10].
    #[test]
    fn boxes_link_by_iou_and_average() {
        let b = |reader, x0, y0, x1, y1| PanelMark {
            image: 0,
            reader,
            shape: Shape::Box { x0, y0, x1, y1 },
        };
        let marks = vec![
            b(0, 0.0, 0.0, 10.0, 10.0),
            b(1, 2.0, 0.0, 12.0, 10.0),
            b(2, 5.0, 5.0, 15.0, 15.0),
        ];
        let clusters = cluster_marks(&marks, MatchCriterion::Iou { min: 0.5 }).unwrap();
        assert_eq!(clusters.len(), 2);
        assert_eq!(
            clusters[0].shape,
            Shape::Box {
                x0: 1.0,
                y0: 0.0,
                x1: 11.0,
                y1: 10.0
            }
        );
        // Inside: the centre (10, 10) of the third box lies in the first box.
        let inside = cluster_marks(&marks, MatchCriterion::PointInRegion).unwrap();
        assert_eq!(inside.len(), 1);
    }

    #[test]
    fn bad_input_is_refused() {
        assert!(lesion_consensus(&[], &[], MatchCriterion::PointInRegion, 0).is_err());
        let p = vec![point(0, 0, 0.0, 0.0)];
        assert!(cluster_marks(&p, MatchCriterion::Iou { min: 0.5 }).is_err());
        assert!(cluster_marks(&p, MatchCriterion::CentreDistance { max: f64::NAN }).is_err());
    }
}
