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

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use kizon_protocol::LesionPlan;
use kizon_stats::{Estimate, MatchCriterion, Shape};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::csv_table::read_table;
use crate::reference::{REFERENCE, ReadRole};
use crate::{AppError, Study};
use kizon_vocab::Severity;

pub use kizon_protocol::{DuplicateMarks, LesionCriterion, LesionUnits};
pub use kizon_stats::LesionBasis;

/// Where a mark was given, for errors: a CSV line or a JSON path.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    Line(u64),
    Json(String),
}

/// A mark (or, in a lesions file for `kizon stats froc`, a lesion) as read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkRecord {
    pub case_id: String,
    pub image: String,
    /// `None`: a row naming an image without any mark or lesion.
    pub shape: Option<Shape>,
    pub lesion_type: Option<String>,
    pub size_mm: Option<f64>,
    pub rating: Option<f64>,
    pub weight: Option<f64>,
    pub reader: Option<String>,
    pub role: Option<String>,
    pub origin: Origin,
}

fn input_error(file: &Path, origin: &Origin, field: &str, problem: String, hint: &str) -> AppError {
    match origin {
        Origin::Line(line) => AppError::Csv {
            file: file.to_owned(),
            line: Some(*line),
            column: Some(field.to_owned()),
            problem,
            hint: hint.into(),
        },
        Origin::Json(path) => AppError::Json {
            file: file.to_owned(),
            path: if field.is_empty() {
                path.clone()
            } else {
                format!("{path}.{field}")
            },
            problem,
            hint: hint.into(),
        },
    }
}

const SHAPE_HINT: &str = "give x,y (point), x,y,r (circle), x0,y0,x1,y1 or bbox [x, y, w, h] (box), or polygon [[x, y], ...] with at least 3 vertices";

/// Checks a shape's numbers (finite, ordered box corners, radius ≥ 0, 3+ vertices).
fn check_shape(shape: &Shape) -> Result<(), String> {
    let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
    match shape {
        Shape::Point { x, y } if !finite(&[*x, *y]) => Err("coordinates must be finite".into()),
        Shape::Circle { x, y, r } if !finite(&[*x, *y, *r]) || *r < 0.0 => {
            Err("a circle needs finite coordinates and a radius ≥ 0".into())
        }
        Shape::Box { x0, y0, x1, y1 } if !finite(&[*x0, *y0, *x1, *y1]) || x0 > x1 || y0 > y1 => {
            Err("a box needs finite corners with x0 ≤ x1 and y0 ≤ y1 (w, h ≥ 0)".into())
        }
        Shape::Polygon { vertices } if vertices.len() < 3 => Err(format!(
            "a polygon needs at least 3 vertices, got {}",
            vertices.len()
        )),
        Shape::Polygon { vertices } if !vertices.iter().all(|(x, y)| finite(&[*x, *y])) => {
            Err("polygon vertices must be finite".into())
        }
        _ => Ok(()),
    }
}

