//! The marks a reader places on a case before submitting the read, and the case as the reader
//! opens it.

use std::collections::BTreeSet;

use kizon_protocol::{CaseRead, RatingScale, WindowPreset};
use kizon_stats::Shape;
use kizon_store::{ItemQuery, NewReadingEvent, ReadingEvent};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Current, SessionState, SessionStatus, event};
use crate::access::Account;
use crate::clock::format_utc;
use crate::workspace::{BlindedItem, OwnRead};
use crate::{AppError, Item, Study};

/// A mark as a reader places it: on frame `frame` (from 0) of item `item`, `points` in the
/// frame's pixel coordinates (column, row): one for a point, centre and a point on the rim for
/// a circle, two opposite corners for a box, three or more vertices for a polygon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkInput {
    pub item: i64,
    #[serde(default)]
    pub frame: u32,
    pub shape: String,
    pub points: Vec<[f64; 2]>,
    #[serde(default)]
    pub lesion_type: Option<String>,
    #[serde(default)]
    pub rating: Option<f64>,
}

/// A mark in the reader's hands: the event that placed it names it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldMark {
    pub id: i64,
    #[serde(flatten)]
    pub mark: MarkInput,
}

/// The most vertices a polygon may have (a traced outline, not a mask).
const MAX_VERTICES: usize = 1000;

impl MarkInput {
    /// The shape as the lesion statistics take it.
    pub fn shape(&self) -> Result<Shape, AppError> {
        let bad = |what: String| {
            AppError::Refused {
            what,
            hint: "shape is point (1 point), circle (centre and a point on the rim), box (two corners) or polygon (3 or more vertices)".into(),
        }
        };
        if let Some(p) = self
            .points
            .iter()
            .find(|p| !(p[0].is_finite() && p[1].is_finite()))
        {
            return Err(bad(format!("point {p:?} is not a pair of numbers")));
        }
        let p = &self.points;
        let need = |n: usize| -> Result<(), AppError> {
            if p.len() == n {
                Ok(())
            } else {
                Err(bad(format!(
                    "a {} takes {n} points, not {}",
                    self.shape,
                    p.len()
                )))
            }
        };
        Ok(match self.shape.as_str() {
            "point" => {
                need(1)?;
                Shape::Point {
                    x: p[0][0],
                    y: p[0][1],
                }
            }
            "circle" => {
                need(2)?;
                let r = (p[1][0] - p[0][0]).hypot(p[1][1] - p[0][1]);
                if r <= 0.0 {
                    return Err(bad("a circle needs a radius above zero".into()));
                }
                Shape::Circle {
                    x: p[0][0],
                    y: p[0][1],
                    r,
                }
            }
            "box" => {
                need(2)?;
                let (x0, x1) = (p[0][0].min(p[1][0]), p[0][0].max(p[1][0]));
                let (y0, y1) = (p[0][1].min(p[1][1]), p[0][1].max(p[1][1]));
                if x0 == x1 || y0 == y1 {
                    return Err(bad("a box needs a width and a height".into()));
                }
                Shape::Box { x0, y0, x1, y1 }
            }
            "polygon" => {
                if p.len() < 3 || p.len() > MAX_VERTICES {
                    return Err(bad(format!(
                        "a polygon takes 3 to {MAX_VERTICES} vertices, not {}",
                        p.len()
                    )));
                }
                Shape::Polygon {
                    vertices: p.iter().map(|v| (v[0], v[1])).collect(),
                }
            }
            other => return Err(bad(format!("`{other}` is not a shape"))),
        })
    }
}

/// One case as a reader opens it: the blinded items, what the protocol asks of the read, and the
/// reader's own marks and read in the current session, nothing else.
#[derive(Debug, Clone, Serialize)]
pub struct ReadingCase {
    pub case: String,
    pub session: SessionStatus,
    pub items: Vec<BlindedItem>,
    pub lesion_types: Vec<String>,
    /// Whether the protocol has `[lesions]`: marks can be placed.
    pub marking: bool,
    pub rating_scale: Option<RatingScale>,
    pub window_presets: Vec<WindowPreset>,
    pub case_read: CaseRead,
    /// The reader's marks: in hand before the submit, as stored after it.
    pub marks: Vec<HeldMark>,
    /// The reader's read of the case in this session, once submitted.
    pub read: Option<OwnRead>,
    /// The case's place in the reader's order, from 1, of `of`.
    pub position: usize,
    pub of: usize,
    /// The next unread case in the reader's order.
    pub next: Option<String>,
}

