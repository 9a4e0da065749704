//! What the web workspace shows: the study's state step by step, pages of items, one item made
//! viewable (a frame as PNG, a waveform's channels), and the blinded reading workspace.
//!
//! Every view that depends on who asks takes the [`Account`] and enforces [`access`] rules
//! itself, so that no shell can show a reader more than their assigned cases' images.
//!
//! [`access`]: crate::access

use kizon_pixels::{Image, Window};
use kizon_store::{ItemQuery, Read};
use kizon_vocab::ItemKind;

use crate::Item;
use crate::frame_cache::{Frame, ModalityLut, Source};
use serde::Serialize;

use crate::access::{Account, Permission, Role};
use crate::reference::Label;
use crate::{AppError, Study};

/// The state of one step of the study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepState {
    Done,
    InProgress,
    NotStarted,
    /// Something must be settled first; see the step's blockers.
    Blocked,
}

/// One step of the study as the overview shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub key: &'static str,
    pub name_ja: &'static str,
    pub name_en: &'static str,
    pub state: StepState,
    pub detail_ja: String,
    pub detail_en: String,
    /// What keeps the next lock from being taken, one line each (bilingual).
    pub blockers: Vec<String>,
}

/// The study overview: the plan's essentials and every step's state.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub title: String,
    pub study_id: String,
    pub sponsor: String,
    /// The regulatory plan's essentials (`kizon plan`): test type 2(1) or 2(2) (Q4, Q5),
    /// application category, protocol consultation (Q10), the Q&A revision applied. `None`
    /// when the protocol gives no plan (say, a date before the Q&A).
    pub plan: Option<PlanSummary>,
    pub ledger_entries: i64,
    pub steps: Vec<Step>,
}

/// The plan as the overview shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PlanSummary {
    pub test_type: &'static str,
    pub application_category: Option<&'static str>,
    pub protocol_consultation: &'static str,
    pub rules_ja: &'static str,
    pub rules_en: &'static str,
}

/// A page of items.
#[derive(Debug, Clone, Serialize)]
pub struct ItemPage {
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
    pub items: Vec<Item>,
}

/// A waveform channel reduced for plotting: per column, the minimum and maximum sample.
#[derive(Debug, Clone, Serialize)]
pub struct ChannelPreview {
    pub label: String,
    pub sampling_rate_hz: f64,
    pub samples: usize,
    /// (min, max) per bucket of consecutive samples.
    pub envelope: Vec<(i32, i32)>,
}

/// What a reader sees of an assigned item: no metadata, no path, no clinical information.
#[derive(Debug, Clone, Serialize)]
pub struct BlindedItem {
    pub id: i64,
    pub kind: ItemKind,
    pub frames: u32,
    /// The frame's size in pixels, when known (marks are placed within it).
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Single-frame images of one series share a stack, scrolled through as one series
    /// (numbered from 0 within the case; absent for an image alone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<u32>,
    /// A video's frames per second (its frame count over its duration): frame `n` is shown
    /// from `n / fps` seconds, so a mark placed on a paused video names its frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frames_per_second: Option<f64>,
}

/// A case on a reader's worklist, with the reader's own read if made.
#[derive(Debug, Clone, Serialize)]
pub struct WorklistCase {
    pub case_id: String,
    pub read: Option<OwnRead>,
}

/// A reader's own read, as they may see it again.
#[derive(Debug, Clone, Serialize)]
pub struct OwnRead {
    pub label: Option<Label>,
    pub score: Option<f64>,
    pub ledger_seq: i64,
}

pub(crate) fn own(read: &Read) -> OwnRead {
    OwnRead {
        label: read.label,
        score: read.score,
        ledger_seq: read.ledger_seq,
    }
}

impl ModalityLut {
    fn of(bytes: &[u8]) -> ModalityLut {
        let parsed = kizon_formats::dicom::tree::parse(bytes).ok();
        let number = |tag: (u16, u16)| {
            parsed
                .as_ref()
                .and_then(|p| p.top_text(tag))
                .and_then(|t| {
                    t.split('\\')
                        .next()
                        .and_then(|v| v.trim().parse::<f64>().ok())
                })
                .filter(|v| v.is_finite())
        };
        let slope = number((0x0028, 0x1053))
            .filter(|s| *s != 0.0)
            .unwrap_or(1.0);
        let intercept = number((0x0028, 0x1052)).unwrap_or(0.0);
        let window = number((0x0028, 0x1050))
            .zip(number((0x0028, 0x1051)).filter(|w| *w >= 1.0))
            .map(|(center, width)| Window { center, width });
        ModalityLut {
            slope,
            intercept,
            window,
        }
    }