/// Reads a marks (or lesions) file, CSV or JSON, recognised by its first character.
pub fn read_marks_file(
    file: &Path,
    encoding: Option<crate::encoding::Encoding>,
) -> Result<Vec<MarkRecord>, AppError> {
    let bytes = std::fs::read(file).map_err(crate::error::io(file))?;
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(&bytes);
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{' | b'[') => read_json_marks(file, body),
        _ => read_csv_marks(file, encoding),
    }
}

const CSV_COLUMNS: &[&str] = &[
    "image",
    "x",
    "y",
    "r",
    "x0",
    "y0",
    "x1",
    "y1",
    "bbox",
    "polygon",
    "lesion_type",
    "size_mm",
    "rating",
    "score",
    "confidence",
    "weight",
    "reader",
    "role",
];

fn read_csv_marks(
    file: &Path,
    encoding: Option<crate::encoding::Encoding>,
) -> Result<Vec<MarkRecord>, AppError> {
    let table = read_table(file, &["case_id"], CSV_COLUMNS, encoding)?;
    let k = |name: &str| 1 + CSV_COLUMNS.iter().position(|c| *c == name).expect("column");
    let mut out = Vec::with_capacity(table.cells.len());
    for (row, cells) in table.cells.iter().enumerate() {
        let cell = |name: &str| cells[k(name)].as_str();
        let number = |name: &str| -> Result<Option<f64>, AppError> {
            match cell(name) {
                "" => Ok(None),
                text => match text.parse::<f64>() {
                    Ok(v) if v.is_finite() => Ok(Some(v)),
                    _ => Err(table.error(
                        row,
                        k(name),
                        format!("`{text}` is not a number"),
                        "write numbers with a decimal point (12.5)",
                    )),
                },
            }
        };
        if cells[0].is_empty() {
            return Err(table.error(row, 0, "empty case_id".into(), "every mark names its case"));
        }
        let json_cell = |name: &str| -> Result<Option<Value>, AppError> {
            match cell(name) {
                "" => Ok(None),
                text => serde_json::from_str(text).map(Some).map_err(|e| {
                    table.error(
                        row,
                        k(name),
                        format!("not JSON: {e}"),
                        "write it as JSON in a quoted cell, e.g. \"[10, 20, 5, 8]\"",
                    )
                }),
            }
        };
        let (x, y, r) = (number("x")?, number("y")?, number("r")?);
        let corners = [number("x0")?, number("y0")?, number("x1")?, number("y1")?];
        let bbox = json_cell("bbox")?;
        let polygon = json_cell("polygon")?;
        let given = [
            x.is_some() || y.is_some(),
            corners.iter().any(Option::is_some),
            bbox.is_some(),
            polygon.is_some(),
        ];
        let (shape, field) = match given {
            [false, false, false, false] if r.is_none() => (None, "x"),
            [true, false, false, false] => match (x, y, r) {
                (Some(x), Some(y), None) => (Some(Shape::Point { x, y }), "x"),
                (Some(x), Some(y), Some(r)) => (Some(Shape::Circle { x, y, r }), "r"),
                _ => {
                    let missing = if x.is_none() { "x" } else { "y" };
                    return Err(table.error(row, k(missing), "empty".into(), SHAPE_HINT));
                }
            },
            [false, true, false, false] => match corners {
                [Some(x0), Some(y0), Some(x1), Some(y1)] => {
                    (Some(Shape::Box { x0, y0, x1, y1 }), "x0")
                }
                _ => {
                    let missing = ["x0", "y0", "x1", "y1"][corners
                        .iter()
                        .position(Option::is_none)
                        .expect("one missing")];
                    return Err(table.error(
                        row,
                        k(missing),
                        "empty: a box needs all four corners".into(),
                        SHAPE_HINT,
                    ));
                }
            },
            [false, false, true, false] => (
                Some(
                    bbox_shape(bbox.as_ref().expect("given"))
                        .map_err(|p| table.error(row, k("bbox"), p, SHAPE_HINT))?,
                ),
                "bbox",
            ),
            [false, false, false, true] => (
                Some(
                    polygon_shape(polygon.as_ref().expect("given"))
                        .map_err(|p| table.error(row, k("polygon"), p, SHAPE_HINT))?,
                ),
                "polygon",
            ),
            _ => {
                return Err(table.error(
                    row,
                    k("x"),
                    "more than one location (x/y, x0…y1, bbox, polygon) or a radius without x,y"
                        .into(),
                    SHAPE_HINT,
                ));
            }
        };
        if let Some(s) = &shape {
            check_shape(s).map_err(|p| table.error(row, k(field), p, SHAPE_HINT))?;
        }
        let rating = match (number("rating")?, number("score")?, number("confidence")?) {
            (Some(v), None, None) | (None, Some(v), None) | (None, None, Some(v)) => Some(v),
            (None, None, None) => None,
            _ => {
                return Err(table.error(
                    row,
                    k("rating"),
                    "rating given twice (rating, score, confidence)".into(),
                    "keep one rating column",
                ));
            }
        };
        let size_mm = number("size_mm")?;
        if size_mm.is_some_and(|s| s < 0.0) {
            return Err(table.error(
                row,
                k("size_mm"),
                "negative size".into(),
                "sizes are in mm, ≥ 0",
            ));
        }
        let weight = number("weight")?;
        if weight.is_some_and(|w| w <= 0.0) {
            return Err(table.error(
                row,
                k("weight"),
                "a lesion weight must be > 0".into(),
                "weights are relative importances within a case, e.g. 1",
            ));
        }
        let text = |name: &str| Some(cell(name).to_owned()).filter(|s| !s.is_empty());
        out.push(MarkRecord {
            case_id: cells[0].clone(),
            image: cell("image").to_owned(),
            shape,
            lesion_type: text("lesion_type"),
            size_mm,
            rating,
            weight,
            reader: text("reader"),
            role: text("role"),
            origin: Origin::Line(table.lines[row]),
        });
    }
    Ok(out)
}

/// COCO `bbox`: `[x, y, width, height]` from the top-left corner.
fn bbox_shape(value: &Value) -> Result<Shape, String> {
    let numbers: Option<Vec<f64>> = value
        .as_array()
        .map(|a| a.iter().map(Value::as_f64).collect::<Option<Vec<f64>>>())
        .unwrap_or(None);
    match numbers.as_deref() {
        Some(&[x, y, w, h]) => Ok(Shape::Box {
            x0: x,
            y0: y,
            x1: x + w,
            y1: y + h,
        }),
        _ => Err(format!("`{value}` is not [x, y, width, height]")),
    }
}

/// A polygon as `[[x, y], …]`, or COCO's `[[x1, y1, x2, y2, …]]` (one part).
fn polygon_shape(value: &Value) -> Result<Shape, String> {
    let bad = || {
        format!(
            "`{value}` is not a polygon [[x, y], ...] or COCO segmentation [[x1, y1, x2, y2, ...]]"
        )
    };
    let outer = value.as_array().ok_or_else(bad)?;
    let pairs: Option<Vec<(f64, f64)>> = outer
        .iter()
        .map(|p| match p.as_array().map(|a| a.as_slice()) {
            Some([x, y]) => x.as_f64().zip(y.as_f64()),
            _ => None,
        })
        .collect();
    if let Some(vertices) = pairs
        && outer.len() != 1
    {
        return Ok(Shape::Polygon { vertices });
    }
    if outer.len() == 1
        && let Some(flat) = outer[0].as_array()
    {
        let numbers: Option<Vec<f64>> = flat.iter().map(Value::as_f64).collect();
        if let Some(n) = numbers
            && n.len() % 2 == 0
        {
            return Ok(Shape::Polygon {
                vertices: n.chunks(2).map(|c| (c[0], c[1])).collect(),
            });
        }
    }
    Err(bad())
}

fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn read_json_marks(file: &Path, body: &[u8]) -> Result<Vec<MarkRecord>, AppError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| AppError::Json {
        file: file.to_owned(),
        path: format!("line {}, column {}", e.line(), e.column()),
        problem: format!("not JSON: {e}"),
        hint: "give an array of marks, or a COCO object with images, annotations and categories"
            .into(),
    })?;
    let err = |path: String, problem: String, hint: &str| AppError::Json {
        file: file.to_owned(),
        path,
        problem,
        hint: hint.into(),
    };
    // COCO: images (id → case and image), categories (id → lesion type).
    let mut images: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut categories: BTreeMap<String, String> = BTreeMap::new();
    let (list, list_path) = match &value {
        Value::Array(a) => (a, String::new()),
        Value::Object(o) => {
            for (i, image) in o
                .get("images")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let at = format!("images[{i}]");
                let id = image.get("id").and_then(id_text).ok_or_else(|| {
                    err(
                        format!("{at}.id"),
                        "missing image id".into(),
                        "every COCO image has an id",
                    )
                })?;
                let case = image.get("case_id").and_then(id_text).ok_or_else(|| {
                    err(
                        format!("{at}.case_id"),
                        "missing: kizon needs the case of each image".into(),
                        "add \"case_id\" to each entry of images (the study's case id)",
                    )
                })?;
                let name = image
                    .get("file_name")
                    .and_then(id_text)
                    .unwrap_or_else(|| id.clone());
                images.insert(id, (case, name));
            }
            for category in o
                .get("categories")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let (Some(id), Some(name)) = (
                    category.get("id").and_then(id_text),
                    category.get("name").and_then(id_text),
                ) {
                    categories.insert(id, name);
                }
            }
            let Some(a) = o
                .get("annotations")
                .or_else(|| o.get("marks"))
                .and_then(Value::as_array)
            else {
                return Err(err(
                    "annotations".into(),
                    "no annotations array".into(),
                    "a COCO object lists its marks under \"annotations\"",
                ));
            };
            (a, "annotations".to_owned())
        }
        _ => {
            return Err(err(
                String::new(),
                "neither an array nor an object".into(),
                "give an array of marks, or a COCO object",
            ));
        }
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let at = format!("{list_path}[{i}]");
        let Some(o) = item.as_object() else {
            return Err(err(
                at,
                "not an object".into(),
                "each mark is a JSON object",
            ));
        };
        let field_err =
            |field: &str, problem: String, hint: &str| err(format!("{at}.{field}"), problem, hint);
        let (case_id, image) = match (
            o.get("case_id").and_then(id_text),
            o.get("image_id").and_then(id_text),
        ) {
            (Some(case), image_id) => {
                let image = o
                    .get("image")
                    .and_then(id_text)
                    .or_else(|| {
                        image_id
                            .clone()
                            .map(|id| images.get(&id).map(|(_, n)| n.clone()).unwrap_or(id))
                    })
                    .unwrap_or_default();
                (case, image)
            }
            (None, Some(image_id)) => match images.get(&image_id) {
                Some((case, name)) => (case.clone(), name.clone()),
                None if images.is_empty() => (image_id, String::new()),
                None => {
                    return Err(field_err(
                        "image_id",
                        format!("image {image_id} is not among the file's images"),
                        "every annotation's image_id names an entry of images",
                    ));
                }
            },
            (None, None) => {
                return Err(field_err(
                    "case_id",
                    "missing: neither case_id nor image_id".into(),
                    "name the case of each mark (case_id, or COCO image_id)",
                ));
            }
        };
        let number = |name: &str| -> Result<Option<f64>, AppError> {
            match o.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v
                    .as_f64()
                    .filter(|x| x.is_finite())
                    .map(Some)
                    .ok_or_else(|| {
                        field_err(name, format!("`{v}` is not a number"), "give a number")
                    }),
            }
        };
        let shape = if let Some(tagged) = o.get("shape").filter(|s| s.is_string()) {
            let _ = tagged;
            Some(
                serde_json::from_value::<Shape>(item.clone())
                    .map_err(|e| field_err("shape", format!("{e}"), SHAPE_HINT))?,
            )
        } else if let Some(b) = o.get("bbox") {
            Some(bbox_shape(b).map_err(|p| field_err("bbox", p, SHAPE_HINT))?)
        } else if let Some(p) = o.get("polygon").or_else(|| o.get("segmentation")) {
            Some(polygon_shape(p).map_err(|e| field_err("polygon", e, SHAPE_HINT))?)
        } else {
            match (number("x")?, number("y")?, number("r")?) {
                (Some(x), Some(y), None) => Some(Shape::Point { x, y }),
                (Some(x), Some(y), Some(r)) => Some(Shape::Circle { x, y, r }),
                (None, None, None) => {
                    match (number("x0")?, number("y0")?, number("x1")?, number("y1")?) {
                        (Some(x0), Some(y0), Some(x1), Some(y1)) => {
                            Some(Shape::Box { x0, y0, x1, y1 })
                        }
                        (None, None, None, None) => None,
                        _ => {
                            return Err(field_err(
                                "x0",
                                "a box needs x0, y0, x1 and y1".into(),
                                SHAPE_HINT,
                            ));
                        }
                    }
                }
                _ => return Err(field_err("x", "a point needs x and y".into(), SHAPE_HINT)),
            }
        };
        if let Some(s) = &shape {
            check_shape(s).map_err(|p| field_err("", p, SHAPE_HINT))?;
        }
        let lesion_type = o.get("lesion_type").and_then(id_text).or_else(|| {
            o.get("category_id")
                .and_then(id_text)
                .map(|c| categories.get(&c).cloned().unwrap_or(c))
        });
        let rating = number("rating")?
            .or(number("score")?)
            .or(number("confidence")?);
        out.push(MarkRecord {
            case_id,
            image,
            shape,
            lesion_type,
            size_mm: number("size_mm")?,
            rating,
            weight: number("weight")?,
            reader: o.get("reader").and_then(id_text),
            role: o.get("role").and_then(id_text),
            origin: Origin::Json(at),
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Import

/// Whose marks an import brings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarksBy {
    /// A panel reader (or the adjudicator); a `reader` column, when present, overrides `code`.
    Reader {
        code: Option<String>,
        role: ReadRole,
    },
    Device {
        version: String,
    },
}

/// What `marks import` did.
#[derive(Debug, Clone, Serialize)]
pub struct MarksImport {
    /// `reader` or `device`.
    pub by: String,
    pub device_version: Option<String>,
    pub marks: usize,
    /// Reader × case (or case) sets in the file.
    pub sets: usize,
    pub new: usize,
    pub unchanged: usize,
    /// Device mark sets that differ from those imported before: not stored, raised as findings.
    pub changed: usize,
    /// Cases outside the locked dataset (device marks): not imported.
    pub outside_dataset: Vec<String>,
    pub document: String,
    pub ledger_seq: Option<i64>,
}

/// The identity of a mark within its set (what a re-import must repeat).
fn same_marks(old: &[kizon_store::StoredMark], new: &[kizon_store::NewMark]) -> bool {
    old.len() == new.len()
        && old.iter().zip(new).all(|(a, b)| {
            a.image == b.image
                && a.shape == b.shape
                && a.lesion_type == b.lesion_type
                && a.size_mm == b.size_mm
                && a.rating == b.rating
        })
}

/// The shape as stored (compact JSON of [`Shape`]).
pub fn shape_json(shape: &Shape) -> String {
    serde_json::to_string(shape).expect("a shape serialises")
}

impl Study {
    /// Imports lesion marks of a reader or of a device version (see the module documentation).
    pub fn import_marks(
        &mut self,
        actor: &str,
        file: &Path,
        by: &MarksBy,
    ) -> Result<MarksImport, AppError> {
        let (protocol, _) = self.protocol()?;
        if protocol.lesions.is_none() {
            return Err(AppError::Refused {
                what: "the protocol has no [lesions] table: marks cannot be matched to lesions".into(),
                hint: "add [lesions] (criterion, radius or threshold, k) to study.toml before locking the protocol, or amend it".into(),
            });
        }
        let device = match by {
            MarksBy::Device { version } => {
                let version = version.trim();
                if version.is_empty() {
                    return Err(AppError::Refused {
                        what: "a device version is needed".into(),
                        hint: "say which version produced the marks: --device-version 1.0.0".into(),
                    });
                }
                Some(version.to_owned())
            }
            MarksBy::Reader { .. } => None,
        };
        let dataset = match &device {
            Some(_) => {
                let dataset = self.locked_dataset("importing device marks")?;
                if self.store.lock(REFERENCE)?.is_none() {
                    return Err(AppError::Refused {
                        what: "the reference standard is not locked: device marks come after it".into(),
                        hint: "fix the reference standard (and its lesions) first: kizon lock reference".into(),
                    });
                }
                if self.reference_standard()?.0.lesions.is_none() {
                    return Err(AppError::Refused {
                        what: "the locked reference standard has no lesions: device marks cannot be matched".into(),
                        hint: "the lesion reference comes from the panel's marks (kizon marks import FILE --reader CODE) before kizon lock reference".into(),
                    });
                }
                Some(dataset)
            }
            None => {
                if let Some(lock) = self.store.lock(REFERENCE)? {
                    return Err(AppError::Refused {
                        what: format!(
                            "the reference standard is locked (ledger entry {}): importing reader marks would change its lesions",
                            lock.ledger_seq
                        ),
                        hint: "the lesion reference is fixed before device marks; record why in a protocol amendment if it must change".into(),
                    });
                }
                None
            }
        };
        let records = read_marks_file(file, self.csv_encoding)?;
        let readers: BTreeMap<String, i64> = self
            .store
            .readers()?
            .into_iter()
            .map(|r| (r.code, r.id))
            .collect();
        let known: BTreeSet<String> = self.store.cases()?.into_iter().map(|c| c.id).collect();
        let in_dataset: Option<BTreeSet<&str>> = dataset.as_ref().map(|d| d.case_ids());
        let mut sets: BTreeMap<(String, kizon_store::MarkOwner), Vec<kizon_store::NewMark>> =
            BTreeMap::new();
        let mut outside = BTreeSet::new();
        for record in &records {
            let fail = |field: &str, problem: String, hint: &str| {
                input_error(file, &record.origin, field, problem, hint)
            };
            if !known.contains(&record.case_id) {
                return Err(fail(
                    "case_id",
                    format!("no case `{}` in the study", record.case_id),
                    "marks name the study's case ids (`kizon items`, `kizon dataset show`)",
                ));
            }
            let Some(shape) = &record.shape else {
                return Err(fail("x", "no location".into(), SHAPE_HINT));
            };
            let owner = match by {
                MarksBy::Device { .. } => {
                    if record.rating.is_none() {
                        return Err(fail(
                            "rating",
                            "a device mark needs its confidence rating".into(),
                            "give the device's score for each mark (rating, score or confidence); a device without scores gives every mark 1",
                        ));
                    }
                    kizon_store::MarkOwner::Device {
                        version: device.clone().expect("device"),
                    }
                }
                MarksBy::Reader { code, role } => {
                    let Some(code) = record.reader.as_ref().or(code.as_ref()) else {
                        return Err(fail(
                            "reader",
                            "no reader".into(),
                            "give --reader CODE or a reader column",
                        ));
                    };
                    let Some(&reader_id) = readers.get(code) else {
                        return Err(fail(
                            "reader",
                            format!("unknown reader `{code}`"),
                            "register readers first: kizon readers add CODE --qualification ... --specialty ... --years N --independent",
                        ));
                    };
                    let role = match record.role.as_deref() {
                        None => role.clone(),
                        Some("panel") => ReadRole::Panel,
                        Some("adjudicator") => ReadRole::Adjudicator,
                        Some(other) => {
                            return Err(fail(
                                "role",
                                format!("`{other}` is not a role"),
                                "use panel or adjudicator",
                            ));
                        }
                    };
                    kizon_store::MarkOwner::Reader { reader_id, role }
                }
            };
            if let Some(ids) = &in_dataset
                && !ids.contains(record.case_id.as_str())
            {
                outside.insert(record.case_id.clone());
                continue;
            }
            let set = sets
                .entry((record.case_id.clone(), owner.clone()))
                .or_default();
            set.push(kizon_store::NewMark {
                case_id: record.case_id.clone(),
                image: record.image.clone(),
                owner,
                ordinal: set.len() as i64,
                shape: shape_json(shape),
                lesion_type: record.lesion_type.clone(),
                size_mm: record.size_mm,
                rating: record.rating,
                source: String::new(),
            });
        }
        let mut summary = MarksImport {
            by: if device.is_some() { "device" } else { "reader" }.into(),
            device_version: device.clone(),
            marks: sets.values().map(Vec::len).sum(),
            sets: sets.len(),
            new: 0,
            unchanged: 0,
            changed: 0,
            outside_dataset: outside.into_iter().collect(),
            document: String::new(),
            ledger_seq: None,
        };
        let entry = self.store.transact(actor, |tx| {
            let document = tx.put_document_file(file)?;
            summary.document = document.sha256.clone();
            for ((case_id, owner), marks) in &mut sets {
                for m in marks.iter_mut() {
                    m.source = document.sha256.clone();
                }
                let old = tx.marks_of(case_id, owner)?;
                if old.is_empty() {
                    for m in marks.iter() {
                        tx.insert_mark(m)?;
                    }
                    summary.new += 1;
                } else if same_marks(&old, marks) {
                    summary.unchanged += 1;
                } else if let kizon_store::MarkOwner::Device { version } = owner {
                    summary.changed += 1;
                    tx.insert_finding(&kizon_store::NewFinding {
                        key: format!("device-marks-changed:{version}:{case_id}:{}", document.sha256),
                        rule: "device-marks-changed".into(),
                        clause: "Q7".into(),
                        severity: Severity::Blocking,
                        case_ids: serde_json::to_string(&[case_id]).expect("strings serialise"),
                        item_ids: "[]".into(),
                        message_ja: format!(
                            "機器の病変マークが再取込みで変化しました（版 {version}、症例 {case_id}：{} 個 → {} 個）。取込み済みのマークは変更されません。",
                            old.len(),
                            marks.len()
                        ),
                        message_en: format!(
                            "a re-import changes the device's lesion marks (version {version}, case {case_id}: {} → {} marks); the imported marks stay as they were",
                            old.len(),
                            marks.len()
                        ),
                    })?;
                } else {
                    return Err(kizon_store::StoreError::Conflict(format!(
                        "{}: reader {} already marked case {case_id} ({} marks, ledger entry {}); marks are never replaced",
                        file.display(),
                        old[0].reader.as_deref().unwrap_or("?"),
                        old.len(),
                        old[0].ledger_seq
                    )));
                }
            }
            if summary.new == 0 && summary.changed == 0 {
                tx.abandon();
                return Ok(None);
            }
            tx.record(
                "marks import",
                &format!(
                    "{} lesion mark sets of {} from {}{}",
                    summary.new,
                    match &device {
                        Some(v) => format!("device {v}"),
                        None => "readers".into(),
                    },
                    file.display(),
                    if summary.changed > 0 {
                        format!("; {} changed, raised as findings", summary.changed)
                    } else {
                        String::new()
                    }
                ),
                json!({
                    "file": file.display().to_string(),
                    "document": document.sha256,
                    "by": summary.by,
                    "device_version": device,
                    "marks": summary.marks,
                    "sets": summary.sets,
                    "new": summary.new,
                    "unchanged": summary.unchanged,
                    "changed": summary.changed,
                    "outside_dataset": summary.outside_dataset,
                }),
            )
            .map(Some)
        });
        let entry = entry.map_err(|e| match e {
            kizon_store::StoreError::Conflict(what) => AppError::Refused {
                what,
                hint: "every individual mark is kept as first given; fix the file, or import a re-read under another role".into(),
            },
            other => other.into(),
        })?;
        summary.ledger_seq = entry.map(|e| e.seq);
        Ok(summary)
    }

    pub fn marks(&self) -> Result<Vec<kizon_store::StoredMark>, AppError> {
        Ok(self.store.marks()?)
    }
}

// ---------------------------------------------------------------------------------------
// The lesion reference

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

// ---------------------------------------------------------------------------------------
// Lesion-level figures (FROC)

/// A figure of merit with its bootstrap percentile interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FomCi {
    pub estimate: f64,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

/// A point of the FROC curve (`threshold` null at the origin).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FrocCurvePoint {
    pub threshold: Option<f64>,
    /// NLs per case.
    pub nlf: f64,
    pub fp_per_image: f64,
    pub llf: f64,
}