/// The marks in hand in a session's events: those placed on `case_id` and not withdrawn.
pub(crate) fn held_marks(
    events: &[ReadingEvent],
    case_id: &str,
) -> Result<Vec<HeldMark>, AppError> {
    let withdrawn: BTreeSet<i64> = events
        .iter()
        .filter(|e| e.event == event::UNMARK)
        .filter_map(|e| e.target)
        .collect();
    events
        .iter()
        .filter(|e| e.event == event::MARK && e.case_id.as_deref() == Some(case_id))
        .filter(|e| !withdrawn.contains(&e.id))
        .map(|e| {
            Ok(HeldMark {
                id: e.id,
                mark: crate::stored_json("a reading mark", e.mark.as_deref().unwrap_or(""))?,
            })
        })
        .collect()
}

fn not_found(what: String) -> AppError {
    AppError::NotFound { what }
}

/// An item as a reader sees it, when it is of a kind a reader reads (a WFDB record through its
/// header): no metadata beyond the frame count and size (and a video's frame rate).
fn blind(item: &Item) -> Option<BlindedItem> {
    if !item.kind.is_readable()
        || (item.kind == kizon_vocab::ItemKind::Wfdb && !item.is_wfdb_header())
    {
        return None;
    }
    let m = &item.metadata;
    Some(BlindedItem {
        id: item.id,
        kind: item.kind,
        frames: m.frames.map_or(1, |f| u32::try_from(f).unwrap_or(u32::MAX)),
        width: m.columns.or(m.width),
        height: m.rows.or(m.height),
        stack: None,
        frames_per_second: (item.kind == kizon_vocab::ItemKind::Video)
            .then(|| m.frames.zip(m.duration_s))
            .flatten()
            .map(|(frames, seconds)| frames as f64 / seconds)
            .filter(|fps| fps.is_finite() && *fps > 0.0),
    })
}

/// A slice position ordered totally (`f64::total_cmp`), for sorting a series.
#[derive(PartialEq)]
struct SlicePosition(f64);

impl Eq for SlicePosition {}

impl PartialOrd for SlicePosition {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SlicePosition {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl Study {
    /// The case's items as a reader sees them: readable kinds only (a WFDB record through its
    /// header), no metadata beyond the frame count and size.
    pub(crate) fn blinded_items(
        &self,
        case_id: &str,
    ) -> Result<Vec<(BlindedItem, Item)>, AppError> {
        let (_, items) = self.store.items_page(&ItemQuery {
            case_id: Some(case_id.to_owned()),
            limit: 1000,
            ..ItemQuery::default()
        })?;
        let mut blinded: Vec<(BlindedItem, Item)> = Vec::new();
        for item in items {
            let item = Item::from_stored(item)?;
            if let Some(b) = blind(&item) {
                blinded.push((b, item));
            }
        }
        // The single-frame images of a series, in slice order (position along the patient,
        // then instance number, then path), become one stack the viewer scrolls through.
        let series = |item: &Item| {
            (item.kind == kizon_vocab::ItemKind::Dicom && item.metadata.frames.unwrap_or(1) == 1)
                .then(|| item.metadata.series_instance_uid.clone())
                .flatten()
        };
        blinded.sort_by_cached_key(|(_, item)| {
            (
                series(item),
                SlicePosition(item.metadata.slice_position_mm.unwrap_or(0.0)),
                item.metadata.instance_number,
                item.path.clone(),
            )
        });
        // Each series' members counted once (a case of 250 slices: not 250 × 250 comparisons).
        let uids: Vec<Option<String>> = blinded.iter().map(|(_, item)| series(item)).collect();
        let mut members: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for uid in uids.iter().flatten() {
            *members.entry(uid.as_str()).or_default() += 1;
        }
        let mut stacks: Vec<&str> = Vec::new();
        for (k, uid) in uids.iter().enumerate() {
            let Some(uid) = uid.as_deref() else {
                continue;
            };
            if members[uid] > 1 {
                let index = match stacks.iter().position(|s| *s == uid) {
                    Some(i) => i,
                    None => {
                        stacks.push(uid);
                        stacks.len() - 1
                    }
                };
                blinded[k].0.stack = Some(index as u32);
            }
        }
        Ok(blinded)
    }

