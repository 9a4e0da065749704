//! CSV files given to kizon (statistics inputs, reads, reference standards, device results):
//! UTF-8 with or without a byte-order mark, UTF-16 with its mark, or CP932 (`encoding`),
//! columns selected by their header name, every problem reported as [`InputError::Csv`] with the
//! file, the CSV line (the header is line 1, blank and quoted line breaks counted) and the
//! column. No row is dropped silently.

use std::fs;
use std::path::{Path, PathBuf};

use crate::InputError;

/// Formats the location of a CSV problem: `file:line: column `c`: problem`.
pub fn csv_location(file: &Path, line: Option<u64>, column: Option<&str>, problem: &str) -> String {
    let mut out = file.display().to_string();
    if let Some(line) = line {
        out.push_str(&format!(":{line}"));
    }
    if let Some(column) = column {
        out.push_str(&format!(": column `{column}`"));
    }
    out.push_str(": ");
    out.push_str(problem);
    out
}

/// Selected columns of a CSV file, cells trimmed, with the line of each row.
#[derive(Debug)]
pub struct Columns {
    pub file: PathBuf,
    pub names: Vec<String>,
    /// `cells[row][k]`: the value of the k-th selected column.
    pub cells: Vec<Vec<String>>,
    pub lines: Vec<u64>,
}

impl Columns {
    pub fn error(
        &self,
        row: usize,
        k: usize,
        problem: String,
        hint: impl Into<String>,
    ) -> InputError {
        InputError::Csv {
            file: self.file.clone(),
            line: Some(self.lines[row]),
            column: Some(self.names[k].clone()),
            problem,
            hint: hint.into(),
        }
    }

    pub fn column_error(&self, k: usize, problem: String, hint: impl Into<String>) -> InputError {
        InputError::Csv {
            file: self.file.clone(),
            line: None,
            column: Some(self.names[k].clone()),
            problem,
            hint: hint.into(),
        }
    }

    /// Parses column `k` as finite numbers.
    pub fn numbers(&self, k: usize, what: &str) -> Result<Vec<f64>, InputError> {
        let hint = format!(
            "{what}s must be numbers written with a decimal point (0.5, not 0,5); kizon drops no case silently: complete or remove the row"
        );
        self.cells
            .iter()
            .enumerate()
            .map(|(row, cells)| {
                let text = &cells[k];
                if text.is_empty() {
                    return Err(self.error(row, k, format!("empty {what}"), hint.clone()));
                }
                match text.parse::<f64>() {
                    Ok(x) if x.is_finite() => Ok(x),
                    Ok(_) => Err(self.error(
                        row,
                        k,
                        format!("`{text}` is not a finite number"),
                        hint.clone(),
                    )),
                    Err(_) => {
                        Err(self.error(row, k, format!("`{text}` is not a number"), hint.clone()))
                    }
                }
            })
            .collect()
    }
}

fn csv_error(file: &Path, line: Option<u64>, problem: String, hint: &str) -> InputError {
    InputError::Csv {
        file: file.to_owned(),
        line,
        column: None,
        problem,
        hint: hint.into(),
    }
}

const ENCODING_HINT: &str = "save the file as UTF-8 (in Excel: \"CSV UTF-8\") or CP932 (Shift_JIS), or name it with --encoding";

/// Reads the columns `wanted` (by header name) of a comma-separated file with a header
/// line. A UTF-8 byte-order mark is skipped; line numbers count the header as line 1.
pub fn read_columns(file: &Path, wanted: &[&str]) -> Result<Columns, InputError> {
    read_table(file, wanted, &[], None)
}

/// Like [`read_columns`], with `optional` columns after the required ones: an optional
/// column missing from the header reads as empty cells.
pub fn read_table(
    file: &Path,
    required: &[&str],
    optional: &[&str],
    encoding: Option<crate::encoding::Encoding>,
) -> Result<Columns, InputError> {
    let bytes = fs::read(file).map_err(|source| InputError::Io {
        path: file.to_owned(),
        source,
    })?;
    parse_table(file, &bytes, required, optional, encoding)
}

