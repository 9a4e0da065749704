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

    /// Parses column `k` as finite numbers; the first cell that is not one is the error. A
    /// long column is parsed in one run of rows per core, side by side, each into its own
    /// stretch of the result.
    pub fn numbers(&self, k: usize, what: &str) -> Result<Vec<f64>, InputError> {
        let mut numbers = vec![0.0; self.rows];
        let runs = parts_for(self.rows, 250_000);
        if runs == 1 {
            self.numbers_into(k, what, 0, &mut numbers)?;
            return Ok(numbers);
        }
        let per_run = self.rows.div_ceil(runs).max(1);
        let outcomes: Vec<Result<(), InputError>> = std::thread::scope(|scope| {
            let workers: Vec<_> = numbers
                .chunks_mut(per_run)
                .enumerate()
                .map(|(n, run)| scope.spawn(move || self.numbers_into(k, what, n * per_run, run)))
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("parsing numbers does not panic"))
                .collect()
        });
        outcomes.into_iter().collect::<Result<(), _>>()?;
        Ok(numbers)
    }

    /// Parses column `k` of the rows from `first` on into `out`, one row per value.
    fn numbers_into(
        &self,
        k: usize,
        what: &str,
        first: usize,
        out: &mut [f64],
    ) -> Result<(), InputError> {
        let hint = || {
            format!(
                "{what}s must be numbers written with a decimal point (0.5, not 0,5); kizon drops no case silently: complete or remove the row"
            )
        };
        for (row, value) in (first..).zip(out.iter_mut()) {
            let text = self.cell(row, k);
            if text.is_empty() {
                return Err(self.error(row, k, format!("empty {what}"), hint()));
            }
            *value = match parse_number(text) {
                Ok(x) if x.is_finite() => x,
                Ok(_) => {
                    let problem = format!("`{text}` is not a finite number");
                    return Err(self.error(row, k, problem, hint()));
                }
                Err(_) => {
                    return Err(self.error(row, k, format!("`{text}` is not a number"), hint()));
                }
            };
        }
        Ok(())
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
///
/// A large body is cut at line breaks into one part per core, read side by side and joined in
/// order: without quotes a line break always ends a record, so the parts are independent.
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
    let ranges = line_parts(bytes, header_end(bytes), parts_for(bytes.len(), 4 << 20));
    // One buffer for the text and one for the cell ends, each cut into a stretch per part that
    // holds the most the part can give: its selected text is at most its bytes, times the
    // times a column is selected; its rows at most its line breaks and its end (counted when
    // there are several parts; one part takes a row per `width` bytes, its commas and line
    // break, as its bound). Allocated zeroed, so only what is written is touched; the parts
    // are then moved together in place. Separate buffers per part, joined by copying, cost
    // 17 MB more peak memory on a 23 MB file, and loose stretches of cell ends 10 MB (measured).
    let repeats = (0..width)
        .map(|column| index.iter().filter(|&&i| i == Some(column)).count())
        .max()
        .unwrap_or(0)
        .max(1);
    let stretch_sizes: Vec<(usize, usize)> = ranges
        .iter()
        .map(|range| {
            let rows = if ranges.len() == 1 {
                range.len() / width.max(1) + 2
            } else {
                bytecount(&bytes[range.clone()], b'\n') + 1
            };
            (range.len() * repeats, rows * index.len())
        })
        .collect();
    let mut text_buffer = vec![0u8; stretch_sizes.iter().map(|s| s.0).sum()];
    let mut ends_buffer = vec![0u32; stretch_sizes.iter().map(|s| s.1).sum()];
    let mut stretches = Vec::with_capacity(ranges.len());
    let mut starts = Vec::with_capacity(ranges.len());
    let (mut text_rest, mut ends_rest) = (&mut text_buffer[..], &mut ends_buffer[..]);
    let (mut text_at, mut ends_at) = (0, 0);
    for (range, &(text_size, ends_size)) in ranges.iter().zip(&stretch_sizes) {
        let (text_here, text_after) = text_rest.split_at_mut(text_size);
        let (ends_here, ends_after) = ends_rest.split_at_mut(ends_size);
        stretches.push((range.clone(), text_here, ends_here));
        starts.push((text_at, ends_at));
        (text_rest, ends_rest) = (text_after, ends_after);
        (text_at, ends_at) = (text_at + text_size, ends_at + ends_size);
    }
    let read =
        |n: usize, (range, text_out, ends_out): (std::ops::Range<usize>, &mut [u8], &mut [u32])| {
            read_part(text, range, n == 0, width, index, text_out, ends_out)
        };
    let parts: Vec<Option<Part>> = if stretches.len() == 1 {
        stretches
            .into_iter()
            .enumerate()
            .map(|(n, s)| read(n, s))
            .collect()
    } else {
        std::thread::scope(|scope| {
            let workers: Vec<_> = stretches
                .into_iter()
                .enumerate()
                .map(|(n, stretch)| scope.spawn(move || read(n, stretch)))
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().unwrap_or(None))
                .collect()
        })
    };
    let Some(parts) = parts.into_iter().collect::<Option<Vec<Part>>>() else {
        return Some(false);
    };
    join_parts(parts, &starts, text_buffer, ends_buffer, columns)
}

