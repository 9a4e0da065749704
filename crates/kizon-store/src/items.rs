//! Cases and items: what ingest recorded of each file (Q2, Q7 work on these).

use std::collections::HashMap;

use crate::db::{OptionalExtension, params};
use serde::Serialize;

use kizon_vocab::{Decision, ItemKind, Severity};

use crate::words::{Spelled, optional_word, word};
use crate::{Store, StoreError, Tx};

/// A case as ingest first records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewCase {
    pub id: String,
    pub provider_id: i64,
    pub patient_key: Option<String>,
    pub acquisition_date: Option<String>,
    pub collection_date: Option<String>,
    pub diagnosis: Option<String>,
    pub diagnosis_date: Option<String>,
    /// Other manifest columns, as a JSON object.
    pub attributes: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Case {
    pub id: String,
    pub provider: String,
    pub patient_key: Option<String>,
    pub acquisition_date: Option<String>,
    pub collection_date: Option<String>,
    pub diagnosis: Option<String>,
    pub diagnosis_date: Option<String>,
    pub attributes: String,
    pub ledger_seq: i64,
}

/// A file as ingest records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    pub provider_id: i64,
    pub case_id: String,
    /// As the user gave it.
    pub path: String,
    /// Absolute, for recognising the same file again.
    pub source: String,
    pub size: u64,
    pub modified_ns: i64,
    pub sha256: String,
    pub kind: ItemKind,
    /// JSON object.
    pub metadata: String,
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub id: i64,
    pub provider: String,
    pub case_id: String,
    pub path: String,
    pub source: String,
    pub size: i64,
    pub sha256: String,
    pub kind: ItemKind,
    pub metadata: String,
    pub problem: Option<String>,
    pub ledger_seq: i64,
}

/// What is known of a source path already ingested: enough to skip it without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownSource {
    pub size: i64,
    pub modified_ns: i64,
}

/// A stored case's provider id, patient key and dates and diagnosis, compared with a case
/// ingested again.
pub(crate) type StoredCaseFacts = (
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl Tx<'_> {
    /// Records a case unless it exists; an existing case with other attributes is a conflict.
    /// Returns whether it was new.
    pub fn insert_case(&mut self, case: &NewCase) -> Result<bool, StoreError> {
        let wanted: StoredCaseFacts = (
            case.provider_id,
            case.patient_key.clone(),
            case.acquisition_date.clone(),
            case.collection_date.clone(),
            case.diagnosis.clone(),
            case.diagnosis_date.clone(),
        );
        // A case already met in this transaction is answered from memory: an ingest meets each
        // case once per file, and a remote database would be asked each time.
        if let Some(seen) = self.cases_seen.get(&case.id) {
            if *seen != wanted {
                return Err(StoreError::Conflict(format!(
                    "case `{}` was recorded earlier with other provider, patient, dates or diagnosis",
                    case.id
                )));
            }
            return Ok(false);
        }
        let existing: Option<StoredCaseFacts> = self
            .sql()
            .prepare_cached(
                "SELECT provider_id, patient_key, acquisition_date, collection_date, diagnosis, diagnosis_date FROM cases WHERE id = ?1",
            )
            .and_then(|mut statement| {
                statement
                    .query_row(params![case.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
                    .optional()
            })
            .map_err(|e| self.err(e))?;
        if let Some(existing) = existing {
            if existing != wanted {
                return Err(StoreError::Conflict(format!(
                    "case `{}` was recorded earlier with other provider, patient, dates or diagnosis",
                    case.id
                )));
            }
            self.cases_seen.insert(case.id.clone(), wanted);
            return Ok(false);
        }
        let seq = self.pending_seq();
        self.cases_seen.insert(case.id.clone(), wanted);
        self.sql()
            .prepare_cached(
                "INSERT INTO cases (id, provider_id, patient_key, acquisition_date, collection_date, diagnosis, diagnosis_date, attributes, ledger_seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    case.id,
                    case.provider_id,
                    case.patient_key,
                    case.acquisition_date,
                    case.collection_date,
                    case.diagnosis,
                    case.diagnosis_date,
                    case.attributes,
                    seq
                ])
            })
            .map_err(|e| self.err(e))?;
        Ok(true)
    }

    /// Records an item; the same source with the same content again adds nothing (`false`).
    /// One statement either way (the unique key decides), so a remote database is asked once
    /// per item, not twice.
    pub fn insert_item(&mut self, item: &NewItem) -> Result<bool, StoreError> {
        let seq = self.next_seq;
        let inserted: Option<i64> = self
            .sql()
            .query_row(
                "INSERT INTO items (provider_id, case_id, path, source, size, modified_ns, sha256, kind, metadata, problem, ledger_seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (source, sha256) DO NOTHING RETURNING id",
                params![
                    item.provider_id,
                    item.case_id,
                    item.path,
                    item.source,
                    item.size as i64,
                    item.modified_ns,
                    item.sha256,
                    Spelled(item.kind),
                    item.metadata,
                    item.problem,
                    seq
                ],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        if inserted.is_some() {
            self.pending_seq();
        }
        Ok(inserted.is_some())
    }
}