    /// A window in the modality's units as the stored values see it.
    fn to_stored(self, w: Window) -> Window {
        Window {
            center: (w.center - self.intercept) / self.slope,
            width: (w.width / self.slope.abs()).max(1.0),
        }
    }

    /// The stored values' range in the modality's units.
    fn range(&self, (lo, hi): (i64, i64)) -> (i64, i64) {
        let at = |v: i64| (v as f64 * self.slope + self.intercept).round() as i64;
        let (a, b) = (at(lo), at(hi));
        (a.min(b), a.max(b))
    }
}

/// The largest video a page plays, read whole (1 GiB).
pub const MAX_VIDEO_BYTES: u64 = 1 << 30;

/// How many unresolved blocking findings the overview names before it counts the rest.
const BLOCKERS_NAMED: u64 = 20;

fn not_found(what: String) -> AppError {
    AppError::NotFound { what }
}

impl Study {
    /// Every step's state, what is done and what blocks the next lock.
    pub fn overview(&self, account: &Account) -> Result<Overview, AppError> {
        self.require(account, Permission::ViewStudy)?;
        let (protocol, _) = self.draft_protocol()?;
        let store = &self.store;
        let locked = |kind: &str| store.lock(kind).map(|l| l.is_some());
        let protocol_locked = locked(crate::locks::PROTOCOL)?;
        let dataset_locked = locked(crate::dataset::DATASET)?;
        let reference_locked = locked(crate::reference::REFERENCE)?;
        let counts = store.counts()?;
        let (providers, evidence) = (counts.providers, counts.evidence);
        // Signed hand-overs (the hospital's side): how many arrived, and how many files the
        // hospitals kept back in their quarantines (never sent).
        let handovers = store.handovers()?;
        let kept_back: i64 = handovers.iter().map(|h| h.quarantined).sum();
        let signing = store
            .provider_keys()?
            .into_iter()
            .map(|k| k.provider)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let (items, cases, reads) = (counts.items, counts.cases, counts.reads);
        let (results, analyses) = (counts.results, counts.analyses);
        // Counted by rule, and the first few blockers named: the overview of a study with
        // 100,000 findings reads neither them all nor lists them all.
        let tallies = self.finding_rules()?;
        let finding_count: u64 = tallies.iter().map(|t| t.findings).sum();
        let unresolved_count: u64 = tallies.iter().map(|t| t.unresolved_blocking).sum();
        let unresolved = self.unresolved_blocking(BLOCKERS_NAMED)?;
        let results_visible = self.require(account, Permission::ViewResults).is_ok();
        let state = |done: bool, started: bool| match (done, started) {
            (true, _) => StepState::Done,
            (false, true) => StepState::InProgress,
            _ => StepState::NotStarted,
        };
        let mut steps = vec![
            Step {
                key: "protocol",
                name_ja: "試験計画書の固定",
                name_en: "Protocol lock",
                state: state(protocol_locked, true),
                detail_ja: if protocol_locked {
                    "固定済み".into()
                } else {
                    "未固定".into()
                },
                detail_en: if protocol_locked {
                    "locked".into()
                } else {
                    "not locked".into()
                },
                blockers: Vec::new(),
            },
            Step {
                key: "providers",
                name_ja: "データ提供元と根拠資料",
                name_en: "Providers and evidence",
                state: state(providers > 0 && evidence > 0, providers > 0),
                detail_ja: format!(
                    "提供元 {providers}（うち署名鍵登録 {signing}）、根拠資料 {evidence}、署名付き提供データ {}（提供元で隔離 {kept_back} ファイル）",
                    handovers.len()
                ),
                detail_en: format!(
                    "{providers} providers ({signing} with a signing key), {evidence} evidence documents, {} signed hand-overs ({kept_back} files kept back in the providers' quarantines)",
                    handovers.len()
                ),
                blockers: Vec::new(),
            },
            Step {
                key: "ingest",
                name_ja: "既存データの取込み",
                name_en: "Ingest",
                state: state(items > 0, false),
                detail_ja: format!("症例 {cases}、データ {items}"),
                detail_en: format!("{cases} cases, {items} items"),
                blockers: Vec::new(),
            },
            Step {
                key: "check",
                name_ja: "データの疑義の確認",
                name_en: "Data doubts",
                state: if finding_count == 0 && items == 0 {
                    StepState::NotStarted
                } else {
                    state(unresolved_count == 0, true)
                },
                detail_ja: format!("疑義 {finding_count}、未解決（重大）{unresolved_count}"),
                detail_en: format!(
                    "{finding_count} findings, {unresolved_count} blocking unresolved"
                ),
                blockers: Vec::new(),
            },
        ];
        let mut dataset_blockers: Vec<String> = unresolved
            .iter()
            .map(|f| {
                format!(
                    "疑義 #{} ({} {}) 未解決 / finding #{} unresolved",
                    f.id, f.clause, f.rule, f.id
                )
            })
            .collect();
        if unresolved_count > unresolved.len() as u64 {
            let more = unresolved_count - unresolved.len() as u64;
            dataset_blockers.push(format!(
                "ほか {more} 件の未解決の疑義 / {more} more unresolved findings"
            ));
        }
        if !protocol_locked {
            dataset_blockers.insert(0, "試験計画書が未固定 / the protocol is not locked".into());
        }
        steps.push(Step {
            key: "dataset",
            name_ja: "解析対象データセットの固定",
            name_en: "Dataset lock",
            state: if dataset_locked {
                StepState::Done
            } else if dataset_blockers.is_empty() {
                StepState::NotStarted
            } else {
                StepState::Blocked
            },
            detail_ja: if dataset_locked {
                "固定済み".into()
            } else {
                "未固定".into()
            },
            detail_en: if dataset_locked {
                "locked".into()
            } else {
                "not locked".into()
            },
            blockers: if dataset_locked {
                Vec::new()
            } else {
                dataset_blockers
            },
        });
        steps.push(Step {
            key: "reference",
            name_ja: "参照標準の固定",
            name_en: "Reference standard lock",
            state: if reference_locked {
                StepState::Done
            } else if !dataset_locked {
                StepState::Blocked
            } else {
                state(false, reads > 0)
            },
            detail_ja: format!(
                "読影 {reads}{}",
                if reference_locked {
                    "、固定済み"
                } else {
                    ""
                }
            ),
            detail_en: format!(
                "{reads} reads{}",
                if reference_locked { ", locked" } else { "" }
            ),
            blockers: if dataset_locked || reference_locked {
                Vec::new()
            } else {
                vec!["解析対象データセットが未固定 / the dataset is not locked".into()]
            },
        });
        let (results_ja, results_en) = if results_visible {
            (
                format!("結果 {results}、解析 {analyses}"),
                format!("{results} results, {analyses} analyses"),
            )
        } else {
            (
                "（固定後に閲覧可）".into(),
                "(visible after the locks)".into(),
            )
        };
        steps.push(Step {
            key: "results",
            name_ja: "被験機器の結果と解析",
            name_en: "Device results and analysis",
            state: if !(dataset_locked && reference_locked) {
                StepState::Blocked
            } else {
                state(analyses > 0, results > 0)
            },
            detail_ja: results_ja,
            detail_en: results_en,
            blockers: if dataset_locked && reference_locked {
                Vec::new()
            } else {
                vec!["データセットと参照標準の固定が先 / lock the dataset and the reference standard first".into()]
            },
        });
        Ok(Overview {
            title: protocol.study.title.clone(),
            plan: self
                .plan(crate::plan::PlanOptions::default())
                .ok()
                .map(|view| PlanSummary {
                    test_type: view.plan.test_type.as_str(),
                    application_category: view.plan.application_category,
                    protocol_consultation: view.plan.protocol_consultation,
                    rules_ja: view.plan.rules_version.title_ja,
                    rules_en: view.plan.rules_version.title_en,
                }),
            study_id: protocol.study.id.clone(),
            sponsor: protocol.study.sponsor.clone(),
            ledger_entries: store.head()?.map_or(0, |(seq, _)| seq),
            steps,
        })
    }

