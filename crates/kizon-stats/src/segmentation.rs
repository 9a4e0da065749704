//! Segmentation overlap between a device's mask and the reference mask: the Dice
//! similarity coefficient and the intersection over union (Jaccard index).
//!
//! For a predicted region `P` and a reference region `R` (sets of pixels):
//! - Dice `= 2|P ∩ R| / (|P| + |R|)` (Dice LR. Measures of the amount of ecologic
//!   association between species. *Ecology* 1945;26(3):297–302; Sørensen 1948);
//! - IoU `= |P ∩ R| / |P ∪ R|` (Jaccard P. The distribution of the flora in the alpine
//!   zone. *New Phytologist* 1912;11(2):37–50);
//!
//! related by `IoU = Dice / (2 − Dice)`, as in the survey of segmentation metrics by Taha AA,
//! Hanbury A. Metrics for evaluating 3D medical image segmentation: analysis, selection, and
//! tool. *BMC Med Imaging* 2015;15:29. Both are undefined when both regions are empty
//! (`None`), 0 when exactly one is.
//!
//! Polygons are compared as the masks they cover on the pixel grid: pixel `(i, j)` belongs to
//! a polygon when its centre `(i + ½, j + ½)` lies inside (even-odd rule, boundary
//! included) — the usual rasterisation of polygon annotations into masks (pixel-centre
//! sampling). The overlap of two polygons is therefore that of their rasterised masks, not of
//! their exact areas.

use serde::Serialize;

use crate::error::StatsError;
use crate::froc::Shape;

/// Overlap of a predicted and a reference region, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Overlap {
    pub predicted: u64,
    pub reference: u64,
    pub intersection: u64,
    pub union: u64,
    /// `None` when both regions are empty.
    pub dice: Option<f64>,
    pub iou: Option<f64>,
}

fn overlap_from_counts(predicted: u64, reference: u64, intersection: u64) -> Overlap {
    let union = predicted + reference - intersection;
    let total = predicted + reference;
    Overlap {
        predicted,
        reference,
        intersection,
        union,
        dice: (total > 0).then(|| 2.0 * intersection as f64 / total as f64),
        iou: (union > 0).then(|| intersection as f64 / union as f64),
    }
}

/// Dice and IoU of two binary masks of the same size (any layout, 2D or 3D, as long as both
/// use it).
pub fn mask_overlap(predicted: &[bool], reference: &[bool]) -> Result<Overlap, StatsError> {
    if predicted.len() != reference.len() {
        return Err(StatsError::LengthMismatch {
            what: "masks",
            left: predicted.len(),
            right: reference.len(),
        });
    }
    let (mut p, mut r, mut both) = (0u64, 0u64, 0u64);
    for (&a, &b) in predicted.iter().zip(reference) {
        p += u64::from(a);
        r += u64::from(b);
        both += u64::from(a && b);
    }
    Ok(overlap_from_counts(p, r, both))
}

/// The mask of a polygon on a `width × height` pixel grid (row-major), by pixel centres.
pub fn rasterise_polygon(
    vertices: &[(f64, f64)],
    width: usize,
    height: usize,
) -> Result<Vec<bool>, StatsError> {
    let shape = Shape::Polygon {
        vertices: vertices.to_vec(),
    };
    shape.check("polygon", 0)?;
    let mut mask = vec![false; width * height];
    for j in 0..height {
        for i in 0..width {
            mask[j * width + i] = shape
                .contains((i as f64 + 0.5, j as f64 + 0.5))
                .unwrap_or(false);
        }
    }
    Ok(mask)
}

/// Dice and IoU of two polygons rasterised on the pixel grid that covers both.
pub fn polygon_overlap(
    predicted: &[(f64, f64)],
    reference: &[(f64, f64)],
) -> Result<Overlap, StatsError> {
    let all = predicted.iter().chain(reference);
    let mut hi = (0.0f64, 0.0f64);
    let mut lo = (f64::INFINITY, f64::INFINITY);
    for &(x, y) in all {
        hi = (hi.0.max(x), hi.1.max(y));
        lo = (lo.0.min(x), lo.1.min(y));
    }
    if lo.0 < 0.0 || lo.1 < 0.0 {
        return Err(StatsError::InvalidArgument(
            "polygon vertices must have coordinates ≥ 0 (pixel coordinates)".into(),
        ));
    }
    if !(hi.0.is_finite() && hi.1.is_finite()) || hi.0 > 1e5 || hi.1 > 1e5 {
        return Err(StatsError::InvalidArgument(
            "polygon vertices must be finite pixel coordinates below 100000".into(),
        ));
    }
    let (w, h) = (hi.0.ceil() as usize + 1, hi.1.ceil() as usize + 1);
    let p = rasterise_polygon(predicted, w, h)?;
    let r = rasterise_polygon(reference, w, h)?;
    mask_overlap(&p, &r)
}