/// How many times `byte` occurs in `bytes` (a loop the compiler vectorises).
fn bytecount(bytes: &[u8], byte: u8) -> usize {
    bytes.iter().filter(|&&b| b == byte).count()
}

/// How many parts to cut `units` of work into, to run side by side: one per core (at most 8),
/// each of at least `least` units, since a thread costs more than a small part.
fn parts_for(units: usize, least: usize) -> usize {
    #[cfg(test)]
    if let Some(parts) = TEST_PARTS.get() {
        return parts;
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    (units / least).clamp(1, cores.min(8))
}

#[cfg(test)]
thread_local! {
    /// The number of parts that tests cut work into, whatever its size.
    static TEST_PARTS: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// Where the header line ends: after the first line with something on it (blank lines before
/// it are no records).
fn header_end(bytes: &[u8]) -> usize {
    let mut start = 0;
    for at in memchr::memchr_iter(b'\n', bytes) {
        if !matches!(&bytes[start..at], [] | [b'\r']) {
            return at + 1;
        }
        start = at + 1;
    }
    bytes.len()
}

/// `bytes` cut into at most `parts` ranges, each but the last ending just after a line feed,
/// and the first holding the header (which ends at `header_end`).
fn line_parts(bytes: &[u8], header_end: usize, parts: usize) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::with_capacity(parts);
    let mut start = 0;
    for n in 1..parts {
        let aim = (bytes.len() * n / parts).max(start).max(header_end);
        if aim >= bytes.len() {
            break;
        }
        let Some(at) = memchr::memchr(b'\n', &bytes[aim..]) else {
            break;
        };
        let end = aim + at + 1;
        ranges.push(start..end);
        start = end;
    }
    ranges.push(start..bytes.len());
    ranges
}

/// What one part of a body gave: its text and cell ends are in its stretch of the buffers.
struct Part {
    /// Bytes of text written.
    text: usize,
    /// Cell ends written, each from the start of the part's text.
    cells: usize,
    rows: usize,
    /// `(row, line)` of this part, both from its start; the first row is always here.
    jumps: Vec<(usize, u64)>,
    /// The line breaks (lines) in the part.
    lines: u64,
}

/// Reads one part of a plain body (see [`read_plain`]); `None`: a row of the wrong width, or
/// more than 4 GiB of text.
fn read_part(
    text: &str,
    range: std::ops::Range<usize>,
    has_header: bool,
    width: usize,
    index: &[Option<usize>],
    text_out: &mut [u8],
    ends_out: &mut [u32],
) -> Option<Part> {
    let bytes = &text.as_bytes()[..range.end];
    let mut part = Part {
        text: 0,
        cells: 0,
        rows: 0,
        jumps: Vec::new(),
        lines: 0,
    };
    let mut fields: Vec<(usize, usize)> = Vec::with_capacity(width);
    // `next_line` 0 is no line: the part's first row is always noted, and placed when joined.
    let (mut line, mut next_line, mut header) = (0u64, 0u64, has_header);
    // The current line's start and its current field's.
    let (mut start, mut field) = (range.start, range.start);
    // Every comma and line break of the part in one vectorised pass (rows are a few bytes, so
    // a search per row or per field would pay its set-up each time), and the body's end as the
    // last line's break when it has none.
    let unterminated = bytes.len() > range.start && bytes.last().is_some_and(|&b| b != b'\n');
    let separators = memchr::memchr2_iter(b',', b'\n', &bytes[range.start..])
        .map(|at| at + range.start)
        .chain(unterminated.then_some(bytes.len()));
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
            return None;
        }
        let all_blank = fields
            .iter()
            .all(|&(a, b)| bytes[a..b].iter().all(u8::is_ascii_whitespace));
        if !all_blank {
            for &i in index {
                if let Some(i) = i {
                    let (a, b) = fields[i];
                    let cell = text[a..b].trim().as_bytes();
                    text_out
                        .get_mut(part.text..part.text + cell.len())?
                        .copy_from_slice(cell);
                    part.text += cell.len();
                }
                *ends_out.get_mut(part.cells)? = u32::try_from(part.text).ok()?;
                part.cells += 1;
            }
            if line != next_line {
                part.jumps.push((part.rows, line));
            }
            next_line = line + 1;
            part.rows += 1;
        }
        fields.clear();
    }
    part.lines = line;
    Some(part)
}