/// A point of the AFROC and wAFROC curves (`threshold` null at the ends).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AfrocCurvePoint {
    pub threshold: Option<f64>,
    pub fpf: f64,
    pub llf: f64,
    pub wllf: f64,
}

/// How precisely the hits located their lesions (in the coordinates' units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalisationSummary {
    pub hits: u64,
    pub mean_distance: f64,
    pub median_distance: f64,
    pub max_distance: f64,
    pub mean_iou: Option<f64>,
    pub median_iou: Option<f64>,
    /// Segmentation overlap of the hits whose mark and lesion are both regions (boxes or
    /// polygons, the device's masks): mean Dice and IoU ([`kizon_stats::region_overlap`]);
    /// absent when no hit has two regions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segmentation: Option<SegmentationSummary>,
}

/// Mean Dice and IoU over the hits with two regions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentationSummary {
    pub regions: u64,
    pub mean_dice: f64,
    pub mean_iou: f64,
}

/// Lesion-level results (JSON of `kizon stats froc` and the `lesions` section of an analysis).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LesionFigures {
    /// The matching criterion in words (`distance ≤ 10 mm`, `IoU ≥ 0.5`, `inside`).
    pub criterion: String,
    pub duplicates: DuplicateMarks,
    pub cases: u64,
    pub normal_cases: u64,
    pub abnormal_cases: u64,
    pub images: u64,
    pub lesions: u64,
    pub marks: u64,
    /// Marks that hit a lesion (LL) and that did not (NL), at any rating.
    pub hits: u64,
    pub nl_marks: u64,
    pub duplicate_marks: u64,
    /// JAFROC figure of merit (AFROC AUC) and weighted AFROC, with bootstrap intervals.
    pub afroc: FomCi,
    pub wafroc: FomCi,
    /// The operating point: marks rated at or above it (null: every mark).
    pub threshold: Option<f64>,
    pub level: f64,
    /// Lesion localisation fraction at the threshold, interval clustered by case.
    pub lesion_sensitivity: Option<Estimate>,
    pub fp_per_image: Option<Estimate>,
    pub fp_per_case: Option<Estimate>,
    pub case_sensitivity: Option<Estimate>,
    pub case_specificity: Option<Estimate>,
    pub localisation: Option<LocalisationSummary>,
    pub froc_curve: Vec<FrocCurvePoint>,
    pub afroc_curve: Vec<AfrocCurvePoint>,
    pub replicates: usize,
    pub seed: u64,
}

