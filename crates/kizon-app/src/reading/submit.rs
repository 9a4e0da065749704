//! A read submitted in the browser: the case-level label and score and the marks in hand, in one
//! transaction, through the same recording as the file imports.

use std::collections::BTreeMap;

use kizon_store::{MarkOwner, NewMark, NewRead, NewReadingEvent};
use kizon_vocab::Label;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{HeldMark, event, held_marks, session_role};
use crate::access::Account;
use crate::clock::format_utc;
use crate::lesions::{SetOutcome, shape_json, store_mark_set};
use crate::reference::{Recorded, recorded};
use crate::workspace::OwnRead;
use crate::{AppError, Item, Study};

/// What a reader submits with a case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    #[serde(default)]
    pub label: Option<Label>,
    #[serde(default)]
    pub score: Option<f64>,
}

/// The name a stored mark gives its image: the item's SOP Instance UID (its path when it has
/// none), and for an item of several frames `#N`, the frame counted from 1 as DICOM numbers
/// frames. A device's marks name their images the same way to be matched on them.
pub fn image_name(item: &Item, frame: u32) -> String {
    let identity = item
        .metadata
        .sop_instance_uid
        .clone()
        .unwrap_or_else(|| item.path.clone());
    if item.metadata.frames.unwrap_or(1) > 1 {
        format!("{identity}#{}", u64::from(frame) + 1)
    } else {
        identity
    }
}

