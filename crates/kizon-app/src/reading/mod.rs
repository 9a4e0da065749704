//! Reading sessions in the browser: the multi-reader multi-case (MRMC) design of the protocol's
//! `[reading]` enforced while readers read, and the marks a reader places before submitting.
//!
//! - **Sessions** (`sessions.rs`): each reader goes through the protocol's sessions in order
//!   (e.g. unaided, then aided). A session is open once the reader has read every assigned case
//!   of the one before and its washout has passed since their last read there; a reference
//!   panel's session closes with the reference lock, a reader-study session opens only after
//!   the dataset and reference locks. A reader's start of a session is recorded with a seed
//!   drawn then, from which their case order is derived (SHA-256 of seed, reader, session and
//!   case), so that the order can be derived again at the reliability investigation.
//! - **Marks in hand** (`marks.rs`): a point, circle, box or polygon on a frame of an item,
//!   with a lesion type and a rating, recorded as an event and withdrawable until the read is
//!   submitted.
//! - **Submit** (`submit.rs`): the case-level label and score and the marks in hand, recorded
//!   in one transaction as a read in the session's role (`panel` or `modality:M`) and a mark set
//!   stored exactly as `kizon marks import` stores one ([`crate::lesions`]'s
//!   `store_mark_set`). A read is never replaced.
//! - **Reading time** (`times.rs`): from the server-side events.
//!
//! Every event is a row of the covered `reading_events` table, written with its ledger entry.

mod marks;
mod sessions;
mod submit;
mod times;

pub use marks::*;
pub use sessions::*;
pub use submit::*;
pub use times::*;

pub use kizon_protocol::{CaseRead, RatingScale, WindowPreset};

use kizon_protocol::{ReadingPlan, ReadingSession};
use kizon_vocab::ReadRole;

use crate::access::{Account, Permission};
use crate::{AppError, Study};

/// The event words of `reading_events`.
pub(crate) mod event {
    pub const START: &str = "start";
    pub const OPEN: &str = "open";
    pub const MARK: &str = "mark";
    pub const UNMARK: &str = "unmark";
    pub const PAUSE: &str = "pause";
    pub const SUBMIT: &str = "submit";
}

/// The role a session's reads are stored under.
pub fn session_role(session: &ReadingSession) -> ReadRole {
    match &session.modality {
        Some(m) => ReadRole::Modality(m.clone()),
        None => ReadRole::Panel,
    }
}

/// The reader an account reads as: its code and registered id.
pub(crate) struct ReaderRef {
    pub code: String,
    pub id: i64,
}

impl Study {
    pub(crate) fn reading_plan(&self) -> Result<ReadingPlan, AppError> {
        Ok(self.protocol()?.0.reading)
    }

    /// The registered reader behind a reader account.
    pub(crate) fn reader_ref(&self, account: &Account) -> Result<ReaderRef, AppError> {
        self.require(account, Permission::Read)?;
        let code = account
            .reader_code
            .clone()
            .ok_or_else(|| AppError::Forbidden {
                what: "読影者コードがありません / this reader account has no reader code".into(),
                hint: "試験の管理者に読影者コードとの紐付けを依頼してください / ask the study's admin to link the account to a panel reader (kizon user add NAME --role reader --reader CODE)".into(),
            })?;
        let id = self
            .store
            .reader_id(&code)?
            .ok_or_else(|| AppError::NotFound {
                what: format!("reader {code}"),
            })?;
        Ok(ReaderRef { code, id })
    }
}