/// Lesions and marks of one evaluation, keyed by case and image.
pub(crate) struct FrocInput<'a> {
    /// Every case with the number of images it shows (at least the images named below).
    pub cases: BTreeMap<&'a str, u64>,
    /// (case, image, shape, weight)
    pub lesions: Vec<(&'a str, &'a str, Shape, f64)>,
    /// (case, image, shape, rating)
    pub marks: Vec<(&'a str, &'a str, Shape, f64)>,
}

pub(crate) struct FrocSettings {
    pub criterion: MatchCriterion,
    pub criterion_text: String,
    pub duplicates: DuplicateMarks,
    pub threshold: Option<f64>,
    pub level: f64,
    pub replicates: usize,
    pub seed: u64,
}

fn none_if_infinite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Matches the marks to the lesions and computes the lesion-level figures
/// ([`kizon_stats::match_marks`], [`kizon_stats::froc_analysis`]).
pub(crate) fn lesion_figures(
    input: &FrocInput<'_>,
    settings: &FrocSettings,
) -> Result<LesionFigures, AppError> {
    // Images: every (case, image) named, then unnamed images up to each case's count.
    let mut image_index: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (case, image, ..) in input.lesions.iter().chain(&input.marks) {
        let next = image_index.len();
        image_index.entry((case, image)).or_insert(next);
    }
    let case_ids: Vec<&str> = input.cases.keys().copied().collect();
    let case_number = |case: &str| case_ids.binary_search(&case).expect("known case") as u64;
    let mut image_case = vec![0u64; image_index.len()];
    let mut named: BTreeMap<&str, u64> = BTreeMap::new();
    for (&(case, _), &i) in &image_index {
        image_case[i] = case_number(case);
        *named.entry(case).or_default() += 1;
    }
    for (case, &count) in &input.cases {
        let have = named.get(case).copied().unwrap_or(0);
        for _ in have..count.max(1) {
            image_case.push(case_number(case));
        }
    }
    let lesions: Vec<kizon_stats::Lesion> = input
        .lesions
        .iter()
        .map(|(case, image, shape, weight)| kizon_stats::Lesion {
            image: image_index[&(*case, *image)],
            shape: shape.clone(),
            weight: *weight,
        })
        .collect();
    let marks: Vec<kizon_stats::Mark> = input
        .marks
        .iter()
        .map(|(case, image, shape, rating)| kizon_stats::Mark {
            image: image_index[&(*case, *image)],
            shape: shape.clone(),
            rating: *rating,
        })
        .collect();
    let duplicates = match settings.duplicates {
        DuplicateMarks::Discard => kizon_stats::DuplicateMarks::Discard,
        DuplicateMarks::FalsePositive => kizon_stats::DuplicateMarks::FalsePositive,
    };
    let matching = kizon_stats::match_marks(&lesions, &marks, settings.criterion, duplicates)?;
    let (_, cases) = kizon_stats::froc_cases(&image_case, &lesions, &marks, &matching)?;
    let froc = kizon_stats::froc_analysis(
        &cases,
        &kizon_stats::FrocOptions {
            threshold: settings.threshold,
            level: settings.level,
            replicates: settings.replicates,
            seed: settings.seed,
        },
    )?;
    let count = |f: &dyn Fn(&kizon_stats::MarkOutcome) -> bool| {
        matching.outcomes.iter().filter(|o| f(o)).count() as u64
    };
    let fom = |f: kizon_stats::Fom| FomCi {
        estimate: f.estimate,
        lower: f.lower,
        upper: f.upper,
    };
    Ok(LesionFigures {
        criterion: settings.criterion_text.clone(),
        duplicates: settings.duplicates,
        cases: cases.len() as u64,
        normal_cases: froc.normal_cases,
        abnormal_cases: froc.abnormal_cases,
        images: froc.images,
        lesions: froc.lesions,
        marks: marks.len() as u64,
        hits: count(&|o| matches!(o, kizon_stats::MarkOutcome::Hit { .. })),
        nl_marks: froc.nl_marks,
        duplicate_marks: count(&|o| matches!(o, kizon_stats::MarkOutcome::Duplicate { .. })),
        afroc: fom(froc.afroc),
        wafroc: fom(froc.wafroc),
        threshold: froc.threshold,
        level: settings.level,
        lesion_sensitivity: froc.lesion_sensitivity,
        fp_per_image: froc.fp_per_image,
        fp_per_case: froc.fp_per_case,
        case_sensitivity: froc.case_sensitivity,
        case_specificity: froc.case_specificity,
        localisation: kizon_stats::localisation(&matching).map(|l| {
            let overlaps: Vec<(f64, f64)> = matching
                .hits
                .iter()
                .filter_map(|h| {
                    kizon_stats::region_overlap(&marks[h.mark].shape, &lesions[h.lesion].shape)
                })
                .collect();
            let n = overlaps.len() as f64;
            LocalisationSummary {
                hits: l.hits,
                mean_distance: l.mean_distance,
                median_distance: l.median_distance,
                max_distance: l.max_distance,
                mean_iou: l.mean_iou,
                median_iou: l.median_iou,
                segmentation: (!overlaps.is_empty()).then(|| SegmentationSummary {
                    regions: overlaps.len() as u64,
                    mean_dice: overlaps.iter().map(|o| o.0).sum::<f64>() / n,
                    mean_iou: overlaps.iter().map(|o| o.1).sum::<f64>() / n,
                }),
            }
        }),
        froc_curve: froc
            .froc_curve
            .iter()
            .map(|p| FrocCurvePoint {
                threshold: none_if_infinite(p.threshold),
                nlf: p.nlf,
                fp_per_image: p.fp_per_image,
                llf: p.llf,
            })
            .collect(),
        afroc_curve: froc
            .afroc_curve
            .iter()
            .map(|p| AfrocCurvePoint {
                threshold: none_if_infinite(p.threshold),
                fpf: p.fpf,
                llf: p.llf,
                wllf: p.wllf,
            })
            .collect(),
        replicates: froc.replicates,
        seed: froc.seed,
    })
}