/// Puts the parts, in order, into the empty `columns`: their text and cell ends, which start
/// at `starts` in the buffers, moved together in place (cell ends moved past the text before),
/// and a part's first row noted only where it is not on the line after the previous row.
/// `None`: more than 4 GiB of text.
fn join_parts(
    parts: Vec<Part>,
    starts: &[(usize, usize)],
    mut text: Vec<u8>,
    mut ends: Vec<u32>,
    columns: &mut Columns,
) -> Option<bool> {
    let (mut text_len, mut cells) = (0usize, 0usize);
    let (mut lines_before, mut next_line) = (0u64, 2u64);
    for (part, &(text_at, ends_at)) in parts.iter().zip(starts) {
        let offset = u32::try_from(text_len).ok()?;
        u32::try_from(text_len + part.text).ok()?;
        text.copy_within(text_at..text_at + part.text, text_len);
        ends.copy_within(ends_at..ends_at + part.cells, cells);
        for end in &mut ends[cells..cells + part.cells] {
            *end += offset;
        }
        (text_len, cells) = (text_len + part.text, cells + part.cells);
        for &(row, line) in &part.jumps {
            let line = line + lines_before;
            if row > 0 || line != next_line {
                columns.jumps.push((columns.rows + row, line));
            }
        }
        if part.rows > 0 {
            // The part's last row: its last jump, and the rows after it on consecutive lines.
            let &(row, line) = part.jumps.last()?;
            next_line = line + lines_before + (part.rows - row) as u64;
        }
        columns.rows += part.rows;
        lines_before += part.lines;
    }
    text.truncate(text_len);
    ends.truncate(cells);
    // Cells are whole `str`s of the body, trimmed, so the text is UTF-8; were it not, the csv
    // reader (which checks every cell) would say where.
    columns.text = String::from_utf8(text).ok()?;
    columns.ends = ends;
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
    let width = wanted.len();
    let mut columns = Columns {
        file: file.to_owned(),
        names: wanted.iter().map(|s| s.to_string()).collect(),
        text: String::new(),
        ends: Vec::new(),
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
    // Room for the whole body at most (reserved, not touched), and one end per cell of each
    // line, so that neither grows by copying on a large file.
    let line_count = memchr::memchr_iter(b'\n', body).count() + 1;
    columns.text.reserve(body.len());
    columns.ends.reserve(line_count.saturating_mul(width));
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
            let mut body = String::from(match next(3) {
                0 => "a,b\n",
                1 => "\r\na,b\r\n",
                _ => "\n\n\r\n\na,b\n",
            });
            for _ in 0..next(40) {
                body.push_str(pieces[next(pieces.len() as u64) as usize]);
            }
            let quoted = body.replacen('a', "\"a\"", 1);
            let read = |text: &str| {
                parse_table(Path::new("t.csv"), text.as_bytes(), &["b", "a"], &[], None)
                    .map(|columns| contents(&columns))
                    .map_err(|e| e.to_string())
            };
            let by_csv_reader = read(&quoted);
            // The plain reader in one part, and cut into several read side by side (a large
            // file's way), wherever the cuts fall.
            for parts in [1, 2, 3, 5, 9] {
                TEST_PARTS.set(Some(parts));
                let plain = read(&body);
                TEST_PARTS.set(None);
                assert_eq!(
                    plain, by_csv_reader,
                    "round {round}, {parts} parts: {body:?}"
                );
            }
        }
    }

    #[test]
    fn numbers_parsed_in_runs_side_by_side_are_the_column_and_the_first_error() {
        let mut text = String::from("id,score\n");
        for row in 0..1000 {
            text.push_str(&format!("{row},{}.25\n", row as f64 - 500.0));
        }
        let columns = table_of(&text);
        let one = columns.numbers(1, "score").unwrap();
        assert_eq!(one.len(), 1000);
        assert_eq!((one[0], one[999]), (-500.25, 499.25));
        for runs in [2, 3, 7] {
            TEST_PARTS.set(Some(runs));
            let parsed = columns.numbers(1, "score");
            TEST_PARTS.set(None);
            assert_eq!(parsed.unwrap(), one, "{runs} runs");
        }
        // Two bad cells in different runs: the error names the first (row 400, line 402).
        let text = text
            .replace("\n400,", "\n400,x")
            .replace("\n900,", "\n900,y");
        let columns = table_of(&text);
        for runs in [1, 2, 3, 7] {
            TEST_PARTS.set(Some(runs));
            let error = columns.numbers(1, "score").unwrap_err().to_string();
            TEST_PARTS.set(None);
            assert!(
                error.contains("t.csv:402") && error.contains("`x-100.25`"),
                "{error}"
            );
        }
    }

    fn table_of(text: &str) -> Columns {
        parse_table(
            Path::new("t.csv"),
            text.as_bytes(),
            &["id", "score"],
            &[],
            None,
        )
        .unwrap()
    }

    #[test]
    fn a_body_is_cut_at_line_breaks_after_the_header() {
        let body = b"\n\r\nh,i\n1,2\n3,4\n5,6\n";
        assert_eq!(header_end(body), 7);
        for parts in 1..8 {
            let ranges = line_parts(body, 7, parts);
            assert!(ranges.len() <= parts);
            assert_eq!(ranges[0].start, 0);
            assert!(ranges[0].end >= 7, "{ranges:?}");
            assert_eq!(ranges.last().unwrap().end, body.len());
            for pair in ranges.windows(2) {
                assert_eq!(pair[0].end, pair[1].start);
                assert_eq!(body[pair[0].end - 1], b'\n');
            }
        }
        assert_eq!(line_parts(body, 7, 3), vec![0..11, 11..15, 15..19]);
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