    fn assigned_case(&self, current: &Current, case_id: &str) -> Result<(), AppError> {
        if current.assigned.iter().any(|c| c == case_id) {
            Ok(())
        } else {
            Err(not_found(format!("case {case_id}")))
        }
    }

    /// Opens an assigned case for reading: recorded as an event of the session when the case is
    /// still to be read (the start of its reading time), shown as read otherwise.
    pub fn open_case(&mut self, account: &Account, case_id: &str) -> Result<ReadingCase, AppError> {
        let mut current = self.current_session(account)?;
        // A case not assigned starts nothing.
        self.assigned_case(&current, case_id)?;
        if current.status.state == SessionState::Open && current.status.started_at.is_none() {
            current = self.enter_session(account)?;
        }
        if current.read_of(case_id).is_none() {
            match current.status.state {
                // The start of the case's reading time.
                SessionState::Open => {
                    self.record_event(account, &current, Some(case_id), event::OPEN, None, None)?;
                }
                // After the last session, or once a lock closed it: shown, never read.
                SessionState::Closed { .. } | SessionState::Finished => {}
                SessionState::Washout { .. } | SessionState::NothingAssigned => {
                    current.require_open()?;
                }
            }
        }
        // The session as decided above: the event just recorded changes neither the marks in
        // hand nor the order, so the case is shown without deciding the session again.
        self.case_in_session(current, case_id)
    }

    /// The case as [`Study::open_case`] shows it, without recording anything.
    pub fn reading_case(&self, account: &Account, case_id: &str) -> Result<ReadingCase, AppError> {
        let current = self.current_session(account)?;
        self.assigned_case(&current, case_id)?;
        self.case_in_session(current, case_id)
    }

    fn case_in_session(&self, current: Current, case_id: &str) -> Result<ReadingCase, AppError> {
        let (protocol, _) = self.protocol()?;
        let order = self.session_order(&current)?;
        let read = current.read_of(case_id).map(crate::workspace::own);
        let marks = match read {
            None => held_marks(&current.events, case_id)?,
            Some(_) => self.stored_marks_as_held(&current, case_id)?,
        };
        let position = order.iter().position(|c| c == case_id).map_or(0, |p| p + 1);
        let next = order
            .iter()
            .cycle()
            .skip(position)
            .take(order.len())
            .find(|c| *c != case_id && current.read_of(c).is_none())
            .cloned();
        Ok(ReadingCase {
            case: case_id.to_owned(),
            items: self
                .blinded_items(case_id)?
                .into_iter()
                .map(|(b, _)| b)
                .collect(),
            lesion_types: protocol
                .lesions
                .as_ref()
                .map(|l| l.types.clone())
                .unwrap_or_default(),
            marking: protocol.lesions.is_some(),
            rating_scale: protocol.reading.rating_scale,
            window_presets: protocol.reading.window_presets.clone(),
            case_read: current.session.case_read,
            marks,
            read,
            position,
            of: order.len(),
            next,
            session: current.status,
        })
    }