/// Dice and IoU of two regions given as shapes, `None` when either has no area to compare (a
/// point or a circle) or a polygon lies outside the pixel grid (negative coordinates). Two
/// boxes are compared exactly (IoU of the boxes, Dice = 2·IoU / (1 + IoU)); a polygon against
/// a polygon or a box by their rasterised masks ([`polygon_overlap`]).
pub fn region_overlap(predicted: &Shape, reference: &Shape) -> Option<(f64, f64)> {
    let corners = |s: &Shape| match s {
        Shape::Box { x0, y0, x1, y1 } => Some(vec![(*x0, *y0), (*x1, *y0), (*x1, *y1), (*x0, *y1)]),
        Shape::Polygon { vertices } => Some(vertices.clone()),
        _ => None,
    };
    if let (Some(a), Some(b)) = (predicted.as_box(), reference.as_box()) {
        let iou = crate::froc::iou(a, b);
        return Some((2.0 * iou / (1.0 + iou), iou));
    }
    let overlap = polygon_overlap(&corners(predicted)?, &corners(reference)?).ok()?;
    Some((overlap.dice?, overlap.iou?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 4 predicted pixels, 3 reference pixels, 2 in common: Dice = 4/7, IoU = 2/5.
    #[test]
    fn masks_by_hand() {
        let p = [true, true, true, true, false, false];
        let r = [false, false, true, true, true, false];
        let o = mask_overlap(&p, &r).unwrap();
        assert_eq!(
            (o.predicted, o.reference, o.intersection, o.union),
            (4, 3, 2, 5)
        );
        assert!((o.dice.unwrap() - 4.0 / 7.0).abs() < 1e-15);
        assert!((o.iou.unwrap() - 0.4).abs() < 1e-15);
        let d = o.dice.unwrap();
        assert!((o.iou.unwrap() - d / (2.0 - d)).abs() < 1e-15);
    }

    #[test]
    fn empty_masks_are_undefined_and_one_empty_is_zero() {
        let none = mask_overlap(&[false; 4], &[false; 4]).unwrap();
        assert_eq!((none.dice, none.iou), (None, None));
        let one = mask_overlap(&[true, false], &[false, false]).unwrap();
        assert_eq!((one.dice, one.iou), (Some(0.0), Some(0.0)));
        assert!(mask_overlap(&[true], &[true, false]).is_err());
    }

    /// Squares [0,4]×[0,4] (16 pixel centres inside) and [2,6]×[0,4] (16): 8 in common.
    /// Dice = 16/32 = 0.5, IoU = 8/24 = 1/3.
    #[test]
    fn polygons_by_hand() {
        let a = [(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)];
        let b = [(2.0, 0.0), (6.0, 0.0), (6.0, 4.0), (2.0, 4.0)];
        let o = polygon_overlap(&a, &b).unwrap();
        assert_eq!((o.predicted, o.reference, o.intersection), (16, 16, 8));
        assert_eq!(o.dice, Some(0.5));
        assert!((o.iou.unwrap() - 1.0 / 3.0).abs() < 1e-15);
        // A right triangle (0,0),(4,0),(0,4): centres with x + y ≤ 4, i.e. i + j ≤ 3: 10.
        let t = rasterise_polygon(&[(0.0, 0.0), (4.0, 0.0), (0.0, 4.0)], 5, 5).unwrap();
        assert_eq!(t.iter().filter(|&&v| v).count(), 10);
    }

    /// Boxes [0,0,10,10] and [2,0,12,10]: IoU 80/120 = 2/3, Dice 2·(2/3)/(5/3) = 0.8. A box
    /// against the square polygon [2,6]×[0,4] as masks: 16 and 16 pixels, 8 shared → 0.5.
    #[test]
    fn regions_by_hand() {
        let a = Shape::Box {
            x0: 0.0,
            y0: 0.0,
            x1: 10.0,
            y1: 10.0,
        };
        let b = Shape::Box {
            x0: 2.0,
            y0: 0.0,
            x1: 12.0,
            y1: 10.0,
        };
        let (dice, iou) = region_overlap(&a, &b).unwrap();
        assert!((dice - 0.8).abs() < 1e-15 && (iou - 2.0 / 3.0).abs() < 1e-15);
        let square = Shape::Box {
            x0: 0.0,
            y0: 0.0,
            x1: 4.0,
            y1: 4.0,
        };
        let polygon = Shape::Polygon {
            vertices: vec![(2.0, 0.0), (6.0, 0.0), (6.0, 4.0), (2.0, 4.0)],
        };
        assert_eq!(region_overlap(&polygon, &square).unwrap().0, 0.5);
        assert_eq!(
            region_overlap(&Shape::Point { x: 1.0, y: 1.0 }, &square),
            None
        );
    }
}
