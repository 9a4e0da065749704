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

/// Selected columns of a CSV file, cells trimmed, with the CSV line of each row.
///
/// Every selected cell lives in one text buffer, found by its end offset: a table of two
/// million rows is two allocations, not one `String` per cell. Columns not asked for are never
/// copied. Typed columns come from [`Columns::numbers`].
#[derive(Debug)]
pub struct Columns {
    pub file: PathBuf,
    pub names: Vec<String>,
    /// The selected cells, trimmed, one after another, row after row.
    text: String,
    /// End of each cell in `text`: `names.len()` cells a row.
    ends: Vec<u32>,
    rows: usize,
    /// `(row, line)` where a row is not on the line after the previous row's (the first row is
    /// on line 2): blank lines and quoted line breaks are rare, so most files store none.
    jumps: Vec<(usize, u64)>,
}

/// One row of [`Columns`]: `row[k]` is its cell in the k-th selected column.
#[derive(Debug, Clone, Copy)]
pub struct Row<'c> {
    columns: &'c Columns,
    row: usize,
}

impl<'c> Row<'c> {
    /// The cell in the k-th selected column, borrowed from the table (not from this `Row`).
    pub fn get(&self, k: usize) -> &'c str {
        self.columns.cell(self.row, k)
    }

    /// The row's cells, in the order of the selected columns.
    pub fn iter(&self) -> impl Iterator<Item = &'c str> + use<'c> {
        let row = *self;
        (0..self.columns.names.len()).map(move |k| row.get(k))
    }
}

impl std::ops::Index<usize> for Row<'_> {
    type Output = str;
    fn index(&self, k: usize) -> &str {
        self.get(k)
    }
}

impl Columns {
    /// The number of data rows.
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Ends the cell being written (`None`: the text no longer fits the 32-bit offsets).
    fn end_cell(&mut self) -> Option<()> {
        self.ends.push(u32::try_from(self.text.len()).ok()?);
        Some(())
    }