    /// The reader's stored marks on a read case of the session, shown as they were submitted.
    fn stored_marks_as_held(
        &self,
        current: &Current,
        case_id: &str,
    ) -> Result<Vec<HeldMark>, AppError> {
        // The submit event keeps the marks as placed (item and frame), which the stored rows
        // name only by image.
        let submitted = current
            .events
            .iter()
            .rev()
            .find(|e| e.event == event::SUBMIT && e.case_id.as_deref() == Some(case_id));
        Ok(match submitted.and_then(|e| e.detail.as_deref()) {
            Some(detail) => {
                let detail: serde_json::Value = crate::stored_json("a submitted read", detail)?;
                serde_json::from_value::<Vec<HeldMarkStored>>(detail["marks"].clone())
                    .map_err(|e| AppError::Refused {
                        what: format!("a submitted read's marks do not parse: {e}"),
                        hint: "the reading events were written behind kizon's back: run kizon audit verify".into(),
                    })?
                    .into_iter()
                    .map(|m| HeldMark {
                        id: m.id,
                        mark: m.mark,
                    })
                    .collect()
            }
            None => Vec::new(),
        })
    }

    /// Places a mark on an assigned case of the open session, before the read is submitted.
    pub fn add_mark(
        &mut self,
        account: &Account,
        case_id: &str,
        mark: MarkInput,
    ) -> Result<HeldMark, AppError> {
        let current = self.current_session(account)?;
        self.assigned_case(&current, case_id)?;
        current.require_open()?;
        self.refuse_when_read(&current, case_id)?;
        let (protocol, _) = self.protocol()?;
        let Some(lesions) = &protocol.lesions else {
            return Err(AppError::Refused {
                what: "この試験は病変をマークしません / the protocol has no [lesions]: marks cannot be matched to lesions".into(),
                hint: "read the case with a label or score".into(),
            });
        };
        mark.shape()?;
        // The one item marked, not the whole case (a series has hundreds).
        let item = self
            .store
            .item(mark.item)?
            .filter(|i| i.case_id == case_id)
            .map(Item::from_stored)
            .transpose()?
            .as_ref()
            .and_then(blind)
            .ok_or_else(|| not_found(format!("item {} in case {case_id}", mark.item)))?;
        if mark.frame >= item.frames {
            return Err(AppError::Refused {
                what: format!(
                    "frame {} is past the item's {} frames",
                    mark.frame, item.frames
                ),
                hint: "frames count from 0".into(),
            });
        }
        if let (Some(w), Some(h)) = (item.width, item.height)
            && let Some(p) = mark
                .points
                .iter()
                .find(|p| p[0] < 0.0 || p[1] < 0.0 || p[0] > f64::from(w) || p[1] > f64::from(h))
        {
            return Err(AppError::Refused {
                what: format!("point {p:?} is outside the {w}×{h} image"),
                hint: "points are pixel coordinates (column, row) within the frame".into(),
            });
        }
        if let Some(t) = &mark.lesion_type {
            crate::text::name("the lesion type", t)?;
        }
        if !lesions.types.is_empty() {
            match &mark.lesion_type {
                Some(t) if lesions.types.contains(t) => {}
                other => {
                    return Err(AppError::Refused {
                        what: format!(
                            "lesion type {} is not one of the protocol's",
                            other
                                .as_deref()
                                .map_or("(none)".into(), |t| format!("`{t}`"))
                        ),
                        hint: format!("choose one of: {}", lesions.types.join(", ")),
                    });
                }
            }
        }
        check_rating(
            protocol.reading.rating_scale,
            mark.rating,
            "a mark's rating",
        )?;
        let json = serde_json::to_string(&mark).expect("a mark serialises");
        let id = self.record_event(
            account,
            &current,
            Some(case_id),
            event::MARK,
            Some(json),
            None,
        )?;
        Ok(HeldMark { id, mark })
    }

    /// Withdraws a mark in hand (the reader's own, on this case, before the submit).
    pub fn delete_mark(
        &mut self,
        account: &Account,
        case_id: &str,
        mark_id: i64,
    ) -> Result<(), AppError> {
        let current = self.current_session(account)?;
        self.assigned_case(&current, case_id)?;
        current.require_open()?;
        self.refuse_when_read(&current, case_id)?;
        if !held_marks(&current.events, case_id)?
            .iter()
            .any(|m| m.id == mark_id)
        {
            return Err(not_found(format!("mark {mark_id} on case {case_id}")));
        }
        self.record_event(
            account,
            &current,
            Some(case_id),
            event::UNMARK,
            None,
            Some(mark_id),
        )?;
        Ok(())
    }