impl Tx<'_> {
    /// Records items, in order: for each, whether it was new (the same source with the same
    /// content, earlier or earlier in `items`, adds nothing). Many rows a statement, so that a
    /// remote database is asked once per 64 items, not once per item; the rows and their keys
    /// are those [`Tx::insert_item`] one by one would give.
    pub fn insert_items(&mut self, items: &[NewItem]) -> Result<Vec<bool>, StoreError> {
        const ROWS: usize = 64;
        let seq = self.next_seq;
        let mut added = Vec::with_capacity(items.len());
        for chunk in items.chunks(ROWS) {
            let mut sql = String::from(
                "INSERT INTO items (provider_id, case_id, path, source, size, modified_ns, sha256, kind, metadata, problem, ledger_seq) VALUES ",
            );
            for row in 0..chunk.len() {
                let first = row * 11 + 1;
                let placeholders: Vec<String> =
                    (first..first + 11).map(|n| format!("?{n}")).collect();
                if row > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                sql.push_str(&placeholders.join(", "));
                sql.push(')');
            }
            sql.push_str(" ON CONFLICT (source, sha256) DO NOTHING RETURNING source, sha256");
            let kinds: Vec<Spelled<kizon_vocab::ItemKind>> =
                chunk.iter().map(|i| Spelled(i.kind)).collect();
            let sizes: Vec<i64> = chunk.iter().map(|i| i.size as i64).collect();
            let mut values: Vec<&dyn crate::db::ToParam> = Vec::with_capacity(chunk.len() * 11);
            for (n, item) in chunk.iter().enumerate() {
                values.extend([
                    &item.provider_id as &dyn crate::db::ToParam,
                    &item.case_id,
                    &item.path,
                    &item.source,
                    &sizes[n],
                    &item.modified_ns,
                    &item.sha256,
                    &kinds[n],
                    &item.metadata,
                    &item.problem,
                    &seq,
                ]);
            }
            let inserted: std::collections::HashSet<(String, String)> = self
                .sql()
                .query_map(&sql, &values, |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(|e| self.err(e))?
                .into_iter()
                .collect();
            let mut claimed = std::collections::HashSet::new();
            for item in chunk {
                let key = (item.source.clone(), item.sha256.clone());
                added.push(inserted.contains(&key) && claimed.insert(key));
            }
        }
        if added.iter().any(|&a| a) {
            self.pending_seq();
        }
        Ok(added)
    }
}

