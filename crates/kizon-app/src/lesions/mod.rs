//! Lesions (Q4: "the sensitivity and specificity of lesion detection" against the places a
//! panel of specialists marked): marks as data, the panel's lesion reference, and the
//! lesion-level (FROC) evaluation of a device's marks.
//!
//! - `marks import FILE --reader CODE [--role adjudicator]`: the panel's marks (the lesion
//!   reference), refused after the reference lock; a different re-import of a reader's marks
//!   on a case is refused (every individual mark is evidence, never edited).
//! - `marks import FILE --device-version V`: the device's marks with their confidence
//!   rating, only after the dataset and reference locks; a different re-import of a case's
//!   marks is not stored but raised as a blocking finding (`device-marks-changed`, Q7).
//! - `lock reference`: with `[lesions]` in the protocol, the reference document also fixes
//!   the lesions: the panel's marks clustered and decided k of n or by the adjudicator
//!   ([`kizon_stats::lesions`]), every mark listed under its lesion.
//! - `analyze`: the device's marks matched to the locked lesions ([`kizon_stats::froc`]).
//!
//! **Mark files** (CSV or JSON, recognised by content): one mark per row or object, with
//! `case_id`, optional `image` (image or frame within the case), a location, optional
//! `lesion_type`, `size_mm` and `rating` (alias `score`, `confidence`).
//! Locations: `x,y` a point; `x,y,r` a circle; `x0,y0,x1,y1` a box; `bbox` = `[x, y, w, h]`
//! (COCO: top-left corner, width, height); `polygon` = `[[x, y], …]` (or COCO's flat
//! `segmentation` `[[x1, y1, x2, y2, …]]`). JSON is an array of such objects, or a COCO
//! object (`images` with `id` and `case_id`, `annotations` with `image_id`, `bbox`,
//! `category_id`, `score`, `categories` naming the lesion types); in a bare COCO result
//! array an `image_id` that names a case of the study is that case.

mod figures;
mod files;
mod froc_files;
mod import;
mod reference;

pub use figures::*;
pub use files::*;
pub use froc_files::*;
pub use import::*;
pub use reference::*;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use kizon_protocol::LesionPlan;
use kizon_stats::{Estimate, MatchCriterion, Shape};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::reference::{REFERENCE, ReadRole};
use crate::{AppError, Study};
use kizon_tables::read_table;
use kizon_vocab::Severity;

pub use kizon_protocol::{DuplicateMarks, LesionCriterion, LesionUnits};
pub use kizon_stats::LesionBasis;

#[cfg(test)]
mod tests {
    use super::*;

