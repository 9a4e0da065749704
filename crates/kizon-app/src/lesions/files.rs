//! Mark files, CSV or JSON (COCO included), read into marks with their shapes; every bad value named by file, line and field.

use super::*;

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

pub(super) fn input_error(
    file: &Path,
    origin: &Origin,
    field: &str,
    problem: String,
    hint: &str,
) -> AppError {
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

pub(super) const SHAPE_HINT: &str = "give x,y (point), x,y,r (circle), x0,y0,x1,y1 or bbox [x, y, w, h] (box), or polygon [[x, y], ...] with at least 3 vertices";

/// Checks a shape's numbers (finite, ordered box corners, radius ≥ 0, 3+ vertices).
pub(super) fn check_shape(shape: &Shape) -> Result<(), String> {
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
    encoding: Option<kizon_tables::encoding::Encoding>,
) -> Result<Vec<MarkRecord>, AppError> {
    let bytes = std::fs::read(file).map_err(crate::error::io(file))?;
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(&bytes);
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{' | b'[') => read_json_marks(file, body),
        _ => read_csv_marks(file, encoding),
    }
}

pub(super) const CSV_COLUMNS: &[&str] = &[
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

pub(super) fn read_csv_marks(
    file: &Path,
    encoding: Option<kizon_tables::encoding::Encoding>,
) -> Result<Vec<MarkRecord>, AppError> {
    let table = read_table(file, &["case_id"], CSV_COLUMNS, encoding)?;
    let k = |name: &str| 1 + CSV_COLUMNS.iter().position(|c| *c == name).expect("column");
    let mut out = Vec::with_capacity(table.len());
    for (row, cells) in table.rows().enumerate() {
        let cell = |name: &str| cells.get(k(name));
        let number = |name: &str| -> Result<Option<f64>, AppError> {
            match cell(name) {
                "" => Ok(None),
                text => match text.parse::<f64>() {
                    Ok(v) if v.is_finite() => Ok(Some(v)),
                    _ => Err(table
                        .error(
                            row,
                            k(name),
                            format!("`{text}` is not a number"),
                            "write numbers with a decimal point (12.5)",
                        )
                        .into()),
                },
            }
        };
        if cells[0].is_empty() {
            return Err(table
                .error(row, 0, "empty case_id".into(), "every mark names its case")
                .into());
        }
        let json_cell = |name: &str| -> Result<Option<Value>, AppError> {
            match cell(name) {
                "" => Ok(None),
                text => serde_json::from_str(text).map(Some).map_err(|e| {
                    table
                        .error(
                            row,
                            k(name),
                            format!("not JSON: {e}"),
                            "write it as JSON in a quoted cell, e.g. \"[10, 20, 5, 8]\"",
                        )
                        .into()
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
                    return Err(table
                        .error(row, k(missing), "empty".into(), SHAPE_HINT)
                        .into());
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
                    return Err(table
                        .error(
                            row,
                            k(missing),
                            "empty: a box needs all four corners".into(),
                            SHAPE_HINT,
                        )
                        .into());
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
                ).into());
            }
        };
        if let Some(s) = &shape {
            check_shape(s).map_err(|p| table.error(row, k(field), p, SHAPE_HINT))?;
        }
        let rating = match (number("rating")?, number("score")?, number("confidence")?) {
            (Some(v), None, None) | (None, Some(v), None) | (None, None, Some(v)) => Some(v),
            (None, None, None) => None,
            _ => {
                return Err(table
                    .error(
                        row,
                        k("rating"),
                        "rating given twice (rating, score, confidence)".into(),
                        "keep one rating column",
                    )
                    .into());
            }
        };
        let size_mm = number("size_mm")?;
        if size_mm.is_some_and(|s| s < 0.0) {
            return Err(table
                .error(
                    row,
                    k("size_mm"),
                    "negative size".into(),
                    "sizes are in mm, ≥ 0",
                )
                .into());
        }
        let weight = number("weight")?;
        if weight.is_some_and(|w| w <= 0.0) {
            return Err(table
                .error(
                    row,
                    k("weight"),
                    "a lesion weight must be > 0".into(),
                    "weights are relative importances within a case, e.g. 1",
                )
                .into());
        }
        let text = |name: &str| Some(cell(name).to_owned()).filter(|s| !s.is_empty());
        out.push(MarkRecord {
            case_id: cells.get(0).to_owned(),
            image: cell("image").to_owned(),
            shape,
            lesion_type: text("lesion_type"),
            size_mm,
            rating,
            weight,
            reader: text("reader"),
            role: text("role"),
            origin: Origin::Line(table.line(row)),
        });
    }
    Ok(out)
}

/// COCO `bbox`: `[x, y, width, height]` from the top-left corner.
pub(super) fn bbox_shape(value: &Value) -> Result<Shape, String> {
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
pub(super) fn polygon_shape(value: &Value) -> Result<Shape, String> {
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

pub(super) fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads marks written as JSON (an array of marks, or a COCO object) from bytes; `file` names
/// them in errors.
pub fn read_json_marks(file: &Path, body: &[u8]) -> Result<Vec<MarkRecord>, AppError> {
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