    /// Brings the item search index up to date (a cache outside the ledger), so that the
    /// first search after a large ingest does not pay for indexing, and rebuilds it when it no
    /// longer matches the items (an entry deleted behind kizon's back hides an item).
    pub fn prepare_search(&self) -> Result<(), AppError> {
        self.store.repair_item_search()?;
        Ok(())
    }

    /// A page of items (for everyone but readers).
    pub fn item_page(&self, account: &Account, query: &ItemQuery) -> Result<ItemPage, AppError> {
        self.require(account, Permission::ViewStudy)?;
        let query = ItemQuery {
            limit: query.limit.clamp(1, 500),
            ..query.clone()
        };
        let (total, items) = self.store.items_page(&query)?;
        Ok(ItemPage {
            total,
            offset: query.offset,
            limit: query.limit,
            items: items
                .into_iter()
                .map(Item::from_stored)
                .collect::<Result<_, _>>()?,
        })
    }

    /// One item with its metadata (for everyone but readers).
    pub fn item(&self, account: &Account, id: i64) -> Result<Item, AppError> {
        self.require(account, Permission::ViewStudy)?;
        let item = self
            .store
            .item(id)?
            .ok_or_else(|| not_found(format!("item {id}")))?;
        Item::from_stored(item)
    }

    /// The item as an account may view its pixels or samples. A reader: only their assigned
    /// cases' items (asking for another, they learn only that it is not found), and not during
    /// a washout unless they read the case in the session ahead (a washout is not passed by
    /// asking for the images directly); the item is named to them by its id, never its path.
    pub(crate) fn viewable_item(&self, account: &Account, id: i64) -> Result<Item, AppError> {
        let item = self
            .store
            .item(id)?
            .ok_or_else(|| not_found(format!("item {id}")))?;
        if account.role == Role::Reader {
            let current = self.current_session(account)?;
            if !current.assigned.contains(&item.case_id) {
                return Err(not_found(format!("item {id}")));
            }
            if current.read_of(&item.case_id).is_none()
                && matches!(
                    current.status.state,
                    crate::reading::SessionState::Washout { .. }
                )
            {
                current.require_open()?;
            }
            let mut item = Item::from_stored(item)?;
            item.path = format!("item {id}");
            return Ok(item);
        }
        self.require(account, Permission::ViewStudy)?;
        Item::from_stored(item)
    }

