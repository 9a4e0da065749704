//! Reading the result tables (CSV items) for `check`: the header, and the cells of the columns
//! the protocol gives a reportable range, with their CSV line numbers. Like signals, the source
//! file is read again and used only if its hash is still the ingested one.

use std::collections::{BTreeMap, BTreeSet};

use kizon_checks::TableFacts;

/// The facts of a table item, reading only the `ranged` columns' cells.
pub fn facts(item: &crate::Item, ranged: &BTreeSet<String>) -> Option<TableFacts> {
    if item.kind != kizon_vocab::ItemKind::Table {
        return None;
    }
    let bytes = super::read_unchanged(&item.source, &item.sha256)?;
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(body);
    let columns: Vec<String> = reader
        .headers()
        .ok()?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let wanted: Vec<(usize, &String)> = columns
        .iter()
        .enumerate()
        .filter(|(_, c)| ranged.contains(*c))
        .collect();
    let mut cells: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    for record in reader.records() {
        let Ok(record) = record else { continue };
        let line = record.position().map_or(0, |p| p.line());
        for (index, name) in &wanted {
            cells
                .entry((*name).clone())
                .or_default()
                .push((line, record.get(*index).unwrap_or("").to_owned()));
        }
    }
    Some(TableFacts {
        item_id: item.id,
        columns,
        cells,
    })
}