impl Store {
    /// Sources already ingested for a provider, newest record per source.
    pub fn known_sources(
        &self,
        provider_id: i64,
    ) -> Result<HashMap<String, KnownSource>, StoreError> {
        let mut statement = self
            .conn()
            .prepare(
                "SELECT source, size, modified_ns FROM items WHERE provider_id = ?1 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = statement
            .query_map(params![provider_id], |r| {
                Ok((
                    r.get::<String>(0)?,
                    KnownSource {
                        size: r.get(1)?,
                        modified_ns: r.get(2)?,
                    },
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows.into_iter().collect())
    }

    pub fn items(&self) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        self.each_item(|item| {
            items.push(item);
            Ok::<(), StoreError>(())
        })?;
        Ok(items)
    }

    /// Every item in id order, handed to `each` as it is read: a caller that turns each row
    /// into something smaller (its metadata parsed, say) never holds a million rows' metadata
    /// JSON at once.
    pub fn each_item<E: From<StoreError>>(
        &self,
        mut each: impl FnMut(Item) -> Result<(), E>,
    ) -> Result<(), E> {
        // The caller's error stops the rows; it is kept here and given back as it was.
        let mut stopped: Option<E> = None;
        let read = self.conn().for_each_row(
            "SELECT i.id, p.name, i.case_id, i.path, i.source, i.size, i.sha256, i.kind, i.metadata, i.problem, i.ledger_seq
             FROM items i JOIN providers p ON p.id = i.provider_id ORDER BY i.id",
            params![],
            |row| {
                each(item_row(row)?).map_err(|e| {
                    stopped = Some(e);
                    crate::db::Error::NoRows
                })
            },
        );
        if let Some(e) = stopped {
            return Err(e);
        }
        read.map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The memo of what was read for the ledger's current head, emptied if the ledger has
    /// moved since: covered tables change only in a transaction that appends an entry
    /// (append-only triggers, the rows-ahead check), so what was read of them holds for as long
    /// as the head does. The head is one lookup in the ledger's key. A row slipped in behind
    /// kizon's back may be missing from what is shown until the next entry; `verify` is what
    /// finds it.
    fn memo_for_head(&self) -> Result<std::cell::RefMut<'_, crate::HeadMemo>, StoreError> {
        let head: i64 = self
            .conn()
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM ledger", params![], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(e))?;
        let mut memo = self.memo.borrow_mut();
        if memo.head != head {
            memo.head = head;
            memo.counts.clear();
            memo.anchors.clear();
            memo.matches.clear();
        }
        Ok(memo)
    }

    /// `sql`, a `COUNT(*)` over covered tables with `values` bound, remembered until the ledger
    /// moves ([`Store::memo_for_head`]). On PostgreSQL a count of 100,000 items reads a whole
    /// index (6 ms) and every page of the item list and the overview asked for it. At most 256
    /// counts are kept per head.
    fn count_covered(&self, sql: &str, values: &[String]) -> Result<i64, StoreError> {
        let key = (sql.to_owned(), values.to_vec());
        if let Some(count) = self.memo_for_head()?.counts.get(&key) {
            return Ok(*count);
        }
        let count: i64 = self
            .conn()
            .prepare_cached(sql)
            .and_then(|mut s| s.query_row(&crate::db::param_refs(values), |r| r.get(0)))
            .map_err(|e| self.err(e))?;
        remember(&mut self.memo.borrow_mut().counts, 256, key, count);
        Ok(count)
    }

    /// The ids at positions 0, [`PAGE_ANCHOR_EVERY`], 2 × [`PAGE_ANCHOR_EVERY`], … of the items
    /// `filter` keeps (with `values` bound, `order` the index hint), in id order, remembered
    /// until the ledger moves ([`Store::memo_for_head`]): a deep page is read from its nearest
    /// anchor instead of counting off every item before it. At most 64 lists are kept per head.
    fn page_anchors(
        &self,
        order: &str,
        filter: &str,
        values: &[String],
    ) -> Result<std::sync::Arc<Vec<i64>>, StoreError> {
        let sql = format!(
            "SELECT id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS position
                             FROM items {order} {filter}) AS numbered
             WHERE position % {PAGE_ANCHOR_EVERY} = 1 ORDER BY id"
        );
        let key = (sql, values.to_vec());
        if let Some(anchors) = self.memo_for_head()?.anchors.get(&key) {
            return Ok(anchors.clone());
        }
        let anchors = std::sync::Arc::new(self.ids_of(&key.0, values)?);
        remember(
            &mut self.memo.borrow_mut().anchors,
            64,
            key,
            anchors.clone(),
        );
        Ok(anchors)
    }

    /// One page of items matching `query`, and how many match in all. Built for 100,000 items
    /// and more: the filters are SQL, only the page's rows are read.
    pub fn items_page(&self, query: &ItemQuery) -> Result<(u64, Vec<Item>), StoreError> {
        let mut conditions = Vec::new();
        let mut values: Vec<String> = Vec::new();
        let mut bind = |condition: &str, value: String| {
            values.push(value);
            conditions.push(condition.replace('?', &format!("?{}", values.len())));
        };
        if let Some(kind) = &query.kind {
            bind("kind = ?", kind.as_str().to_owned());
        }
        if let Some(provider) = &query.provider {
            bind(
                "provider_id = (SELECT id FROM providers WHERE name = ?)",
                provider.clone(),
            );
        }
        if let Some(case_id) = &query.case_id {
            bind("case_id = ?", case_id.clone());
        }
        let sqlite = self.conn().backend() == crate::db::Backend::Sqlite;
        if let Some(text) = query.text.as_deref().filter(|t| !t.is_empty()) {
            if sqlite && text.chars().count() >= 3 {
                // The trigram index: a phrase query matches the text as a substring of the
                // path or the case id, as LIKE '%text%' does, without reading every row.
                self.refresh_item_search()?;
                values.push(format!("\"{}\"", text.replace('"', "\"\"")));
                let n = values.len();
                conditions.push(format!(
                    "id IN (SELECT rowid FROM item_search WHERE item_search MATCH ?{n})"
                ));
            } else {
                // Shorter than a trigram, or on PostgreSQL (no FTS5): a scan, ignoring case
                // as the trigram index does (SQLite's LIKE ignores ASCII case; ILIKE all).
                let pattern = format!(
                    "%{}%",
                    text.replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_")
                );
                values.push(pattern);
                let n = values.len();
                let like = if sqlite { "LIKE" } else { "ILIKE" };
                conditions.push(format!(
                    "(path {like} ?{n} ESCAPE '\\' OR case_id {like} ?{n} ESCAPE '\\')"
                ));
            }
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        // The count and the page's ids come from indexes or the rows' keys (`items_kind` keeps
        // each kind in id order); only the page's rows are read whole and joined. Measured on
        // 100,000 items: any page in under 10 ms.
        let order = if sqlite && conditions.is_empty() {
            "INDEXED BY items_order"
        } else {
            ""
        };
        // PostgreSQL, a text search: its matches, if there are few, are found once per ledger
        // head and the page is cut from them. Left to itself, the planner often walks every
        // item in id order testing each (its estimate of a pattern's matches cannot know that
        // they sit together, in one folder): 20 ms a page on 100,000 items, against 2 ms for
        // the matches from the trigram indexes, and nothing for the next page.
        if !sqlite
            && query.text.as_deref().is_some_and(|t| !t.is_empty())
            && let Some(matches) = self.few_matches(&filter, &values)?
        {
            let from = (query.offset.min(matches.len() as u64)) as usize;
            let to = (from as u64)
                .saturating_add(query.limit)
                .min(matches.len() as u64) as usize;
            let items = self.items_by_id(&matches[from..to])?;
            return Ok((matches.len() as u64, items));
        }
        let total = self.count_covered(&format!("SELECT COUNT(*) FROM items {filter}"), &values)?;
        // A deep page starts from its nearest anchor: the items before the page are counted
        // off from there, never from the first (bench/web/servers.sh: on PostgreSQL the item
        // list's main cost was a page in the middle of 100,000 items, 6 ms each).
        let mut anchor = None;
        if query.offset >= PAGE_ANCHOR_EVERY && query.offset < total as u64 {
            let nearest = query.offset / PAGE_ANCHOR_EVERY;
            if let Some(&id) = self
                .page_anchors(order, &filter, &values)?
                .get(nearest as usize)
            {
                anchor = Some((id, query.offset - nearest * PAGE_ANCHOR_EVERY));
            }
        }
        let limit = query.limit.min(i64::MAX as u64) as i64;
        let mut params = crate::db::param_refs(&values);
        let (window, offset) = match &anchor {
            Some((id, rest)) => {
                params.push(id);
                let from = format!("id >= ?{}", params.len());
                let window = if conditions.is_empty() {
                    format!("WHERE {from}")
                } else {
                    format!("{filter} AND {from}")
                };
                (window, *rest)
            }
            None => (filter.clone(), query.offset),
        };
        let offset = offset.min(i64::MAX as u64) as i64;
        params.extend([&limit as &dyn crate::db::ToParam, &offset]);
        let (limit, offset) = (params.len() - 1, params.len());
        let mut statement = self
            .conn()
            .prepare_cached(&format!(
                "SELECT i.id, p.name, i.case_id, i.path, i.source, i.size, i.sha256, i.kind, i.metadata, i.problem, i.ledger_seq
                 FROM items i JOIN providers p ON p.id = i.provider_id
                 WHERE i.id IN (SELECT id FROM items {order} {window}
                                ORDER BY id LIMIT ?{limit} OFFSET ?{offset})
                 ORDER BY i.id"
            ))
            .map_err(|e| self.err(e))?;
        let items = statement
            .query_map(&params, item_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))?;
        Ok((total as u64, items))
    }

    /// The ids of the items `filter` keeps (with `values` bound), in id order, if there are
    /// at most [`FEW_MATCHES`]; remembered until the ledger moves
    /// ([`Store::memo_for_head`]), at most 64 lists per head. The matches are found without
    /// an order (the trigram indexes' bitmaps), then sorted.
    fn few_matches(
        &self,
        filter: &str,
        values: &[String],
    ) -> Result<Option<std::sync::Arc<Vec<i64>>>, StoreError> {
        let sql = format!(
            "WITH found AS MATERIALIZED (SELECT id FROM items {filter} LIMIT {})
             SELECT id FROM found ORDER BY id",
            FEW_MATCHES + 1
        );
        let key = (sql, values.to_vec());
        if let Some(matches) = self.memo_for_head()?.matches.get(&key) {
            return Ok(matches.clone());
        }
        let ids = self.ids_of(&key.0, values)?;
        let matches = (ids.len() as u64 <= FEW_MATCHES).then(|| std::sync::Arc::new(ids));
        remember(
            &mut self.memo.borrow_mut().matches,
            64,
            key,
            matches.clone(),
        );
        Ok(matches)
    }

    /// The ids `sql` selects, with `values` bound.
    fn ids_of(&self, sql: &str, values: &[String]) -> Result<Vec<i64>, StoreError> {
        self.conn()
            .prepare_cached(sql)
            .and_then(|mut s| {
                s.query_map(&crate::db::param_refs(values), |r| r.get(0))?
                    .collect()
            })
            .map_err(|e| self.err(e))
    }

    /// The items of `ids` (ascending), in that order.
    fn items_by_id(&self, ids: &[i64]) -> Result<Vec<Item>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|n| format!("?{n}")).collect();
        let params: Vec<&dyn crate::db::ToParam> =
            ids.iter().map(|id| id as &dyn crate::db::ToParam).collect();
        self.conn()
            .prepare_cached(&format!(
                "SELECT i.id, p.name, i.case_id, i.path, i.source, i.size, i.sha256, i.kind, i.metadata, i.problem, i.ledger_seq
                 FROM items i JOIN providers p ON p.id = i.provider_id
                 WHERE i.id IN ({}) ORDER BY i.id",
                placeholders.join(", ")
            ))
            .and_then(|mut s| s.query_map(&params, item_row)?.collect())
            .map_err(|e| self.err(e))
    }