    /// Ends a row read on `line`, noting it if it is not `next_line`.
    fn end_row(&mut self, line: u64, next_line: &mut u64) {
        if line != *next_line {
            self.jumps.push((self.rows, line));
        }
        *next_line = line + 1;
        self.rows += 1;
    }

    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.jumps.clear();
        self.rows = 0;
    }

    /// The cell of `row` in the k-th selected column.
    pub fn cell(&self, row: usize, k: usize) -> &str {
        let at = row * self.names.len() + k;
        let start = if at == 0 {
            0
        } else {
            self.ends[at - 1] as usize
        };
        &self.text[start..self.ends[at] as usize]
    }

    pub fn row(&self, row: usize) -> Row<'_> {
        Row { columns: self, row }
    }

    pub fn rows(&self) -> impl ExactSizeIterator<Item = Row<'_>> {
        (0..self.rows).map(|row| self.row(row))
    }

    /// The CSV line of `row` (the header is line 1).
    pub fn line(&self, row: usize) -> u64 {
        let after = self.jumps.partition_point(|&(jump, _)| jump <= row);
        match after.checked_sub(1).map(|i| self.jumps[i]) {
            Some((jump, line)) => line + (row - jump) as u64,
            None => row as u64 + 2,
        }
    }

    /// The CSV line of every row.
    pub fn lines(&self) -> Vec<u64> {
        (0..self.rows).map(|row| self.line(row)).collect()
    }

    pub fn error(
        &self,
        row: usize,
        k: usize,
        problem: String,
        hint: impl Into<String>,
    ) -> InputError {
        InputError::Csv {
            file: self.file.clone(),
            line: Some(self.line(row)),
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
        (0..self.rows)
            .map(|row| {
                let text = self.cell(row, k);
                if text.is_empty() {
                    return Err(self.error(row, k, format!("empty {what}"), hint.clone()));
                }
                match parse_number(text) {
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

/// A number as `str::parse::<f64>` reads it, with Clinger's exact fast path (Clinger 1990, "How
/// to read floating point numbers accurately", PLDI) for the plain decimals that scores are
/// written as: `-?digits[.digits]` with at most 15 significant digits and 22 decimals is a
/// mantissa and a power of ten both exactly representable, so one IEEE division gives the
/// correctly rounded value, the same as the general parser's. Anything else goes to it.
pub fn parse_number(text: &str) -> Result<f64, std::num::ParseFloatError> {
    const POWERS: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let bytes = text.as_bytes();
    let (negative, digits) = match bytes {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, bytes),
    };
    // At most 15 digits and a point: the mantissa stays below 10^15 < 2^53.
    if digits.is_empty() || digits.len() > 16 {
        return text.parse();
    }
    let point = digits.iter().position(|&b| b == b'.');
    let (integer, fraction) = match point {
        Some(at) => (&digits[..at], &digits[at + 1..]),
        None => (digits, &digits[digits.len()..]),
    };
    // At least one digit on each side of a point: `.5` and `1.` are the general parser's.
    if integer.is_empty() || (point.is_some() && fraction.is_empty()) {
        return text.parse();
    }
    let mut mantissa: u64 = 0;
    for &byte in integer.iter().chain(fraction) {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return text.parse();
        }
        mantissa = mantissa * 10 + u64::from(digit);
    }
    let decimals = fraction.len();
    let value = mantissa as f64 / POWERS[decimals];
    Ok(if negative { -value } else { value })
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

/// Reads the rows of a body without quotes or lone carriage returns (the numeric exports that
/// statistics take) by splitting lines and commas, several times the csv crate's speed, with
/// the same result: empty lines are no records, a CR before LF is part of the line break, and
/// a row of blank fields is not a case. `Some(false)`, with nothing kept, leaves the body to the
/// csv reader: a quote or a lone CR, or a row whose field count is not the header's (the error
/// is the reader's). `None`: the selected text exceeds 4 GiB.
fn read_plain(
    text: &str,
    width: usize,
    index: &[Option<usize>],
    columns: &mut Columns,
) -> Option<bool> {
    let bytes = text.as_bytes();
    let lone_cr = || memchr::memchr_iter(b'\r', bytes).any(|at| bytes.get(at + 1) != Some(&b'\n'));
    if memchr::memchr(b'"', bytes).is_some() || lone_cr() {
        return Some(false);
    }
    let mut fields: Vec<(usize, usize)> = Vec::with_capacity(width);
    let (mut line, mut next_line, mut header) = (0u64, 2u64, true);
    // The current line's start and its current field's.
    let (mut start, mut field) = (0, 0);
    // Every comma and line break of the body in one vectorised pass (rows are a few bytes, so
    // a search per row or per field would pay its set-up each time), and the body's end as the
    // last line's break when it has none.
    let unterminated = bytes.last().is_some_and(|&b| b != b'\n');
    let separators =
        memchr::memchr2_iter(b',', b'\n', bytes).chain(unterminated.then_some(bytes.len()));
    for at in separators {
        if bytes.get(at) == Some(&b',') {
            fields.push((field, at));
            field = at + 1;
            continue;
        }
        let content_end = if at > start && bytes[at - 1] == b'\r' {
            at - 1
        } else {
            at
        };
        fields.push((field, content_end));
        let blank_line = start == content_end;
        (start, field) = (at + 1, at + 1);
        line += 1;
        // An empty line is no record, and the header line is already read.
        if blank_line || std::mem::take(&mut header) {
            fields.clear();
            continue;
        }
        if fields.len() != width {
            columns.clear();
            return Some(false);
        }
        let all_blank = fields
            .iter()
            .all(|&(a, b)| bytes[a..b].iter().all(u8::is_ascii_whitespace));
        if !all_blank {
            for &i in index {
                if let Some(i) = i {
                    let (a, b) = fields[i];
                    columns.text.push_str(text[a..b].trim());
                }
                columns.end_cell()?;
            }
            columns.end_row(line, &mut next_line);
        }
        fields.clear();
    }
    Some(true)
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
    // Room for the whole body at most (reserved, not touched), and one end per cell of each
    // line, so that neither grows by copying on a large file.
    let width = wanted.len();
    let line_count = body.iter().filter(|&&b| b == b'\n').count() + 1;
    let mut columns = Columns {
        file: file.to_owned(),
        names: wanted.iter().map(|s| s.to_string()).collect(),
        text: String::with_capacity(body.len()),
        ends: Vec::with_capacity(line_count.saturating_mul(width)),
        rows: 0,
        jumps: Vec::new(),
    };
    let too_large = || {
        csv_error(
            file,
            None,
            "the selected columns hold more than 4 GiB of text".into(),
            "split the file into parts of fewer rows",
        )
    };
    if read_plain(&text, headers.len(), &index, &mut columns).ok_or_else(too_large)? {
        return finish(file, columns);
    }
    let mut next_line = 2;
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).map_err(structure)? {
        let line = record.position().map_or(0, |p| line_at(p.byte()));
        // A line with nothing on it (e.g. a trailing blank line) is not a case.
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        for (k, &i) in index.iter().enumerate() {
            if let Some(i) = i {
                let cell =
                    std::str::from_utf8(record.get(i).unwrap_or_default()).map_err(|_| {
                        InputError::Csv {
                            file: file.to_owned(),
                            line: Some(line),
                            column: Some(wanted[k].to_owned()),
                            problem: "not UTF-8 text".into(),
                            hint: ENCODING_HINT.into(),
                        }
                    })?;
                columns.text.push_str(cell.trim());
            }
            columns.end_cell().ok_or_else(too_large)?;
        }
        columns.end_row(line, &mut next_line);
    }
    finish(file, columns)
}

/// The table read, or the refusal of a header without rows.
fn finish(file: &Path, columns: Columns) -> Result<Columns, InputError> {
    if columns.rows == 0 {
        return Err(csv_error(
            file,
            None,
            "no data rows after the header".into(),
            "the file needs one row per case below the header line",
        ));
    }
    Ok(columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Columns {
        parse_table(
            Path::new("t.csv"),
            text.as_bytes(),
            &["b", "a"],
            &["z"],
            None,
        )
        .unwrap()
    }

    fn contents(columns: &Columns) -> (Vec<Vec<String>>, Vec<u64>) {
        let cells = columns
            .rows()
            .map(|row| row.iter().map(str::to_owned).collect())
            .collect();
        (cells, columns.lines())
    }

    /// The line-and-comma reader (no quotes) and the csv crate's (the same table with a header
    /// name quoted) read every layout the same: CRLF, blank lines, rows of blank fields, spaces
    /// around cells, a last line without a break, columns out of order and one missing.
    #[test]
    fn the_plain_reader_reads_as_the_csv_reader_does() {
        let layouts = [
            "a,b\n1,2\n3,4\n",
            "\n\na,b\r\n1,2\r\n\r\n3,4",
            "a,b\n 1 , 2 \n,\n  ,  \n3,4\n\n\n5,6\n",
            "a,b,c\n1,2,3\n\n\n4,5,6",
            "a\n1\n \n2\n",
        ];
        for layout in layouts {
            let quoted = layout.replacen('a', "\"a\"", 1);
            assert!(quoted.contains('"'), "{layout:?}");
            let wanted: &[&str] = if layout.starts_with("a\n") {
                &["a"]
            } else {
                &["b", "a"]
            };
            let read = |text: &str| {
                let columns =
                    parse_table(Path::new("t.csv"), text.as_bytes(), wanted, &["z"], None).unwrap();
                contents(&columns)
            };
            assert_eq!(read(layout), read(&quoted), "{layout:?}");
        }
        let (cells, lines) = contents(&table("\n\na,b\r\n1,2\r\n\r\n3,4"));
        assert_eq!(cells, [["2", "1", ""], ["4", "3", ""]]);
        assert_eq!(lines, [4, 6]);
    }

    /// Random bodies of cells, commas, spaces, LF and CRLF, blank lines and a last line with
    /// or without its break: the plain reader gives the csv reader's cells and lines, or its
    /// error with the same line.
    #[test]
    fn the_plain_reader_agrees_with_the_csv_reader_on_random_bodies() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let pieces = ["1", "x", "", " ", ",", ",", "\n", "\n", "\r\n", "2.5"];
        for round in 0..5000 {
            let mut body = String::from(if next(2) == 0 { "a,b\n" } else { "\r\na,b\r\n" });
            for _ in 0..next(24) {
                body.push_str(pieces[next(pieces.len() as u64) as usize]);
            }
            let quoted = body.replacen('a', "\"a\"", 1);
            let read = |text: &str| {
                parse_table(Path::new("t.csv"), text.as_bytes(), &["b", "a"], &[], None)
                    .map(|columns| contents(&columns))
                    .map_err(|e| e.to_string())
            };
            assert_eq!(read(&body), read(&quoted), "round {round}: {body:?}");
        }
    }

    /// A row with too many or too few fields is the csv reader's error, with its line, on
    /// either path.
    #[test]
    fn a_row_of_the_wrong_width_is_refused_with_its_line() {
        for text in ["a,b\n1,2\n3\n", "a,b\n\"1\",2\n3\n", "a,b\n1,2\n\n3,4,5\n"] {
            let error =
                parse_table(Path::new("t.csv"), text.as_bytes(), &["a"], &[], None).unwrap_err();
            let message = error.to_string();
            assert!(message.contains("but the header has 2"), "{message}");
            let line = if text.ends_with("3,4,5\n") {
                "t.csv:4"
            } else {
                "t.csv:3"
            };
            assert!(message.contains(line), "{message}");
        }
    }

    /// Clinger's fast path gives the bits `str::parse` gives, on plain decimals of every length
    /// and on the forms it leaves to the general parser.
    #[test]
    fn numbers_read_as_the_standard_parser_reads_them() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200_000 {
            let r = next();
            let digits = 1 + (r % 18) as usize;
            let mut text: String = (0..digits)
                .map(|_| char::from(b'0' + (next() % 10) as u8))
                .collect();
            let point = (r >> 8) as usize % (digits + 1);
            if point > 0 && point < digits {
                text.insert(point, '.');
            }
            if r & (1 << 20) != 0 {
                text.insert(0, '-');
            }
            let ours = parse_number(&text).map(f64::to_bits);
            let std = text.parse::<f64>().map(f64::to_bits);
            assert_eq!(ours.ok(), std.ok(), "{text}");
        }
        for text in [
            "-0", "0.0", "1e3", "+1", ".5", "1.", "inf", "NaN", "1_0", "--1", "", "-",
        ] {
            assert_eq!(
                parse_number(text).ok().map(f64::to_bits),
                text.parse::<f64>().ok().map(f64::to_bits),
                "{text}"
            );
        }
    }
}