impl Study {
    /// Submits the reader's read of an assigned case in the open session: the label and score
    /// the session asks for and the marks in hand, recorded once and never replaced.
    pub fn submit_read(
        &mut self,
        account: &Account,
        case_id: &str,
        submission: Submission,
    ) -> Result<OwnRead, AppError> {
        let current = self.enter_session(account)?;
        if !current.assigned.iter().any(|c| c == case_id) {
            return Err(AppError::NotFound {
                what: format!("case {case_id}"),
            });
        }
        current.require_open()?;
        let plan = self.reading_plan()?;
        let asks = current.session.case_read;
        let Submission { label, score } = submission;
        if plan.declared_sessions.is_empty() {
            // The reference panel's read as it has always been: a label, a score or both.
            if label.is_none() && score.is_none() {
                return Err(AppError::Refused {
                    what: "a read needs a label or a score".into(),
                    hint: "choose positive, negative or indeterminate, or give a score".into(),
                });
            }
        } else {
            if asks.asks_label() && label.is_none() {
                return Err(AppError::Refused {
                    what: format!("session {} asks for a label", current.session.id),
                    hint: "choose positive, negative or indeterminate".into(),
                });
            }
            if asks.asks_score() && score.is_none() {
                return Err(AppError::Refused {
                    what: format!("session {} asks for a score", current.session.id),
                    hint: "give the case's rating".into(),
                });
            }
            // What the protocol does not ask for is not recorded either.
            if (!asks.asks_label() && label.is_some()) || (!asks.asks_score() && score.is_some()) {
                return Err(AppError::Refused {
                    what: format!(
                        "session {} asks for {} only",
                        current.session.id,
                        if asks.asks_label() {
                            "a label"
                        } else {
                            "a score"
                        }
                    ),
                    hint: "send only what the session asks for (the protocol's case_read)".into(),
                });
            }
        }
        if let Some(s) = score {
            super::check_rating(plan.rating_scale, Some(s), "the case's score")?;
        }
        let items: BTreeMap<i64, Item> = self
            .blinded_items(case_id)?
            .into_iter()
            .map(|(b, item)| (b.id, item))
            .collect();
        let role = session_role(&current.session);
        let (code, session, reader_id) = (
            current.reader.code.clone(),
            current.session.id.clone(),
            current.reader.id,
        );
        let at = format_utc(self.clock.now());
        let actor = account.actor();
        let seq = self.store.transact(&actor, |tx| {
            // A reference lock that landed since the session was found open closes a panel read.
            if role == kizon_vocab::ReadRole::Panel
                && let Some(lock) = tx.lock(crate::reference::REFERENCE)?
            {
                return Err(kizon_store::StoreError::Conflict(format!(
                    "the reference standard is locked (ledger entry {}): a panel read would change it",
                    lock.ledger_seq
                )));
            }
            // The marks in hand as they stand inside the transaction.
            let events = tx.reading_events_of(reader_id, &session)?;
            let held: Vec<HeldMark> = held_marks(&events, case_id)
                .map_err(|e| kizon_store::StoreError::Conflict(e.to_string()))?;
            let mut read = NewRead {
                reader_id,
                case_id: case_id.to_owned(),
                role: role.clone(),
                label,
                score,
                marks: None,
                read_at: Some(at.clone()),
                source: String::new(),
            };
            match recorded(tx, &read)? {
                Recorded::Nothing => {}
                Recorded::Same(old) | Recorded::Other(old) => {
                    return Err(kizon_store::StoreError::Conflict(format!(
                        "症例 {case_id} はこのセッションで読影済みです（台帳エントリ {}）/ reader {code} already read case {case_id} in session {session} (ledger entry {}); a read is never replaced",
                        old.ledger_seq, old.ledger_seq
                    )));
                }
            }
            let record = json!({
                "reader": code,
                "case_id": case_id,
                "session": session,
                "role": role.as_stored(),
                "label": label.map(Label::as_str),
                "score": score,
                "marks": held,
                "read_at": at,
                "via": "web",
            });
            let document = tx.put_document_bytes(record.to_string().as_bytes())?.sha256;
            read.source = document.clone();
            let mut marks = Vec::with_capacity(held.len());
            for (ordinal, m) in held.iter().enumerate() {
                let item = items.get(&m.mark.item).ok_or_else(|| {
                    kizon_store::StoreError::Conflict(format!(
                        "mark {} is on item {}, which is not in case {case_id}",
                        m.id, m.mark.item
                    ))
                })?;
                let shape = m
                    .mark
                    .shape()
                    .map_err(|e| kizon_store::StoreError::Conflict(e.to_string()))?;
                marks.push(NewMark {
                    case_id: case_id.to_owned(),
                    image: image_name(item, m.mark.frame),
                    owner: MarkOwner::Reader {
                        reader_id,
                        role: role.clone(),
                    },
                    ordinal: ordinal as i64,
                    shape: shape_json(&shape),
                    lesion_type: m.mark.lesion_type.clone(),
                    size_mm: None,
                    rating: m.mark.rating,
                    source: document.clone(),
                });
            }
            let owner = MarkOwner::Reader {
                reader_id,
                role: role.clone(),
            };
            if !marks.is_empty()
                && store_mark_set(tx, case_id, &owner, &marks, &document, "the read in the browser")?
                    != SetOutcome::New
            {
                return Err(kizon_store::StoreError::Conflict(format!(
                    "reader {code} already has marks on case {case_id} as {role}; marks are never replaced"
                )));
            }
            tx.insert_read(&read)?;
            tx.insert_reading_event(&NewReadingEvent {
                reader_id,
                session: session.clone(),
                case_id: Some(case_id.to_owned()),
                event: event::SUBMIT.into(),
                mark: None,
                target: None,
                detail: Some(json!({ "document": document, "marks": held }).to_string()),
                at: at.clone(),
            })?;
            tx.record(
                "read",
                &format!("reader {code} read case {case_id} in session {session} ({} marks)", marks.len()),
                json!({ "reader": code, "case_id": case_id, "session": session, "role": role.as_stored(), "marks": marks.len(), "document": document }),
            )
            .map(|e| e.seq)
        });
        let seq = seq.map_err(|e| match e {
            kizon_store::StoreError::Conflict(what) => AppError::Refused {
                what,
                hint: "読影は一度だけ記録され、上書きされません。誤りがあれば試験の管理者に連絡してください / a read is recorded once and never replaced: tell the study's admin if it was wrong".into(),
            },
            other => other.into(),
        })?;
        Ok(OwnRead {
            label,
            score,
            ledger_seq: seq,
        })
    }
}