    /// Brings the search index up to the last item (a cache: see the schema's version 10).
    /// Items are append-only, so indexing those after `indexed_upto` is enough; one writer at
    /// a time (IMMEDIATE), so that two searches never index the same rows twice.
    /// Checks the search index against `items` (FTS5 `integrity-check` against its content
    /// table) and rebuilds it when they differ: an entry deleted from the index behind kizon's
    /// back would hide an item from every search. Returns whether it was rebuilt.
    pub fn repair_item_search(&self) -> Result<bool, StoreError> {
        if self.conn().backend() != crate::db::Backend::Sqlite {
            return Ok(false);
        }
        self.refresh_item_search()?;
        let conn = self.conn();
        let sound = conn
            .execute(
                "INSERT INTO item_search (item_search, rank) VALUES ('integrity-check', 1)",
                params![],
            )
            .is_ok();
        if sound {
            return Ok(false);
        }
        conn.execute_batch(
            "BEGIN IMMEDIATE;
             INSERT INTO item_search (item_search) VALUES ('rebuild');
             UPDATE item_search_state SET indexed_upto = (SELECT COALESCE(MAX(id), 0) FROM items);
             COMMIT;",
        )
        .map_err(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            self.err(e)
        })?;
        Ok(true)
    }

    pub fn refresh_item_search(&self) -> Result<(), StoreError> {
        // PostgreSQL has no such index: its search reads `items` (see `items_page`).
        if self.conn().backend() != crate::db::Backend::Sqlite {
            return Ok(());
        }
        let conn = self.conn();
        let scalar = |sql: &str| -> Result<i64, StoreError> {
            conn.prepare_cached(sql)
                .and_then(|mut s| s.query_row(params![], |r| r.get(0)))
                .map_err(|e| self.err(e))
        };
        let newest = "SELECT COALESCE(MAX(id), 0) FROM items";
        let upto = "SELECT indexed_upto FROM item_search_state";
        if scalar(newest)? <= scalar(upto)? {
            return Ok(());
        }
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))?;
        let indexed = (|| -> Result<(), StoreError> {
            let (from, to) = (scalar(upto)?, scalar(newest)?);
            conn.execute(
                "INSERT INTO item_search (rowid, path, case_id)
                 SELECT id, path, case_id FROM items WHERE id > ?1 AND id <= ?2",
                params![from, to],
            )
            .and_then(|_| {
                conn.execute(
                    "UPDATE item_search_state SET indexed_upto = ?1",
                    params![to],
                )
            })
            .map_err(|e| self.err(e))?;
            Ok(())
        })();
        let end = if indexed.is_ok() {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        conn.execute_batch(end).map_err(|e| self.err(e))?;
        indexed
    }

    /// The paths of some items, by id (ids not found are left out).
    pub fn item_paths(&self, ids: &[i64]) -> Result<HashMap<i64, String>, StoreError> {
        let mut statement = self
            .conn()
            .prepare_cached("SELECT path FROM items WHERE id = ?1")
            .map_err(|e| self.err(e))?;
        let mut paths = HashMap::new();
        for &id in ids {
            if let Some(path) = statement
                .query_row(params![id], |r| r.get::<String>(0))
                .optional()
                .map_err(|e| self.err(e))?
            {
                paths.insert(id, path);
            }
        }
        Ok(paths)
    }

    /// How many rows each part of the study has (for overviews at any size).
    pub fn counts(&self) -> Result<Counts, StoreError> {
        let count = |table: &str| -> Result<u64, StoreError> {
            Ok(self.count_covered(&format!("SELECT COUNT(*) FROM {table}"), &[])? as u64)
        };
        Ok(Counts {
            providers: count("providers")?,
            evidence: count("evidence")?,
            cases: count("cases")?,
            items: count("items")?,
            findings: count("findings")?,
            reads: count("reads")?,
            results: count("results")?,
            analyses: count("analyses")?,
        })
    }

    /// One item by id.
    pub fn item(&self, id: i64) -> Result<Option<Item>, StoreError> {
        self.conn()
            .prepare_cached(
                "SELECT i.id, p.name, i.case_id, i.path, i.source, i.size, i.sha256, i.kind, i.metadata, i.problem, i.ledger_seq
                 FROM items i JOIN providers p ON p.id = i.provider_id WHERE i.id = ?1",
            )
            .and_then(|mut s| s.query_row(params![id], item_row).optional())
            .map_err(|e| self.err(e))
    }

    pub fn cases(&self) -> Result<Vec<Case>, StoreError> {
        let mut statement = self
            .conn()
            .prepare(
                "SELECT c.id, p.name, c.patient_key, c.acquisition_date, c.collection_date, c.diagnosis, c.diagnosis_date, c.attributes, c.ledger_seq
                 FROM cases c JOIN providers p ON p.id = c.provider_id ORDER BY c.id",
            )
            .map_err(|e| self.err(e))?;
        statement
            .query_map(params![], |r| {
                Ok(Case {
                    id: r.get(0)?,
                    provider: r.get(1)?,
                    patient_key: r.get(2)?,
                    acquisition_date: r.get(3)?,
                    collection_date: r.get(4)?,
                    diagnosis: r.get(5)?,
                    diagnosis_date: r.get(6)?,
                    attributes: r.get(7)?,
                    ledger_seq: r.get(8)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }
}

fn item_row(r: &crate::db::Row<'_>) -> crate::db::Result<Item> {
    Ok(Item {
        id: r.get(0)?,
        provider: r.get(1)?,
        case_id: r.get(2)?,
        path: r.get(3)?,
        source: r.get(4)?,
        size: r.get(5)?,
        sha256: r.get(6)?,
        kind: word(r, "items", 7)?,
        metadata: r.get(8)?,
        problem: r.get(9)?,
        ledger_seq: r.get(10)?,
    })
}

/// Row counts of a study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub providers: u64,
    pub evidence: u64,
    pub cases: u64,
    pub items: u64,
    pub findings: u64,
    pub reads: u64,
    pub results: u64,
    pub analyses: u64,
}

/// Which items a page shows: filters (all optional) and the page's window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemQuery {
    pub kind: Option<ItemKind>,
    pub provider: Option<String>,
    pub case_id: Option<String>,
    /// A substring of the path or the case id.
    pub text: Option<String>,
    pub offset: u64,
    pub limit: u64,
}

/// A finding as `check` records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFinding {
    pub key: String,
    pub rule: String,
    pub clause: String,
    pub severity: Severity,
    /// JSON arrays.
    pub case_ids: String,
    pub item_ids: String,
    pub message_ja: String,
    pub message_en: String,
}