// ---------------------------------------------------------------------------------------
// `kizon stats froc`

/// Input of [`froc`]: a lesions file and a marks file (CSV or JSON), no study needed.
#[derive(Debug, Clone)]
pub struct FrocFiles {
    /// Reference lesions; a row without a location names a case (image) with no lesion, so
    /// that normal cases without marks are counted.
    pub lesions: PathBuf,
    /// Device or reader marks with their ratings.
    pub marks: PathBuf,
    pub criterion: LesionCriterion,
    pub radius: Option<f64>,
    pub threshold: Option<f64>,
    pub units: LesionUnits,
    pub duplicates: DuplicateMarks,
    /// Operating point: marks rated at or above it.
    pub rating_threshold: Option<f64>,
    pub level: f64,
    pub replicates: usize,
    pub seed: u64,
}

/// FROC analysis of two files: the JAFROC figures of merit with bootstrap intervals, the
/// lesion-level sensitivity with its clustered interval, NLs per image and per case, per-case
/// sensitivity and specificity, localisation, the FROC and AFROC curves.
pub fn froc(input: &FrocFiles) -> Result<LesionFigures, AppError> {
    let plan = LesionPlan {
        criterion: input.criterion,
        radius: input.radius,
        threshold: input.threshold,
        units: input.units,
        k: 1,
        adjudication: false,
        duplicates: input.duplicates,
        rating_threshold: input.rating_threshold,
    };
    match (input.criterion, input.radius, input.threshold) {
        (LesionCriterion::Distance, None, _) => {
            return Err(AppError::Refused {
                what: "--criterion distance needs --radius".into(),
                hint:
                    "give the largest centre distance, e.g. --radius 10 (in the coordinates' unit)"
                        .into(),
            });
        }
        (LesionCriterion::Iou, _, None) => {
            return Err(AppError::Refused {
                what: "--criterion iou needs --iou".into(),
                hint: "give the smallest intersection over union, e.g. --iou 0.5".into(),
            });
        }
        _ => {}
    }
    let lesion_rows = read_marks_file(&input.lesions, None)?;
    let mark_rows = read_marks_file(&input.marks, None)?;
    let mut cases: BTreeMap<&str, u64> = BTreeMap::new();
    let mut images: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in lesion_rows.iter().chain(&mark_rows) {
        cases.entry(&r.case_id).or_insert(1);
        images.entry(&r.case_id).or_default().insert(&r.image);
    }
    for (case, set) in &images {
        cases.insert(case, set.len() as u64);
    }
    let mut lesions = Vec::new();
    for r in &lesion_rows {
        if let Some(shape) = &r.shape {
            lesions.push((
                r.case_id.as_str(),
                r.image.as_str(),
                shape.clone(),
                r.weight.unwrap_or(1.0),
            ));
        }
    }
    let mut marks = Vec::new();
    for r in &mark_rows {
        let fail = |field: &str, problem: &str, hint: &str| {
            input_error(&input.marks, &r.origin, field, problem.into(), hint)
        };
        let Some(shape) = &r.shape else {
            return Err(fail("x", "no location", SHAPE_HINT));
        };
        let Some(rating) = r.rating else {
            return Err(fail(
                "rating",
                "a mark needs its rating",
                "give each mark's confidence (rating, score or confidence); use 1 for unrated marks",
            ));
        };
        marks.push((r.case_id.as_str(), r.image.as_str(), shape.clone(), rating));
    }
    lesion_figures(
        &FrocInput {
            cases,
            lesions,
            marks,
        },
        &FrocSettings {
            criterion: match_criterion(&plan),
            criterion_text: criterion_text(&plan),
            duplicates: input.duplicates,
            threshold: input.rating_threshold,
            level: input.level,
            replicates: input.replicates,
            seed: input.seed,
        },
    )
}

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