/// [`read_table`] of bytes already read; `file` names them in errors.
pub fn parse_table(
    file: &Path,
    bytes: &[u8],
    required: &[&str],
    optional: &[&str],
    encoding: Option<crate::encoding::Encoding>,
) -> Result<Columns, InputError> {
    let wanted: Vec<&str> = required.iter().chain(optional).copied().collect();
    // UTF-8, UTF-16 or CP932 (Japanese hospital exports), detected unless `--encoding` names
    // it, read as UTF-8 from here on.
    let (text, _) = crate::encoding::decode_as(file, bytes, encoding)?;
    let body = text.as_bytes();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(body);
    // The csv crate does not count blank lines in `Position::line`, and a record's byte
    // offset points before the blank lines it skipped: skip them, then count the line
    // breaks before the record (incrementally: records come in order).
    let skip_blank = |byte: u64| -> usize {
        let mut byte = (byte as usize).min(body.len());
        while matches!(body.get(byte), Some(b'\n' | b'\r')) {
            byte += 1;
        }
        byte
    };
    let mut counted = (0usize, 1u64);
    let mut line_at = |byte: u64| -> u64 {
        let byte = skip_blank(byte);
        let (from, line) = counted;
        let line = line
            + body[from.min(byte)..byte]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
        counted = (byte.max(from), line);
        line
    };
    let structure = |e: csv::Error| -> InputError {
        let line = e.position().map(|p| {
            1 + body[..skip_blank(p.byte())]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64
        });
        let problem = match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!("{len} fields, but the header has {expected_len}"),
            _ => e.to_string(),
        };
        csv_error(
            file,
            line,
            problem,
            "every row needs as many comma-separated fields as the header; quote fields that contain commas",
        )
    };
    let headers = reader.byte_headers().map_err(structure)?.clone();
    if headers.is_empty() || headers.iter().all(|h| h.is_empty()) {
        return Err(csv_error(
            file,
            Some(1),
            "no header line".into(),
            "the first line must name the columns, e.g. `case,truth,score`",
        ));
    }
    let headers: Vec<String> = headers
        .iter()
        .map(|h| {
            std::str::from_utf8(h)
                .map(|s| s.trim().to_owned())
                .map_err(|_| csv_error(file, Some(1), "header is not UTF-8".into(), ENCODING_HINT))
        })
        .collect::<Result<_, _>>()?;
    let mut index = Vec::with_capacity(wanted.len());
    for (k, &name) in wanted.iter().enumerate() {
        let found: Vec<usize> = (0..headers.len()).filter(|&i| headers[i] == name).collect();
        match found.as_slice() {
            [i] => index.push(Some(*i)),
            [] if k >= required.len() => index.push(None),
            [] => {
                let near = headers
                    .iter()
                    .find(|h| h.eq_ignore_ascii_case(name))
                    .map(|h| format!("did you mean `{h}`? "))
                    .unwrap_or_default();
                let list: Vec<String> = headers.iter().map(|h| format!("`{h}`")).collect();
                return Err(InputError::Csv {
                    file: file.to_owned(),
                    line: Some(1),
                    column: Some(name.to_owned()),
                    problem: "no such column in the header".into(),
                    hint: format!(
                        "{near}the columns are {} (names are case-sensitive)",
                        list.join(", ")
                    ),
                });
            }
            _ => {
                return Err(InputError::Csv {
                    file: file.to_owned(),
                    line: Some(1),
                    column: Some(name.to_owned()),
                    problem: format!("{} columns have this name", found.len()),
                    hint: "rename the columns so that each name is unique".into(),
                });
            }
        }
    }
    let mut columns = Columns {
        file: file.to_owned(),
        names: wanted.iter().map(|s| s.to_string()).collect(),
        cells: Vec::new(),
        lines: Vec::new(),
    };
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).map_err(structure)? {
        let line = record.position().map_or(0, |p| line_at(p.byte()));
        // A line with nothing on it (e.g. a trailing blank line) is not a case.
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        let mut cells = Vec::with_capacity(index.len());
        for (k, &i) in index.iter().enumerate() {
            let Some(i) = i else {
                cells.push(String::new());
                continue;
            };
            let cell = std::str::from_utf8(record.get(i).unwrap_or_default()).map_err(|_| {
                InputError::Csv {
                    file: file.to_owned(),
                    line: Some(line),
                    column: Some(wanted[k].to_owned()),
                    problem: "not UTF-8 text".into(),
                    hint: ENCODING_HINT.into(),
                }
            })?;
            cells.push(cell.trim().to_owned());
        }
        columns.cells.push(cells);
        columns.lines.push(line);
    }
    if columns.cells.is_empty() {
        return Err(csv_error(
            file,
            None,
            "no data rows after the header".into(),
            "the file needs one row per case below the header line",
        ));
    }
    Ok(columns)
}