    /// Records a pause: the time after it counts on no case.
    pub fn pause_reading(&mut self, account: &Account) -> Result<(), AppError> {
        let current = self.current_session(account)?;
        if current.status.started_at.is_some() && current.status.state == super::SessionState::Open
        {
            self.record_event(account, &current, None, event::PAUSE, None, None)?;
        }
        Ok(())
    }

    fn refuse_when_read(&self, current: &Current, case_id: &str) -> Result<(), AppError> {
        match current.read_of(case_id) {
            None => Ok(()),
            Some(read) => Err(AppError::Refused {
                what: format!(
                    "症例 {case_id} はこのセッションで読影済みです（台帳エントリ {}）/ case {case_id} is already read in this session (ledger entry {}); a read is never replaced",
                    read.ledger_seq, read.ledger_seq
                ),
                hint: "読影は一度だけ記録され、上書きされません / a read is recorded once and never replaced".into(),
            }),
        }
    }

    /// Records one reading event with its ledger entry; returns the event's id.
    fn record_event(
        &mut self,
        account: &Account,
        current: &Current,
        case_id: Option<&str>,
        kind: &str,
        mark: Option<String>,
        target: Option<i64>,
    ) -> Result<i64, AppError> {
        let at = format_utc(self.clock.now());
        let (code, session) = (&current.reader.code, &current.session.id);
        let reader_id = current.reader.id;
        let new = NewReadingEvent {
            reader_id,
            session: session.clone(),
            case_id: case_id.map(str::to_owned),
            event: kind.to_owned(),
            mark,
            target,
            detail: None,
            at: at.clone(),
        };
        let role = super::session_role(&current.session);
        let id = self.store.transact(&account.actor(), |tx| {
            // Decided again inside the transaction: a submit that landed meanwhile closes the
            // case to marks.
            if let Some(case_id) = case_id
                && kind != event::OPEN
                && tx.existing_read(reader_id, case_id, &role)?.is_some()
            {
                return Err(kizon_store::StoreError::Conflict(format!(
                    "case {case_id} was submitted meanwhile; a read is never replaced"
                )));
            }
            let id = tx.insert_reading_event(&new)?;
            tx.record(
                &format!("reading {kind}"),
                &match case_id {
                    Some(c) => format!("reader {code}, session {session}: {kind} on case {c}"),
                    None => format!("reader {code}, session {session}: {kind}"),
                },
                json!({ "reader": code, "session": session, "case_id": case_id, "event": kind, "id": id, "target": target, "at": at }),
            )?;
            Ok(id)
        });
        id.map_err(|e| match e {
            kizon_store::StoreError::Conflict(what) => AppError::Refused {
                what,
                hint: "読影は一度だけ記録され、上書きされません / a read is recorded once and never replaced".into(),
            },
            other => other.into(),
        })
    }
}

/// A held mark as the submit event keeps it.
#[derive(Deserialize)]
struct HeldMarkStored {
    id: i64,
    #[serde(flatten)]
    mark: MarkInput,
}

/// Refuses a rating outside the protocol's scale, or a missing one where a scale is set.
pub(crate) fn check_rating(
    scale: Option<RatingScale>,
    rating: Option<f64>,
    what: &str,
) -> Result<(), AppError> {
    match (scale, rating) {
        (Some(scale), None) => Err(AppError::Refused {
            what: format!("{what} is missing"),
            hint: format!("give a rating on the protocol's scale {}", scale.describe()),
        }),
        (Some(scale), Some(r)) if !scale.admits(r) => Err(AppError::Refused {
            what: format!(
                "{what} {r} is not on the protocol's scale {}",
                scale.describe()
            ),
            hint: if scale.integer {
                format!("give a whole number from {} to {}", scale.low, scale.high)
            } else {
                format!("give a number from {} to {}", scale.low, scale.high)
            },
        }),
        (None, Some(r)) if !r.is_finite() => Err(AppError::Refused {
            what: format!("{what} is not a number"),
            hint: "give a number".into(),
        }),
        _ => Ok(()),
    }
}