    /// One frame of a DICOM item through a window, as PNG, with the frame's value range. The
    /// window and the range are in the modality's units (PS3.3 C.11.1, the modality LUT:
    /// Rescale Slope and Intercept, Hounsfield units for CT), as the protocol's window presets
    /// and the image's own Window Center and Width (0028,1050/1051) are; without a window asked
    /// for, the image's own window, else the frame's range.
    pub fn item_png(
        &self,
        account: &Account,
        id: i64,
        frame: u32,
        window: Option<Window>,
    ) -> Result<(Vec<u8>, (i64, i64)), AppError> {
        let item = self.viewable_item(account, id)?;
        let source = self.frame_cache.source(&item.sha256, || {
            let bytes =
                crate::check::read_unchanged(&item.source, &item.sha256).ok_or_else(|| {
                    AppError::Refused {
                        what: format!("{}: moved or changed since ingest", item.path),
                        hint: "the source files must stay where ingest found them, unchanged"
                            .into(),
                    }
                })?;
            let lut = ModalityLut::of(&bytes);
            Ok::<_, AppError>(Source { bytes, lut })
        })?;
        let undecodable = |e: kizon_pixels::PixelError| AppError::Refused {
            what: format!("{}: pixel data cannot be shown: {e}", item.path),
            hint: "see the item's findings (undecodable pixel data)".into(),
        };
        let decoded = self.frame_cache.frame(&item.sha256, frame, || {
            let image = Image::open(&source.bytes).map_err(undecodable)?;
            Ok::<_, AppError>(Frame {
                values: image.frame(frame).map_err(undecodable)?,
                info: image.info().clone(),
            })
        })?;
        let modality = source.lut;
        let window = window.or(modality.window).map(|w| modality.to_stored(w));
        let shown = kizon_pixels::display_values(&decoded.info, &decoded.values, window);
        Ok((
            kizon_pixels::encode_png(&shown),
            modality.range(shown.range),
        ))
    }

    /// A video item as a page plays it: its metadata boxes blanked and its times zeroed by the
    /// hand-over's own cleaner (kizon-deid), the media data bit-identical; readers only their
    /// assigned cases' videos. Larger videos than [`MAX_VIDEO_BYTES`] are not served whole.
    /// Kept in the decode cache: a player asks for a video in ranges, again and again.
    pub fn item_video(
        &self,
        account: &Account,
        id: i64,
    ) -> Result<std::sync::Arc<Vec<u8>>, AppError> {
        let item = self.viewable_item(account, id)?;
        if item.kind != ItemKind::Video {
            return Err(not_found(format!("video {id}")));
        }
        self.frame_cache.video(&item.sha256, || clean_video(&item))
    }