    fn read(name: &str, text: &str) -> Result<Vec<MarkRecord>, AppError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        read_marks_file(&path, None)
    }

    #[test]
    fn csv_locations_become_points_circles_boxes_and_polygons() {
        let marks = read(
            "m.csv",
            "case_id,image,x,y,r,x0,y0,x1,y1,bbox,polygon,score\n\
             A,1,1,2,,,,,,,,0.5\n\
             A,1,1,2,3,,,,,,,\n\
             A,2,,,,0,0,4,5,,,\n\
             B,,,,,,,,,\"[10, 20, 5, 8]\",,\n\
             B,,,,,,,,,,\"[[0,0],[4,0],[0,4]]\",\n\
             C,,,,,,,,,,,\n",
        )
        .unwrap();
        let shapes: Vec<Option<Shape>> = marks.iter().map(|m| m.shape.clone()).collect();
        assert_eq!(
            shapes,
            vec![
                Some(Shape::Point { x: 1.0, y: 2.0 }),
                Some(Shape::Circle {
                    x: 1.0,
                    y: 2.0,
                    r: 3.0
                }),
                Some(Shape::Box {
                    x0: 0.0,
                    y0: 0.0,
                    x1: 4.0,
                    y1: 5.0
                }),
                Some(Shape::Box {
                    x0: 10.0,
                    y0: 20.0,
                    x1: 15.0,
                    y1: 28.0
                }),
                Some(Shape::Polygon {
                    vertices: vec![(0.0, 0.0), (4.0, 0.0), (0.0, 4.0)]
                }),
                None,
            ]
        );
        assert_eq!(marks[0].rating, Some(0.5));
        assert_eq!(marks[2].image, "2");
        assert_eq!(marks[4].origin, Origin::Line(6));
    }

    #[test]
    fn csv_errors_name_line_and_column() {
        let error = read("m.csv", "case_id,x0,y0,x1,y1\nA,0,0,4,\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{}:2: column `y1`: empty: a box needs all four corners",
                error_file(&error)
            )
        );
        let error = read("m.csv", "case_id,x0,y0,x1,y1\nA,5,0,4,4\n").unwrap_err();
        assert!(
            error.to_string().contains(":2: column `x0`: a box needs"),
            "{error}"
        );
        let error = read("m.csv", "case_id,x,y,x0\nA,1,1,2\n").unwrap_err();
        assert!(
            error.to_string().contains("more than one location"),
            "{error}"
        );
        let error = read("m.csv", "case_id,polygon\nA,\"[[0,0],[1,1]]\"\n").unwrap_err();
        assert!(error.to_string().contains("at least 3 vertices"), "{error}");
    }

    fn error_file(error: &AppError) -> String {
        match error {
            AppError::Csv { file, .. } | AppError::Json { file, .. } => file.display().to_string(),
            other => panic!("{other}"),
        }
    }

    /// COCO: images map ids to cases and file names, categories name the lesion types, a
    /// flat `segmentation` is a polygon; kizon's own tagged shapes are read too.
    #[test]
    fn json_reads_coco_and_tagged_shapes() {
        let marks = read(
            "c.json",
            r#"{"images": [{"id": 3, "case_id": "C-1", "file_name": "f.dcm"}],
                "categories": [{"id": 1, "name": "adenoma"}],
                "annotations": [
                  {"image_id": 3, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.7},
                  {"image_id": 3, "category_id": 1, "segmentation": [[0, 0, 6, 0, 6, 6]], "score": 0.2}
                ]}"#,
        )
        .unwrap();
        assert_eq!(
            (marks[0].case_id.as_str(), marks[0].image.as_str()),
            ("C-1", "f.dcm")
        );
        assert_eq!(marks[0].lesion_type.as_deref(), Some("adenoma"));
        assert_eq!(
            marks[0].shape,
            Some(Shape::Box {
                x0: 1.0,
                y0: 2.0,
                x1: 4.0,
                y1: 6.0
            })
        );
        assert_eq!(
            marks[1].shape,
            Some(Shape::Polygon {
                vertices: vec![(0.0, 0.0), (6.0, 0.0), (6.0, 6.0)]
            })
        );
        assert_eq!(marks[1].origin, Origin::Json("annotations[1]".into()));
        let tagged = read(
            "t.json",
            r#"[{"case_id": "A", "shape": "circle", "x": 1, "y": 2, "r": 3, "rating": 1}]"#,
        )
        .unwrap();
        assert_eq!(
            tagged[0].shape,
            Some(Shape::Circle {
                x: 1.0,
                y: 2.0,
                r: 3.0
            })
        );
        // A bare COCO result array: the image id names the case.
        let bare = read(
            "b.json",
            r#"[{"image_id": "C-9", "bbox": [0, 0, 1, 1], "score": 0.4}]"#,
        )
        .unwrap();
        assert_eq!(
            (bare[0].case_id.as_str(), bare[0].image.as_str()),
            ("C-9", "")
        );
        let error = read("e.json", r#"{"images": [{"id": 3}], "annotations": []}"#).unwrap_err();
        assert!(
            error.to_string().ends_with(
                "e.json: images[0].case_id: missing: kizon needs the case of each image"
            ),
            "{error}"
        );
        let error = read("s.json", "[{\"case_id\": \"A\",\n \"x\": }]").unwrap_err();
        assert!(error.to_string().contains("line 2"), "{error}");
    }
}