/// A finding with its latest decision, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredFinding {
    pub id: i64,
    pub key: String,
    pub rule: String,
    pub clause: String,
    pub severity: Severity,
    pub case_ids: String,
    pub item_ids: String,
    pub message_ja: String,
    pub message_en: String,
    pub decision: Option<Decision>,
    pub reason: Option<String>,
    /// The reason in English, when the decision gave one besides the text as written.
    pub reason_en: Option<String>,
    /// The cases the latest decision names (`exclude-case` of some of the finding's cases),
    /// space-separated; `None`: all of the finding's cases.
    pub decided_cases: Option<String>,
}

impl Tx<'_> {
    /// Records a finding unless one with its key exists (`false`).
    pub fn insert_finding(&mut self, finding: &NewFinding) -> Result<bool, StoreError> {
        let known: Option<i64> = self
            .sql()
            .query_row(
                "SELECT id FROM findings WHERE key = ?1",
                params![finding.key],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        if known.is_some() {
            return Ok(false);
        }
        let seq = self.pending_seq();
        self.sql()
            .execute(
                "INSERT INTO findings (key, rule, clause, severity, case_ids, item_ids, message_ja, message_en, ledger_seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    finding.key,
                    finding.rule,
                    finding.clause,
                    Spelled(finding.severity),
                    finding.case_ids,
                    finding.item_ids,
                    finding.message_ja,
                    finding.message_en,
                    seq
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(true)
    }

    /// Records a decision; `cases` narrows it to some of the finding's cases (e.g. which of
    /// two duplicates leaves the dataset).
    pub fn insert_resolution(
        &mut self,
        finding_id: i64,
        decision: Decision,
        reason: &str,
        reason_en: Option<&str>,
        cases: &[String],
    ) -> Result<(), StoreError> {
        let seq = self.pending_seq();
        let resolution = self
            .sql()
            .insert_returning_id(
                "INSERT INTO resolutions (finding_id, decision, reason, ledger_seq, reason_en) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![finding_id, Spelled(decision), reason, seq, reason_en],
            )
            .map_err(|e| self.err(e))?;
        for case in cases {
            self.sql()
                .execute(
                    "INSERT INTO resolution_cases (resolution_id, case_id, ledger_seq) VALUES (?1, ?2, ?3)",
                    params![resolution, case, seq],
                )
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }
}

impl Store {
    /// Every decision on every finding, oldest first: (finding id, decision, reason, the cases
    /// it names, ledger entry). A decision is never replaced; a later one follows it.
    pub fn resolutions(&self) -> Result<Vec<Resolution>, StoreError> {
        self.all(&format!("{RESOLUTIONS} ORDER BY r.id"), resolution_row)
    }

    /// Every finding with its latest decision, in id order.
    pub fn findings(&self) -> Result<Vec<StoredFinding>, StoreError> {
        self.findings_where(&FindingQuery::default())
    }

    /// The findings `query` selects, with their latest decisions, in id order: one finding by
    /// id, one rule's, the unresolved ones, a page. The conditions are written into the SQL
    /// only when asked for, so that an id is looked up by its key and a page reads its rows
    /// only.
    pub fn findings_where(&self, query: &FindingQuery) -> Result<Vec<StoredFinding>, StoreError> {
        let (conditions, mut values) = query.conditions();
        let mut sql = format!("{FINDINGS_WITH_DECISIONS_FROM}{conditions} ORDER BY f.id");
        if let Some(limit) = query.limit {
            sql.push_str(" LIMIT ? OFFSET ?");
            values.push(crate::db::Value::Integer(limit as i64));
            values.push(crate::db::Value::Integer(query.offset as i64));
        }
        let mut statement = self.conn().prepare_cached(&sql).map_err(|e| self.err(e))?;
        statement
            .query_map(&crate::db::param_refs(&values), |r| {
                Ok(StoredFinding {
                    id: r.get(0)?,
                    key: r.get(1)?,
                    rule: r.get(2)?,
                    clause: r.get(3)?,
                    severity: word(r, "findings", 4)?,
                    case_ids: r.get(5)?,
                    item_ids: r.get(6)?,
                    message_ja: r.get(7)?,
                    message_en: r.get(8)?,
                    decision: optional_word(r, "findings", 9)?,
                    reason: r.get(10)?,
                    decided_cases: r.get(11)?,
                    reason_en: r.get(12)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    /// How many findings `query` selects, its page aside.
    pub fn count_findings(&self, query: &FindingQuery) -> Result<u64, StoreError> {
        let (conditions, values) = query.conditions();
        self.conn()
            .prepare_cached(&format!("SELECT COUNT(*) FROM findings f{conditions}"))
            .and_then(|mut s| s.query_row(&crate::db::param_refs(&values), |r| r.get::<i64>(0)))
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// The rules that have findings, each with its count of findings and of unresolved ones
    /// (open or queried with the provider), by rule name.
    pub fn finding_rules(&self) -> Result<Vec<RuleTally>, StoreError> {
        self.all(
            &format!(
                "SELECT f.rule, COUNT(*), COUNT(*) FILTER (WHERE {UNRESOLVED}), COUNT(*) FILTER (WHERE f.severity = 'blocking' AND {UNRESOLVED})
                 FROM findings f GROUP BY f.rule ORDER BY f.rule"
            ),
            |r| {
                Ok(RuleTally {
                    rule: r.get(0)?,
                    findings: r.get::<i64>(1)? as u64,
                    unresolved: r.get::<i64>(2)? as u64,
                    unresolved_blocking: r.get::<i64>(3)? as u64,
                })
            },
        )
    }

    /// The decisions on `finding_id`, oldest first.
    pub fn resolutions_of(&self, finding_id: i64) -> Result<Vec<Resolution>, StoreError> {
        let mut statement = self
            .conn()
            .prepare_cached(&format!(
                "{RESOLUTIONS} WHERE r.finding_id = ?1 ORDER BY r.id"
            ))
            .map_err(|e| self.err(e))?;
        statement
            .query_map(params![finding_id], resolution_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }
}

/// Which findings to read: all of them by default.
#[derive(Debug, Clone, Default)]
pub struct FindingQuery {
    pub id: Option<i64>,
    pub rule: Option<String>,
    /// Only those without a final decision (open, or queried with the provider).
    pub unresolved: bool,
    /// Only blocking findings.
    pub blocking: bool,
    pub offset: u64,
    /// At most this many (a page); `None`: all.
    pub limit: Option<u64>,
}

impl FindingQuery {
    /// The WHERE clause (empty when nothing is asked) and its values.
    pub(crate) fn conditions(&self) -> (String, Vec<crate::db::Value>) {
        let mut clauses: Vec<String> = Vec::new();
        let mut values = Vec::new();
        if let Some(id) = self.id {
            clauses.push("f.id = ?".into());
            values.push(crate::db::Value::Integer(id));
        }
        if let Some(rule) = &self.rule {
            clauses.push("f.rule = ?".into());
            values.push(crate::db::Value::Text(rule.clone()));
        }
        if self.blocking {
            clauses.push("f.severity = 'blocking'".into());
        }
        if self.unresolved {
            clauses.push(UNRESOLVED.into());
        }
        if clauses.is_empty() {
            (String::new(), values)
        } else {
            (format!(" WHERE {}", clauses.join(" AND ")), values)
        }
    }
}

/// One rule's findings, counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleTally {
    pub rule: String,
    pub findings: u64,
    pub unresolved: u64,
    pub unresolved_blocking: u64,
}

/// Whether finding `f` has no final decision: none at all, or the latest queries the provider.
/// Keeps `value` under `key` in one of [`crate::HeadMemo`]'s maps, which is emptied first
/// once it holds `most`: a memo never grows without bound.
fn remember<V>(map: &mut HashMap<crate::MemoKey, V>, most: usize, key: crate::MemoKey, value: V) {
    if map.len() >= most {
        map.clear();
    }
    map.insert(key, value);
}

/// How many items lie between two of the item list's page anchors ([`Store::page_anchors`]).
const PAGE_ANCHOR_EVERY: u64 = 250;

/// Up to this many matches, a text search on PostgreSQL finds every match before its page
/// ([`Store::few_matches`]): sorting 10,000 ids costs about what walking 10,000 items does.
/// Small in this crate's tests, so that both ways are taken.
const FEW_MATCHES: u64 = if cfg!(test) { 100 } else { 10_000 };

const UNRESOLVED: &str = "COALESCE((SELECT decision FROM resolutions r WHERE r.finding_id = f.id ORDER BY r.id DESC LIMIT 1), 'open') IN ('open', 'query-provider')";

impl Tx<'_> {
    /// Records a fingerprint of training data (`sha256`, `sop_instance_uid`, `patient_key`…);
    /// one already known adds nothing (`false`).
    pub fn insert_training(
        &mut self,
        fingerprint: &str,
        value: &str,
        path: &str,
    ) -> Result<bool, StoreError> {
        let known: Option<i64> = self
            .sql()
            .prepare_cached("SELECT id FROM training WHERE fingerprint = ?1 AND value = ?2")
            .and_then(|mut statement| {
                statement
                    .query_row(params![fingerprint, value], |r| r.get(0))
                    .optional()
            })
            .map_err(|e| self.err(e))?;
        if known.is_some() {
            return Ok(false);
        }
        let seq = self.pending_seq();
        self.sql()
            .prepare_cached("INSERT INTO training (fingerprint, value, path, ledger_seq) VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut statement| statement.execute(params![fingerprint, value, path, seq]))
            .map_err(|e| self.err(e))?;
        Ok(true)
    }
}

impl Store {
    /// Training-data fingerprints as (fingerprint, value, path).
    pub fn training(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        let mut statement = self
            .conn()
            .prepare("SELECT fingerprint, value, path FROM training ORDER BY id")
            .map_err(|e| self.err(e))?;
        statement
            .query_map(params![], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }
}

/// One decision on a finding, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Resolution {
    pub finding_id: i64,
    pub decision: Decision,
    pub reason: String,
    /// The cases an exclusion names (empty: all the finding's cases).
    pub cases: Vec<String>,
    pub ledger_seq: i64,
    /// The reason in English, when given besides the text as written.
    pub reason_en: Option<String>,
}

/// Every finding with its latest decision (decision, reason, excluded cases, English reason);
/// each lookup goes through `resolutions_finding` and `resolution_cases_resolution`.
pub(crate) const FINDINGS_WITH_DECISIONS_FROM: &str = "SELECT f.id, f.key, f.rule, f.clause, f.severity, f.case_ids, f.item_ids, f.message_ja, f.message_en,
        (SELECT decision FROM resolutions r WHERE r.finding_id = f.id ORDER BY r.id DESC LIMIT 1),
        (SELECT reason FROM resolutions r WHERE r.finding_id = f.id ORDER BY r.id DESC LIMIT 1),
        (SELECT string_agg(rc.case_id, ' ') FROM resolution_cases rc WHERE rc.resolution_id =
            (SELECT r.id FROM resolutions r WHERE r.finding_id = f.id ORDER BY r.id DESC LIMIT 1)),
        (SELECT reason_en FROM resolutions r WHERE r.finding_id = f.id ORDER BY r.id DESC LIMIT 1)
 FROM findings f";

/// The decisions with the cases each names; a WHERE and ORDER BY follow.
const RESOLUTIONS: &str = "SELECT r.finding_id, r.decision, r.reason,
        (SELECT string_agg(rc.case_id, ' ') FROM resolution_cases rc WHERE rc.resolution_id = r.id),
        r.ledger_seq, r.reason_en
 FROM resolutions r";

fn resolution_row(r: &crate::db::Row<'_>) -> crate::db::Result<Resolution> {
    Ok(Resolution {
        finding_id: r.get(0)?,
        decision: word(r, "resolutions of finding", 1)?,
        reason: r.get(2)?,
        cases: r
            .get::<Option<String>>(3)?
            .map(|c| c.split(' ').map(str::to_owned).collect())
            .unwrap_or_default(),
        ledger_seq: r.get(4)?,
        reason_en: r.get(5)?,
    })
}