    /// A waveform item's channels reduced to `columns` min/max buckets each, for plotting.
    pub fn item_channels(
        &self,
        account: &Account,
        id: i64,
        columns: usize,
    ) -> Result<Vec<ChannelPreview>, AppError> {
        let item = self.viewable_item(account, id)?;
        let channels = crate::check::signals::channels(&item).ok_or_else(|| AppError::Refused {
            what: format!("{}: not a waveform whose samples decode", item.path),
            hint:
                "waveforms are EDF/BDF, WFDB, MFER and DICOM waveform files unchanged since ingest"
                    .into(),
        })?;
        let columns = columns.clamp(10, 4000);
        Ok(channels
            .into_iter()
            .map(|(label, sampling_rate_hz, samples)| {
                let bucket = samples.len().div_ceil(columns).max(1);
                let envelope = samples
                    .chunks(bucket)
                    .map(|c| (*c.iter().min().unwrap_or(&0), *c.iter().max().unwrap_or(&0)))
                    .collect();
                ChannelPreview {
                    label,
                    sampling_rate_hz,
                    samples: samples.len(),
                    envelope,
                }
            })
            .collect())
    }

    /// A reader's worklist: their assigned cases in their order of the current reading session
    /// (see [`crate::reading`]), with their own read of each in that session, nothing else.
    /// Entering the worklist starts an open session that has not started (its seed drawn).
    pub fn worklist(&mut self, account: &Account) -> Result<Vec<WorklistCase>, AppError> {
        let current = self.enter_session(account)?;
        Ok(self
            .session_order(&current)?
            .into_iter()
            .map(|case_id| WorklistCase {
                read: current.read_of(&case_id).map(own),
                case_id,
            })
            .collect())
    }

    /// What a reader sees of one assigned case: its images and waveforms, blinded, and their
    /// own read of it in the current session.
    pub fn blinded_case(
        &self,
        account: &Account,
        case_id: &str,
    ) -> Result<(Vec<BlindedItem>, Option<OwnRead>), AppError> {
        let case = self.reading_case(account, case_id)?;
        Ok((case.items, case.read))
    }

    /// Records a reader's read of an assigned case from the page's form: the submit of the
    /// current session ([`Study::submit_read`]), with the marks in hand.
    pub fn record_read(
        &mut self,
        account: &Account,
        case_id: &str,
        label: Option<Label>,
        score: Option<f64>,
    ) -> Result<OwnRead, AppError> {
        self.submit_read(
            account,
            case_id,
            crate::reading::Submission { label, score },
        )
    }

    /// The provider names, kinds and item kinds present, for the item filters.
    pub fn item_facets(&self, account: &Account) -> Result<(Vec<String>, Vec<ItemKind>), AppError> {
        self.require(account, Permission::ViewStudy)?;
        let providers = self
            .store
            .providers()?
            .into_iter()
            .map(|p| p.name)
            .collect();
        Ok((providers, ItemKind::ALL.to_vec()))
    }
}

/// A video as pages play it: verified against its ingest hash, its metadata cleaned.
fn clean_video(item: &Item) -> Result<Vec<u8>, AppError> {
    let size = std::fs::metadata(&item.source)
        .map(|m| m.len())
        .unwrap_or(0);
    if size > MAX_VIDEO_BYTES {
        return Err(AppError::Refused {
            what: format!(
                "{}: {size} bytes is more than a page plays ({MAX_VIDEO_BYTES})",
                item.path
            ),
            hint: "read long videos in the provider's own viewer; the study keeps their SHA-256"
                .into(),
        });
    }
    let bytes = crate::check::read_unchanged(&item.source, &item.sha256).ok_or_else(|| {
        AppError::Refused {
            what: format!("{}: moved or changed since ingest", item.path),
            hint: "the source files must stay where ingest found them, unchanged".into(),
        }
    })?;
    let (clean, _) =
        kizon_deid::video::deidentify(&bytes, &kizon_deid::profile::Profile::default_profile(), 0)
            .map_err(|e| AppError::Refused {
                what: format!("{}: the video cannot be shown: {e}", item.path),
                hint: "see the item's findings".into(),
            })?;
    Ok(clean)
}
