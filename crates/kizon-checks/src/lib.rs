//! The data doubts PMDA looks for, as rules over ingested items and cases (pure: no I/O).
//!
//! Each [`Rule`] names the Q&A item it comes from and yields [`Finding`]s with a stable `key`,
//! so that running the catalogue again finds the same findings and keeps the decisions taken
//! on them. Severity `blocking` keeps a case out of a locked dataset until resolved; `warning`
//! asks for a look.
//!
//! | rule | clause | what |
//! |---|---|---|
//! | `unreadable-item` | Q7 | a file that could not be fully read (truncated, corrupt) |
//! | `identifying-attributes` | Q1 | DICOM attributes of the PS3.15 basic profile, or an EDF patient field, that carry a value |
//! | `burned-in-annotation` | Q1 | BurnedInAnnotation YES, or absent on modalities that often burn text in (US, SC, XA, ES, OT) |
//! | `burned-in-text` | Q1 | text that may identify (IDs, dates, names, their labels) read by OCR in an image's pixels, by region |
//! | `video-metadata` | Q1 | video title, comment, author, artist, location or description tags |
//! | `same-file` | Q7 | identical file content in several cases |
//! | `same-sop-instance` | Q7 | one SOP Instance UID in several cases |
//! | `acquired-after-collection` | Q2 | acquisition after the case's collection date, or no date to tell |
//! | `chronology` | Q7 | diagnosis long before or after acquisition, birth after acquisition, dates in the future, dates inside one file that contradict each other, a case list's acquisition date that none of the case's files carries |
//! | `implausible-value` | Q7 | age, pixel spacing, slice thickness or sampling rate out of range; sex against a sex-specific body part; modality against body part |
//! | `flat-line` | Q7 | a waveform channel flat for `flat_line_s` or longer (lead off, dead signal) |
//! | `clipped-channel` | Q7 | a waveform channel at its digital rails (saturated ADC or amplifier) for `clipping_fraction` of its samples or `clipping_s` at a stretch |
//! | `same-signal` | Q7 | the same decoded signal in several cases, whatever the file format (EDF, WFDB, MFER, DICOM waveform) |
//! | `table-columns` | Q7 | a result table (CSV) that lacks a column the protocol's `[[tables]]` declares |
//! | `reportable-range` | Q7 | analyser values outside the declared reportable range, or not numbers |
//! | `training-overlap` | Q7 | test data that is also the device's training data (same file, SOP instance, signal or patient); the test set must be independent of it (PMDA's AI evaluation guidance) |
//!
//! | `data-kind` | Q1 | data of a kind the protocol does not collect (`data_kinds`), or a DICOM object that is not an image (segmentation, report, structure set, ...) |
//! | `same-patient` | Q7 | one pseudonymous patient key in several cases (a warning), or from several providers (blocking) |
//! | `same-pixels` | Q7 | the same decoded image (pixel-content hash) in several cases, under any encoding |
//! | `near-duplicate` | Q7 | perceptual hashes within `near_duplicate_bits` in different cases: a recompressed, resized or slightly edited copy |
//!
//! The rules of residual specimens (`specimen-existing`, `same-specimen`, `identical-results`,
//! `specimen-implausible`, `specimen-chronology`, `specimen-interference`) are in [`specimens`].
//! | `undecodable-pixels` | Q7 | image pixel data kizon cannot decode, so the same-image checks could not run on it |

#![forbid(unsafe_code)]

mod near;
pub mod specimens;

use std::collections::BTreeMap;

use kizon_formats::{ItemKind, Metadata};
use serde::Serialize;

/// What the rules see of an item.
#[derive(Debug, Clone)]
pub struct ItemFacts {
    pub id: i64,
    pub case_id: String,
    /// The path as findings show it: relative to the ingested root, with every component that
    /// looks like a patient ID replaced by [`REDACTED_COMPONENT`] (see [`redact_path`]).
    pub path: String,
    /// Whether the path had such a component (a Q1 finding of its own).
    pub path_identifying: bool,
    pub sha256: String,
    pub kind: ItemKind,
    /// Boxed: a study may hold a million items, and a `Metadata` inline is over a kilobyte,
    /// most of it empty fields; boxed, moving an item moves a pointer.
    pub metadata: Box<Metadata>,
    pub problem: Option<String>,
}

/// What the rules see of a case.
#[derive(Debug, Clone)]
pub struct CaseFacts {
    pub id: String,
    /// The provider the case came from.
    pub provider: String,
    pub patient_key: Option<String>,
    pub acquisition_date: Option<String>,
    pub collection_date: Option<String>,
    pub diagnosis_date: Option<String>,
}

/// What the rules see of a decoded signal (EDF, WFDB, MFER, DICOM waveform): its channels'
/// quality measures and content hashes.
#[derive(Debug, Clone)]
pub struct SignalFacts {
    pub item_id: i64,
    pub channels: Vec<ChannelFacts>,
    /// SHA-256 of the canonical form (kizon-waveform `quality::canonical_bytes`) of each signal
    /// the item holds: the whole recording for EDF, WFDB and MFER, each multiplex group for a
    /// DICOM waveform (a rhythm strip and its median beats are two signals). The same signal in
    /// another format has the same hash.
    pub content_sha256: Vec<String>,
}

/// One decoded channel.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelFacts {
    pub label: String,
    /// Longest run of identical samples, in seconds.
    pub longest_flat_s: f64,
    /// Use of the digital rails; `None` when the format states no digital range.
    pub clipping: Option<ClippingFacts>,
}

/// How a channel uses the extremes of its digital range (kizon-waveform `quality::clipping`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClippingFacts {
    pub digital_min: i64,
    pub digital_max: i64,
    /// Fraction of the samples at (or beyond) a rail.
    pub fraction: f64,
    /// Longest stretch at one rail, in seconds.
    pub longest_s: f64,
}

/// A fingerprint of the device's training data: `sha256`, `sop_instance_uid`, `signal_sha256`
/// or `patient_key`, with the value and the training file it came from.
#[derive(Debug, Clone)]
pub struct TrainingFacts {
    pub fingerprint: String,
    pub value: String,
    pub path: String,
}

/// Everything the catalogue looks at.
#[derive(Debug, Clone, Copy)]
pub struct Data<'a> {
    pub items: &'a [ItemFacts],
    pub cases: &'a [CaseFacts],
    pub signals: &'a [SignalFacts],
    pub training: &'a [TrainingFacts],
    pub tables: &'a [TableFacts],
    pub pixels: &'a [PixelFacts],
}

/// What decoding an image's pixels gave (kizon-pixels, cached per file by the caller).
#[derive(Debug, Clone, Default)]
pub struct PixelFacts {
    pub item_id: i64,
    /// SHA-256 of the decoded values in canonical form (the same across lossless encodings).
    pub pixel_sha256: Option<String>,
    /// The 64-bit perceptual hash of the first frame (ImageHash pHash).
    pub phash: Option<u64>,
    /// Why the pixels could not be decoded.
    pub error: Option<String>,
    /// Regions `[x, y, width, height]` of the first frame where OCR read text that may identify
    /// a person (burned-in text, Q1), and the engine that read them; `None` when OCR did not run.
    pub burned_in_text: Option<(String, Vec<[u32; 4]>)>,
}

/// What the rules see of a result table (CSV): its header and the cells of the columns that
/// have a reportable range, with their CSV line numbers.
#[derive(Debug, Clone, Default)]
pub struct TableFacts {
    pub item_id: i64,
    pub columns: Vec<String>,
    pub cells: BTreeMap<String, Vec<(u64, String)>>,
}

/// A declared kind of result table: required columns and reportable ranges.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRule {
    pub name: String,
    pub columns: Vec<String>,
    pub reportable_range: BTreeMap<String, (f64, f64)>,
}

/// Parameters of the catalogue, with documented defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameters {
    /// Today, `YYYY-MM-DD`: dates after it are in the future.
    pub today: String,
    /// Days the confirmed diagnosis may precede the acquisition (default 30).
    pub diagnosis_days_before: i64,
    /// Days the confirmed diagnosis may follow the acquisition (default 365).
    pub diagnosis_days_after: i64,
    /// Plausible age in years (default 0–120).
    pub age_years: (f64, f64),
    /// Plausible pixel spacing in mm (default 0.01–10).
    pub pixel_spacing_mm: (f64, f64),
    /// Plausible waveform sampling rate in Hz (default 50–20,000).
    pub sampling_rate_hz: (f64, f64),
    /// Plausible slice thickness in mm (default 0.1–20).
    pub slice_thickness_mm: (f64, f64),
    /// Modalities on which text is often burned into the pixels.
    pub burned_in_modalities: Vec<String>,
    /// A channel flat (identical samples) this long is a lead off or a dead signal (default 5 s).
    pub flat_line_s: f64,
    /// A channel with at least this fraction of its samples at its digital rails is clipped
    /// (default 0.01, i.e. 1 %). An ECG whose R peaks alone touch the rail (about 10 ms of 800 ms
    /// per beat) reaches about 1 %; a recording that stays in range has none.
    pub clipping_fraction: f64,
    /// A channel that stays at one rail this long without a break is clipped (default 0.5 s):
    /// longer than any QRS complex (at most about 0.12 s), so it is a saturated amplifier or a
    /// baseline out of range, not a clipped peak.
    pub clipping_s: f64,
    /// The protocol's `[[tables]]` (none by default: no table rule runs).
    pub tables: Vec<TableRule>,
    /// Perceptual hashes this many bits apart or closer are near duplicates (default 8, the
    /// threshold of imagededup's and the peer's pHash search; 0 turns the rule off).
    pub near_duplicate_bits: u32,
    /// The kinds of data the protocol collects (`image`, `video`, `waveform`, `specimen`,
    /// `sequence`); `None`: not checked.
    pub data_kinds: Option<Vec<String>>,
    /// The protocol's `[specimens]`; `None`: specimens are checked without its limits.
    pub specimens: Option<specimens::SpecimenRules>,
}

impl Parameters {
    pub fn with_today(today: &str) -> Parameters {
        Parameters {
            today: today.to_owned(),
            diagnosis_days_before: 30,
            diagnosis_days_after: 365,
            age_years: (0.0, 120.0),
            pixel_spacing_mm: (0.01, 10.0),
            sampling_rate_hz: (50.0, 20_000.0),
            slice_thickness_mm: (0.1, 20.0),
            burned_in_modalities: ["US", "SC", "XA", "ES", "OT"].map(String::from).to_vec(),
            flat_line_s: 5.0,
            clipping_fraction: 0.01,
            clipping_s: 0.5,
            tables: Vec::new(),
            near_duplicate_bits: 8,
            data_kinds: None,
            specimens: None,
        }
    }
}

pub use kizon_vocab::Severity;

/// A doubt about the data, to be resolved with a reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable identity: the rule and what it concerns.
    pub key: String,
    pub rule: &'static str,
    pub clause: &'static str,
    pub severity: Severity,
    pub case_ids: Vec<String>,
    pub item_ids: Vec<i64>,
    pub message_ja: String,
    pub message_en: String,
}

/// Runs the whole catalogue.
pub fn run(data: Data<'_>, parameters: &Parameters) -> Vec<Finding> {
    let Data {
        items,
        cases,
        signals,
        training,
        tables,
        pixels,
    } = data;
    let mut findings = Vec::new();
    pixel_rules(items, pixels, training, parameters, &mut findings);
    table_rules(items, tables, &parameters.tables, &mut findings);
    signal_rules(items, signals, parameters, &mut findings);
    training_overlap(items, cases, signals, training, &mut findings);
    let case_of: BTreeMap<&str, &CaseFacts> = cases.iter().map(|c| (c.id.as_str(), c)).collect();
    for item in items {
        per_item(item, parameters, &mut findings);
        if let Some(case) = case_of.get(item.case_id.as_str()) {
            chronology(item, case, parameters, &mut findings);
        }
    }
    listed_dates(items, cases, &mut findings);
    same_patient(cases, &mut findings);
    specimens::specimen_rules(
        items,
        cases,
        parameters.specimens.as_ref(),
        &parameters.today,
        &mut findings,
    );
    // A specimen's case is dated by its own record (`specimen-existing`), not by a case list.
    let with_items: std::collections::BTreeSet<&str> = items
        .iter()
        .filter(|i| i.kind != ItemKind::Specimen)
        .map(|i| i.case_id.as_str())
        .collect();
    for case in cases {
        if case.collection_date.is_none() && with_items.contains(case.id.as_str()) {
            findings.push(finding(
                    format!("acquired-after-collection:{}:no-date", case.id),
                    "acquired-after-collection",
                    "Q2",
                    Severity::Warning,
                    vec![case.id.clone()],
                    Vec::new(),
                    "症例の収集日が不明のため、既存データ（収集時に既に取得済み）であることを確認できない。".into(),
                    "The case has no collection date, so it cannot be shown that its data existed when it was collected.".into(),
                ));
        }
    }
    duplicates(
        items,
        |i| Some(i.sha256.clone()),
        "same-file",
        "同一内容のファイル",
        "identical file content",
        &mut findings,
    );
    duplicates(
        items,
        |i| i.metadata.sop_instance_uid.clone(),
        "same-sop-instance",
        "同一の SOP Instance UID",
        "the same SOP Instance UID",
        &mut findings,
    );
    findings.sort_by(|a, b| a.key.cmp(&b.key));
    findings.dedup_by(|a, b| a.key == b.key);
    // One training-overlap finding per item, whichever fingerprint matched first.
    let mut overlapping = std::collections::BTreeSet::new();
    findings.retain(|f| f.rule != "training-overlap" || overlapping.insert(f.item_ids.clone()));
    findings
}

/// Every rule this crate raises, by its id: the shells name each one in both languages
/// (kizon-app's `names`, whose test goes through this list), so none reaches a report bare.
pub const RULES: &[&str] = &[
    "unreadable-item",
    "identifying-attributes",
    "burned-in-annotation",
    "burned-in-text",
    "video-metadata",
    "identifying-path",
    "same-file",
    "same-sop-instance",
    "acquired-after-collection",
    "chronology",
    "implausible-value",
    "flat-line",
    "clipped-channel",
    "same-signal",
    "table-columns",
    "reportable-range",
    "training-overlap",
    "data-kind",
    "same-patient",
    "same-pixels",
    "near-duplicate",
    "undecodable-pixels",
    "specimen-existing",
    "same-specimen",
    "identical-results",
    "specimen-implausible",
    "specimen-chronology",
    "specimen-interference",
];

#[allow(clippy::too_many_arguments)]
fn finding(
    key: String,
    rule: &'static str,
    clause: &'static str,
    severity: Severity,
    case_ids: Vec<String>,
    item_ids: Vec<i64>,
    message_ja: String,
    message_en: String,
) -> Finding {
    debug_assert!(RULES.contains(&rule), "`{rule}` is not in RULES");
    Finding {
        key,
        rule,
        clause,
        severity,
        case_ids,
        item_ids,
        message_ja,
        message_en,
    }
}

/// The same image in several cases (Q7), by decoded content and by perceptual hash, and images
/// whose pixels kizon cannot decode; overlap with the training data by the same two hashes.
fn pixel_rules(
    items: &[ItemFacts],
    pixels: &[PixelFacts],
    training: &[TrainingFacts],
    p: &Parameters,
    out: &mut Vec<Finding>,
) {
    let item_of: BTreeMap<i64, &ItemFacts> = items.iter().map(|i| (i.id, i)).collect();
    // Text that may identify a person, read in the pixels by OCR (Q1): blocking, naming where it
    // is and never what it says.
    for facts in pixels {
        let (Some(item), Some((engine, regions))) =
            (item_of.get(&facts.item_id), &facts.burned_in_text)
        else {
            continue;
        };
        if regions.is_empty() {
            continue;
        }
        let places = regions
            .iter()
            .map(|[x, y, w, h]| format!("{x},{y} {w}×{h}"))
            .collect::<Vec<_>>()
            .join("; ");
        out.push(about_item(
            item,
            "burned-in-text",
            "Q1",
            Severity::Blocking,
            format!("{}: 個人を識別し得る文字が画素に焼き込まれている（位置 x,y 幅×高さ: {places}; OCR {engine}）", item.path),
            format!("{}: text that may identify a person is burned into the pixels (at x,y width×height: {places}; OCR {engine})", item.path),
        ));
    }
    for facts in pixels {
        let (Some(item), Some(error)) = (item_of.get(&facts.item_id), &facts.error) else {
            continue;
        };
        out.push(about_item(
            item,
            "undecodable-pixels",
            "Q7",
            Severity::Warning,
            format!("{}: 画素データを復号できず、同一画像の確認ができない（{error}）", item.path),
            format!("{}: the pixel data cannot be decoded, so the same-image checks could not run on it ({error})", item.path),
        ));
    }
    // Same decoded content: skip groups whose files are all identical (`same-file` says it).
    let mut by_content: BTreeMap<&str, Vec<&ItemFacts>> = BTreeMap::new();
    for facts in pixels {
        if let (Some(item), Some(hash)) = (item_of.get(&facts.item_id), &facts.pixel_sha256) {
            by_content.entry(hash).or_default().push(item);
        }
    }
    for (hash, group) in &by_content {
        let cases: std::collections::BTreeSet<&str> =
            group.iter().map(|i| i.case_id.as_str()).collect();
        let files: std::collections::BTreeSet<&str> =
            group.iter().map(|i| i.sha256.as_str()).collect();
        if cases.len() < 2 || files.len() < 2 {
            continue;
        }
        out.push(group_finding(
            format!("same-pixels:{hash}"),
            "same-pixels",
            group,
            "同一の画像（ファイルは異なるが、復号した画素が同一）",
            "the same image (different files, identical decoded pixels)",
        ));
    }
    // Near duplicates by perceptual hash, one finding per connected group of cases.
    if p.near_duplicate_bits > 0 {
        let hashed: Vec<(&ItemFacts, u64, Option<&str>)> = pixels
            .iter()
            .filter_map(|f| {
                Some((
                    *item_of.get(&f.item_id)?,
                    f.phash?,
                    f.pixel_sha256.as_deref(),
                ))
            })
            .collect();
        let searched: Vec<near::Hashed<'_>> = hashed
            .iter()
            .map(|(item, phash, pixels)| near::Hashed {
                case: &item.case_id,
                file: &item.sha256,
                pixels: *pixels,
                phash: *phash,
            })
            .collect();
        for members in near::near_duplicate_groups(&searched, p.near_duplicate_bits) {
            let group: Vec<&ItemFacts> = members.iter().map(|&i| hashed[i].0).collect();
            let mut shas: Vec<&str> = group.iter().map(|i| i.sha256.as_str()).collect();
            shas.sort();
            shas.dedup();
            let key = group_key(&shas);
            out.push(group_finding(
                format!("near-duplicate:{key}"),
                "near-duplicate",
                &group,
                &format!("ほぼ同一の画像（知覚ハッシュの差 {} ビット以内：再圧縮・縮小・軽微な編集の疑い）", p.near_duplicate_bits),
                &format!("nearly the same image (perceptual hashes within {} bits: a recompressed, resized or slightly edited copy)", p.near_duplicate_bits),
            ));
        }
    }
    // Training overlap by decoded content (exact) or perceptual hash (near).
    let training_pixels: BTreeMap<&str, &str> = training
        .iter()
        .filter(|t| t.fingerprint == "pixel_sha256")
        .map(|t| (t.value.as_str(), t.path.as_str()))
        .collect();
    let training_phash: Vec<(u64, &str)> = training
        .iter()
        .filter(|t| t.fingerprint == "phash")
        .filter_map(|t| Some((u64::from_str_radix(&t.value, 16).ok()?, t.path.as_str())))
        .collect();
    let test: Vec<(&ItemFacts, &PixelFacts)> = pixels
        .iter()
        .filter_map(|f| Some((*item_of.get(&f.item_id)?, f)))
        .collect();
    let mut near_training: BTreeMap<i64, &str> = BTreeMap::new();
    if !training_phash.is_empty() && p.near_duplicate_bits > 0 {
        let tested: Vec<(i64, u64)> = test
            .iter()
            .filter_map(|(i, f)| Some((i.id, f.phash?)))
            .collect();
        // The search runs over distinct hashes (copies of one image would otherwise pair up
        // quadratically); each tested hash keeps the first training file within reach.
        let mut first_training: BTreeMap<u64, usize> = BTreeMap::new();
        for (k, (value, _)) in training_phash.iter().enumerate() {
            first_training.entry(*value).or_insert(k);
        }
        let distinct_tested: Vec<u64> = tested
            .iter()
            .map(|t| t.1)
            .collect::<std::collections::BTreeSet<u64>>()
            .into_iter()
            .collect();
        let distinct_training: Vec<u64> = first_training.keys().copied().collect();
        let all: Vec<u64> = distinct_tested
            .iter()
            .chain(&distinct_training)
            .copied()
            .collect();
        let mut nearest: BTreeMap<u64, usize> = BTreeMap::new();
        for (a, b) in kizon_pixels::near_duplicate_pairs(&all, p.near_duplicate_bits) {
            if a < distinct_tested.len() && b >= distinct_tested.len() {
                let k = first_training[&distinct_training[b - distinct_tested.len()]];
                let best = nearest.entry(distinct_tested[a]).or_insert(k);
                *best = (*best).min(k);
            }
        }
        for (id, value) in &tested {
            if let Some(&k) = nearest.get(value) {
                near_training.entry(*id).or_insert(training_phash[k].1);
            }
        }
    }
    for (item, facts) in test {
        let (fingerprint, training_path) = match facts
            .pixel_sha256
            .as_deref()
            .and_then(|h| training_pixels.get(h))
        {
            Some(path) => ("pixel_sha256", *path),
            None => match near_training.get(&item.id) {
                Some(path) => ("phash", *path),
                None => continue,
            },
        };
        out.push(training_overlap_finding(item, fingerprint, training_path));
    }
}

/// Test data also found in the device's training data, by `fingerprint` (file, SOP instance,
/// signal, patient, pixel content or perceptual hash).
fn training_overlap_finding(item: &ItemFacts, fingerprint: &str, training_path: &str) -> Finding {
    finding(
        format!("training-overlap:{fingerprint}:{}", item.sha256),
        "training-overlap",
        "Q7",
        Severity::Blocking,
        vec![item.case_id.clone()],
        vec![item.id],
        format!(
            "{}: 被験機器の学習データと重複（{fingerprint}、学習データ {training_path}）。評価データは学習データから独立していなければならない",
            item.path
        ),
        format!(
            "{}: also in the device's training data ({fingerprint}; training file {training_path}): test data must be independent of training data",
            item.path
        ),
    )
}

/// A stable key for a group of files: the SHA-256 of their sorted hashes.
fn group_key(shas: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(shas.join("\n").as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One finding over a group of items in several cases.
fn group_finding(
    key: String,
    rule: &'static str,
    group: &[&ItemFacts],
    what_ja: &str,
    what_en: &str,
) -> Finding {
    let mut cases: Vec<String> = group.iter().map(|i| i.case_id.clone()).collect();
    cases.sort();
    cases.dedup();
    let mut ids: Vec<i64> = group.iter().map(|i| i.id).collect();
    ids.sort();
    let paths: Vec<&str> = group.iter().map(|i| i.path.as_str()).collect();
    let message = |what: &str, ja: bool| {
        let (cases, paths) = (first_named(&cases, ja), first_named(&paths, ja));
        if ja {
            format!("{what}が複数の症例（{cases}）に使われている: {paths}")
        } else {
            format!("{what} is used as several cases ({cases}): {paths}")
        }
    };
    let (message_ja, message_en) = (message(what_ja, true), message(what_en, false));
    finding(
        key,
        rule,
        "Q7",
        Severity::Blocking,
        cases,
        ids,
        message_ja,
        message_en,
    )
}

/// How many cases and paths a group finding's message names; the finding's case and item
/// lists hold them all. A copy made 4,000 times would otherwise make a message of 4,000 paths,
/// in the report and on every page that shows it.
const NAMED_IN_MESSAGE: usize = 20;

/// The first [`NAMED_IN_MESSAGE`] of `names`, and how many more there are.
pub(crate) fn first_named<S: AsRef<str>>(names: &[S], ja: bool) -> String {
    let lang = if ja {
        kizon_vocab::Lang::Ja
    } else {
        kizon_vocab::Lang::En
    };
    lang.first_named(names, NAMED_IN_MESSAGE)
}

/// Result tables against the protocol's declarations (Q7): the declared table whose columns
/// the file has (else the one it misses fewest of, as a `table-columns` finding), then every
/// cell of a ranged column that is not a number or lies outside the reportable range.
fn table_rules(
    items: &[ItemFacts],
    tables: &[TableFacts],
    rules: &[TableRule],
    out: &mut Vec<Finding>,
) {
    if rules.is_empty() {
        return;
    }
    let item_of: BTreeMap<i64, &ItemFacts> = items.iter().map(|i| (i.id, i)).collect();
    for table in tables {
        let Some(item) = item_of.get(&table.item_id) else {
            continue;
        };
        fn missing<'r>(rule: &'r TableRule, table: &TableFacts) -> Vec<&'r str> {
            rule.columns
                .iter()
                .filter(|c| !table.columns.contains(c))
                .map(String::as_str)
                .collect()
        }
        let Some(rule) = rules.iter().find(|r| missing(r, table).is_empty()) else {
            let closest = rules
                .iter()
                .min_by_key(|r| missing(r, table).len())
                .expect("rules is not empty");
            let absent = missing(closest, table).join(", ");
            out.push(about_item(
                item,
                "table-columns",
                "Q7",
                Severity::Blocking,
                format!(
                    "{}: 結果表「{}」として宣言された列がない: {absent}",
                    item.path, closest.name
                ),
                format!(
                    "{}: the result table lacks columns the protocol declares for `{}`: {absent}",
                    item.path, closest.name
                ),
            ));
            continue;
        };
        let mut outside: Vec<String> = Vec::new();
        let mut count = 0usize;
        for (column, (low, high)) in &rule.reportable_range {
            for (line, cell) in table.cells.get(column).into_iter().flatten() {
                let problem = match cell.trim().parse::<f64>() {
                    Ok(v) if v.is_finite() && (*low..=*high).contains(&v) => continue,
                    Ok(v) => format!("line {line}: {column} = {v} (range {low}–{high})"),
                    Err(_) if cell.trim().is_empty() => format!("line {line}: {column} is empty"),
                    Err(_) => format!("line {line}: {column} = `{cell}` is not a number"),
                };
                count += 1;
                if outside.len() < 5 {
                    outside.push(problem);
                }
            }
        }
        if count > 0 {
            let more = if count > outside.len() {
                format!("; {} more", count - outside.len())
            } else {
                String::new()
            };
            out.push(about_item(
                item,
                "reportable-range",
                "Q7",
                Severity::Blocking,
                format!("{}: 測定範囲外又は数値でない値が {count} 件（医学的に妥当性の低いデータ）: {}{more}", item.path, outside.join("; ")),
                format!("{}: {count} values outside the reportable range or not numbers (medically implausible data): {}{more}", item.path, outside.join("; ")),
            ));
        }
    }
}

/// A finding about one item, keyed by the rule and the item's content.
fn about_item(
    item: &ItemFacts,
    rule: &'static str,
    clause: &'static str,
    severity: Severity,
    ja: String,
    en: String,
) -> Finding {
    finding(
        format!("{rule}:{}", item.sha256),
        rule,
        clause,
        severity,
        vec![item.case_id.clone()],
        vec![item.id],
        ja,
        en,
    )
}

/// DICOM objects that are not images of the patient: segmentations, reports, structure sets,
/// plans, presentation states, key-object notes, encapsulated documents.
const NOT_IMAGES: [&str; 9] = [
    "SEG", "SR", "RTSTRUCT", "RTPLAN", "RTDOSE", "RTRECORD", "PR", "KO", "DOC",
];

/// The protocol's kind of data (study.toml `data_kinds`, Q1) an item is, by its file kind;
/// `None` for a file kizon could not recognise (another rule speaks of it).
fn data_kind(item: &ItemFacts) -> Option<&'static str> {
    match item.kind {
        ItemKind::Dicom => {
            let modality = item.metadata.modality.as_deref().unwrap_or("");
            Some(if NOT_IMAGES.contains(&modality) {
                "other"
            } else {
                "image"
            })
        }
        ItemKind::DicomWaveform | ItemKind::Edf | ItemKind::Wfdb | ItemKind::Mfer => {
            Some("waveform")
        }
        ItemKind::Video => Some("video"),
        ItemKind::Specimen | ItemKind::Table => Some("specimen"),
        ItemKind::Unknown => None,
    }
}

fn per_item(item: &ItemFacts, p: &Parameters, out: &mut Vec<Finding>) {
    let m = &item.metadata;
    let one = |rule, clause, severity, ja, en| about_item(item, rule, clause, severity, ja, en);
    if let (Some(kinds), Some(kind)) = (&p.data_kinds, data_kind(item))
        && !kinds.iter().any(|k| k == kind)
    {
        let (what_ja, what_en) = match kind {
            "image" => ("画像", "an image"),
            "waveform" => ("波形", "a waveform"),
            "video" => ("動画", "a video"),
            "specimen" => ("検体の結果表", "a specimen result table"),
            _ => (
                "画像以外の DICOM オブジェクト（セグメンテーション、レポート等）",
                "a DICOM object that is not an image (segmentation, report, ...)",
            ),
        };
        out.push(one(
            "data-kind",
            "Q1",
            Severity::Blocking,
            format!(
                "{}: {what_ja}は計画書の収集するデータの種類（{}）にない",
                item.path,
                kinds.join(", ")
            ),
            format!(
                "{}: {what_en} is not among the kinds of data the protocol collects ({})",
                item.path,
                kinds.join(", ")
            ),
        ));
    }
    if item.path_identifying {
        out.push(one(
            "identifying-path",
            "Q1",
            Severity::Warning,
            format!("{}: ファイル又はフォルダの名前に患者IDのような番号がある（表示では {REDACTED_COMPONENT} に置換）。提供元で名前を変えてから受け渡すこと", item.path),
            format!("{}: a file or folder name carries what looks like a patient ID (shown as {REDACTED_COMPONENT}): rename it at the provider before the hand-over", item.path),
        ));
    }
    if let Some(problem) = &item.problem {
        out.push(one(
            "unreadable-item",
            "Q7",
            Severity::Blocking,
            format!("{}: ファイルを完全には読み取れない（{problem}）", item.path),
            format!("{}: the file cannot be fully read ({problem})", item.path),
        ));
    }
    if !m.identifying_attributes.is_empty() {
        let names = m.identifying_attributes.join(", ");
        out.push(one(
            "identifying-attributes",
            "Q1",
            Severity::Warning,
            format!("{}: 個人を識別し得る属性に値がある: {names}", item.path),
            format!(
                "{}: attributes that may identify a person carry a value: {names}",
                item.path
            ),
        ));
    }
    match (m.burned_in_annotation.as_deref(), m.modality.as_deref()) {
        (Some("YES"), _) => out.push(one(
            "burned-in-annotation",
            "Q1",
            Severity::Blocking,
            format!("{}: 画素に文字情報が焼き込まれている（BurnedInAnnotation = YES）", item.path),
            format!("{}: text is burned into the pixels (BurnedInAnnotation = YES)", item.path),
        )),
        (None, Some(modality)) if p.burned_in_modalities.iter().any(|b| b == modality) => out.push(one(
            "burned-in-annotation",
            "Q1",
            Severity::Warning,
            format!("{}: {modality} 画像で BurnedInAnnotation が未記載。画素の焼き込み文字を確認すること", item.path),
            format!("{}: BurnedInAnnotation is absent on a {modality} image, where text is often burned in: check the pixels", item.path),
        )),
        _ => {}
    }
    let revealing: Vec<String> = [
        "title",
        "comment",
        "author",
        "artist",
        "location",
        "description",
    ]
    .iter()
    .filter(|t| m.tags.contains_key(**t))
    .map(|t| (*t).to_owned())
    .collect();
    if item.kind == ItemKind::Video && !revealing.is_empty() {
        out.push(one(
            "video-metadata",
            "Q1",
            Severity::Warning,
            format!(
                "{}: 動画のメタデータに値がある: {}",
                item.path,
                revealing.join(", ")
            ),
            format!(
                "{}: video metadata carries: {}",
                item.path,
                revealing.join(", ")
            ),
        ));
    }
    let mut implausible = Vec::new();
    if let Some(age) = m
        .patient_age_years
        .filter(|a| *a < p.age_years.0 || *a > p.age_years.1)
    {
        implausible.push(format!("age {age} years"));
    }
    if let Some([row, column]) = m.pixel_spacing_mm
        && [row, column]
            .iter()
            .any(|s| *s < p.pixel_spacing_mm.0 || *s > p.pixel_spacing_mm.1)
    {
        implausible.push(format!("pixel spacing {row}×{column} mm"));
    }
    if let Some(rate) = m
        .sampling_rate_hz
        .filter(|r| *r < p.sampling_rate_hz.0 || *r > p.sampling_rate_hz.1)
    {
        implausible.push(format!("sampling rate {rate} Hz"));
    }
    if let Some(thickness) = m
        .slice_thickness_mm
        .filter(|t| *t < p.slice_thickness_mm.0 || *t > p.slice_thickness_mm.1)
    {
        implausible.push(format!("slice thickness {thickness} mm"));
    }
    // Sex against a sex-specific body part (DICOM PS3.16 CID 4031 terms), and modality
    // against body part: a mammogram (MG) is of the breast.
    let body_part = m.body_part.as_deref().unwrap_or("").to_ascii_uppercase();
    let female_only = ["UTERUS", "OVARY", "CERVIX", "VAGINA", "FALLOPIAN TUBE"];
    let male_only = ["PROSTATE", "TESTIS", "PENIS", "SCROTUM"];
    match m.patient_sex.as_deref() {
        Some("M") if female_only.contains(&body_part.as_str()) => {
            implausible.push(format!("sex M with body part {body_part}"));
        }
        Some("F") if male_only.contains(&body_part.as_str()) => {
            implausible.push(format!("sex F with body part {body_part}"));
        }
        _ => {}
    }
    if m.modality.as_deref() == Some("MG") && !body_part.is_empty() && body_part != "BREAST" {
        implausible.push(format!("modality MG with body part {body_part}"));
    }
    if !implausible.is_empty() {
        let what = implausible.join(", ");
        out.push(one(
            "implausible-value",
            "Q7",
            Severity::Blocking,
            format!("{}: 医学的に妥当性の低い値: {what}", item.path),
            format!("{}: medically implausible: {what}", item.path),
        ));
    }
}

/// The same patient (pseudonymous key) in several cases (Q7). By design a patient may give
/// several cases (then the analysis clusters by patient): a warning to confirm. From several
/// providers it suggests the same data reached the study twice: blocking.
fn same_patient(cases: &[CaseFacts], out: &mut Vec<Finding>) {
    let mut by_patient: BTreeMap<&str, Vec<&CaseFacts>> = BTreeMap::new();
    for case in cases {
        if let Some(key) = case.patient_key.as_deref().filter(|k| !k.is_empty()) {
            by_patient.entry(key).or_default().push(case);
        }
    }
    for (key, group) in by_patient.into_iter().filter(|(_, g)| g.len() > 1) {
        let ids: Vec<String> = group.iter().map(|c| c.id.clone()).collect();
        let providers: std::collections::BTreeSet<&str> =
            group.iter().map(|c| c.provider.as_str()).collect();
        let across = providers.len() > 1;
        let (severity, ja, en) = if across {
            (
                Severity::Blocking,
                format!(
                    "同一患者（仮名キー {}…）の症例が複数の提供元から収集されている: {}（{}）",
                    &key[..key.len().min(8)],
                    first_named(&ids, true),
                    providers.into_iter().collect::<Vec<_>>().join(", ")
                ),
                format!(
                    "the same patient (pseudonymous key {}…) reached the study from several providers as cases {}",
                    &key[..key.len().min(8)],
                    first_named(&ids, false)
                ),
            )
        } else {
            (
                Severity::Warning,
                format!(
                    "同一患者（仮名キー {}…）が複数の症例になっている: {}。計画どおりか確認（解析は患者単位のクラスターを考慮）",
                    &key[..key.len().min(8)],
                    first_named(&ids, true)
                ),
                format!(
                    "the same patient (pseudonymous key {}…) is several cases: {}; confirm this is by design (the analysis clusters by patient)",
                    &key[..key.len().min(8)],
                    first_named(&ids, false)
                ),
            )
        };
        out.push(finding(
            format!("same-patient:{key}:{}", ids.join(",")),
            "same-patient",
            "Q7",
            severity,
            ids,
            Vec::new(),
            ja,
            en,
        ));
    }
}

/// Every date a file carries (acquisition, study, series, content, a recording's start), as
/// days: an acquisition just after midnight belongs to the study of the evening before.
fn own_dates(m: &Metadata) -> Vec<String> {
    let mut dates: Vec<String> = [
        &m.acquisition_date,
        &m.study_date,
        &m.series_date,
        &m.content_date,
    ]
    .into_iter()
    .flatten()
    .cloned()
    .chain(m.start.as_ref().map(|s| s.chars().take(10).collect()))
    .collect();
    dates.dedup();
    dates
}

/// Q7: a case's acquisition date (as the provider's list gives it) that none of its dated files
/// has. A list and its data that disagree leave open which is the case's record, a doubt for the
/// source data verification; the case's files may each carry their own day (a CT and an ECG),
/// so one that matches clears it.
fn listed_dates(items: &[ItemFacts], cases: &[CaseFacts], out: &mut Vec<Finding>) {
    // Each case's dated items, gathered in one pass (not one scan of the items per case).
    let mut dated_of: BTreeMap<&str, Vec<(&ItemFacts, Vec<String>)>> = BTreeMap::new();
    for item in items {
        let dates = own_dates(&item.metadata);
        if !dates.is_empty() {
            dated_of
                .entry(item.case_id.as_str())
                .or_default()
                .push((item, dates));
        }
    }
    for case in cases {
        let Some(listed) = &case.acquisition_date else {
            continue;
        };
        let Some(dated) = dated_of.get(case.id.as_str()) else {
            continue;
        };
        let day = |d: &str| d.get(..10).map(str::to_owned);
        if dated
            .iter()
            .any(|(_, dates)| dates.iter().any(|d| day(d) == day(listed)))
        {
            continue;
        }
        // Each date once, however many slices carry it.
        let owns: Vec<&str> = dated
            .iter()
            .map(|(_, dates)| dates[0].as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        out.push(finding(
            format!("chronology:{}:listed-date:{listed}", case.id),
            "chronology",
            "Q7",
            Severity::Blocking,
            vec![case.id.clone()],
            dated.iter().map(|(i, _)| i.id).collect(),
            format!(
                "症例の撮影日 {listed}（症例一覧）がファイルの日付 {} と一致しない",
                owns.join(", ")
            ),
            format!(
                "the case's acquisition date {listed} (case list) is none of its files' own dates: {}",
                owns.join(", ")
            ),
        ));
    }
}

/// Q2 and Q7 dates of one item in its case.
fn chronology(item: &ItemFacts, case: &CaseFacts, p: &Parameters, out: &mut Vec<Finding>) {
    let m = &item.metadata;
    let acquired = case
        .acquisition_date
        .clone()
        .or(m.acquisition_date.clone())
        .or(m.study_date.clone())
        .or(m.start.as_ref().map(|s| s.chars().take(10).collect()));
    let mut problems: Vec<(&'static str, &'static str, String, String)> = Vec::new();
    if let (Some(acquired), Some(collected)) = (&acquired, &case.collection_date)
        && acquired > collected
    {
        problems.push((
                "acquired-after-collection",
                "Q2",
                format!("撮影・取得日 {acquired} が症例の収集日 {collected} より後（既存データではない）"),
                format!("acquired on {acquired}, after the case was collected on {collected}: not existing data"),
            ));
    }
    if let (Some(acquired), Some(diagnosed)) = (&acquired, &case.diagnosis_date)
        && let (Some(a), Some(d)) = (
            kizon_formats::day_number(acquired),
            kizon_formats::day_number(diagnosed),
        )
        && (d - a < -p.diagnosis_days_before || d - a > p.diagnosis_days_after)
    {
        problems.push((
                    "chronology",
                    "Q7",
                    format!("撮影日 {acquired} と確定診断日 {diagnosed} の時系列に矛盾（許容: 撮影の{}日前〜{}日後）", p.diagnosis_days_before, p.diagnosis_days_after),
                    format!("acquisition {acquired} and confirmed diagnosis {diagnosed} contradict each other (allowed: {} days before to {} days after)", p.diagnosis_days_before, p.diagnosis_days_after),
                ));
    }
    if m.born_after_image {
        problems.push((
            "chronology",
            "Q7",
            "生年月日が撮影日より後（生年月日は保存しません）".to_owned(),
            "the patient's birth date is after the image's date (the birth date is not kept)"
                .to_owned(),
        ));
    }
    // Dates inside one item: series, acquisition and content come on or after the study.
    if let Some(study) = &m.study_date {
        for (name, name_ja, date) in [
            ("series", "シリーズ日", &m.series_date),
            ("acquisition", "撮影日", &m.acquisition_date),
            ("content", "画像作成日", &m.content_date),
        ] {
            if let Some(date) = date
                && date < study
            {
                problems.push((
                    "chronology",
                    "Q7",
                    format!("ファイル内の日付が矛盾（{name_ja} {date} が検査日 {study} より前）"),
                    format!("dates inside the file contradict each other ({name} date {date} before the study date {study})"),
                ));
            }
        }
    }
    for date in [&acquired, &case.collection_date, &case.diagnosis_date]
        .into_iter()
        .flatten()
    {
        if *date > p.today {
            problems.push((
                "chronology",
                "Q7",
                format!("未来の日付 {date}"),
                format!("a date in the future: {date}"),
            ));
        }
    }
    for (rule, clause, ja, en) in problems {
        out.push(finding(
            format!("{rule}:{}:{}:{en}", case.id, item.sha256),
            rule,
            clause,
            Severity::Blocking,
            vec![case.id.clone()],
            vec![item.id],
            format!("{}: {ja}", item.path),
            format!("{}: {en}", item.path),
        ));
    }
}

/// Flat and clipped channels (Q7: medically implausible data) and the same signal in several
/// cases (Q7).
fn signal_rules(
    items: &[ItemFacts],
    signals: &[SignalFacts],
    p: &Parameters,
    out: &mut Vec<Finding>,
) {
    let by_id: BTreeMap<i64, &ItemFacts> = items.iter().map(|i| (i.id, i)).collect();
    for signal in signals {
        let Some(item) = by_id.get(&signal.item_id) else {
            continue;
        };
        let flat: Vec<String> = signal
            .channels
            .iter()
            .filter(|c| c.longest_flat_s >= p.flat_line_s)
            .map(|c| format!("{} {:.1} s", c.label, c.longest_flat_s))
            .collect();
        if !flat.is_empty() {
            let what = flat.join(", ");
            out.push(about_item(
                item,
                "flat-line",
                "Q7",
                Severity::Blocking,
                format!("{}: 平坦な（値が変化しない）チャネル: {what}（電極外れ等、医学的に妥当性の低いデータ）", item.path),
                format!("{}: flat channels (lead off or dead signal, medically implausible): {what}", item.path),
            ));
        }
        let clipped: Vec<(String, String)> = signal
            .channels
            .iter()
            .filter_map(|c| Some((c, c.clipping.as_ref()?)))
            .filter(|(_, k)| k.fraction >= p.clipping_fraction || k.longest_s >= p.clipping_s)
            .map(|(c, k)| {
                let percent = 100.0 * k.fraction;
                (
                    format!(
                        "{} 上下限値（{}・{}）に {percent:.1} %、最長 {:.2} 秒",
                        c.label, k.digital_min, k.digital_max, k.longest_s
                    ),
                    format!(
                        "{} {percent:.1} % of samples at the rails ({}, {}), longest {:.2} s",
                        c.label, k.digital_min, k.digital_max, k.longest_s
                    ),
                )
            })
            .collect();
        if !clipped.is_empty() {
            let (ja, en): (Vec<String>, Vec<String>) = clipped.into_iter().unzip();
            out.push(about_item(
                item,
                "clipped-channel",
                "Q7",
                Severity::Blocking,
                format!(
                    "{}: 記録範囲の上下限に張り付いた（飽和・クリッピングした）チャネル: {}（基準: 標本の {} % 以上または連続 {} 秒以上。医学的に妥当性の低いデータ）",
                    item.path,
                    ja.join("; "),
                    100.0 * p.clipping_fraction,
                    p.clipping_s
                ),
                format!(
                    "{}: clipped channels (saturated amplifier or ADC, medically implausible): {} (limits: {} % of samples or {} s at a stretch)",
                    item.path,
                    en.join("; "),
                    100.0 * p.clipping_fraction,
                    p.clipping_s
                ),
            ));
        }
    }
    let signal_items: Vec<ItemFacts> = signals
        .iter()
        .flat_map(|s| s.content_sha256.iter().map(move |hash| (s.item_id, hash)))
        .filter_map(|(id, hash)| {
            by_id.get(&id).map(|i| ItemFacts {
                sha256: hash.clone(),
                ..(*i).clone()
            })
        })
        .collect();
    let mut same = Vec::new();
    duplicates(
        &signal_items,
        |i| Some(i.sha256.clone()),
        "same-signal",
        "同一の波形信号",
        "the same signal",
        &mut same,
    );
    // Items that share several signals (two copies of a DICOM waveform with a rhythm and a
    // median-beat group) are one doubt: keep the finding with the smallest key.
    let mut seen = std::collections::BTreeSet::new();
    out.extend(same.into_iter().filter(|f| {
        let mut ids = f.item_ids.clone();
        ids.sort_unstable();
        ids.dedup();
        seen.insert(ids)
    }));
}

/// Test items that are also training data, by any fingerprint.
fn training_overlap(
    items: &[ItemFacts],
    cases: &[CaseFacts],
    signals: &[SignalFacts],
    training: &[TrainingFacts],
    out: &mut Vec<Finding>,
) {
    if training.is_empty() {
        return;
    }
    let known: BTreeMap<(&str, &str), &str> = training
        .iter()
        .map(|t| ((t.fingerprint.as_str(), t.value.as_str()), t.path.as_str()))
        .collect();
    let patient_of: BTreeMap<&str, &str> = cases
        .iter()
        .filter_map(|c| c.patient_key.as_deref().map(|k| (c.id.as_str(), k)))
        .collect();
    let signals_of: BTreeMap<i64, &[String]> = signals
        .iter()
        .map(|s| (s.item_id, s.content_sha256.as_slice()))
        .collect();
    for item in items {
        let signal_hashes = signals_of.get(&item.id).copied().unwrap_or_default();
        let fingerprints = [
            ("sha256", Some(item.sha256.as_str())),
            (
                "sop_instance_uid",
                item.metadata.sop_instance_uid.as_deref(),
            ),
        ]
        .into_iter()
        .chain(
            signal_hashes
                .iter()
                .map(|h| ("signal_sha256", Some(h.as_str()))),
        )
        .chain([(
            "patient_key",
            patient_of.get(item.case_id.as_str()).copied(),
        )]);
        for (fingerprint, value) in fingerprints {
            let Some(training_path) = value.and_then(|v| known.get(&(fingerprint, v))) else {
                continue;
            };
            out.push(training_overlap_finding(item, fingerprint, training_path));
            break;
        }
    }
}

/// Items sharing `key` across different cases: one finding per group.
fn duplicates(
    items: &[ItemFacts],
    key: impl Fn(&ItemFacts) -> Option<String>,
    rule: &'static str,
    what_ja: &str,
    what_en: &str,
    out: &mut Vec<Finding>,
) {
    let mut groups: BTreeMap<String, Vec<&ItemFacts>> = BTreeMap::new();
    for item in items {
        if let Some(k) = key(item) {
            groups.entry(k).or_default().push(item);
        }
    }
    for (value, group) in groups {
        let mut cases: Vec<String> = group.iter().map(|i| i.case_id.clone()).collect();
        cases.sort();
        cases.dedup();
        if cases.len() < 2 {
            continue;
        }
        let paths: Vec<&str> = group.iter().map(|i| i.path.as_str()).collect();
        out.push(finding(
            format!("{rule}:{value}"),
            rule,
            "Q7",
            Severity::Blocking,
            cases.clone(),
            group.iter().map(|i| i.id).collect(),
            format!(
                "{what_ja}が異なる複数の症例（{}）として利用されている: {}",
                first_named(&cases, true),
                first_named(&paths, true)
            ),
            format!(
                "{what_en} is used as several cases ({}): {}",
                first_named(&cases, false),
                first_named(&paths, false)
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(items: &[ItemFacts], cases: &[CaseFacts], p: &Parameters) -> Vec<Finding> {
        run(
            Data {
                items,
                cases,
                signals: &[],
                training: &[],
                tables: &[],
                pixels: &[],
            },
            p,
        )
    }

    fn item(id: i64, case: &str, sha: &str) -> ItemFacts {
        ItemFacts {
            id,
            case_id: case.into(),
            path_identifying: false,
            path: format!("f{id}.dcm"),
            sha256: sha.into(),
            kind: ItemKind::Dicom,
            metadata: Box::default(),
            problem: None,
        }
    }

    fn case(
        id: &str,
        acquired: Option<&str>,
        collected: Option<&str>,
        diagnosed: Option<&str>,
    ) -> CaseFacts {
        CaseFacts {
            id: id.into(),
            provider: "H".into(),
            patient_key: None,
            acquisition_date: acquired.map(String::from),
            collection_date: collected.map(String::from),
            diagnosis_date: diagnosed.map(String::from),
        }
    }

    fn rules(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.rule).collect()
    }

    #[test]
    fn q7_same_file_in_two_cases_is_blocking_but_not_within_one_case() {
        let p = Parameters::with_today("2026-11-25");
        let cases = [
            case("A", None, Some("2024-01-01"), None),
            case("B", None, Some("2024-01-01"), None),
        ];
        let found = check(&[item(1, "A", "x"), item(2, "B", "x")], &cases, &p);
        let same: Vec<&Finding> = found.iter().filter(|f| f.rule == "same-file").collect();
        assert_eq!(same.len(), 1);
        assert_eq!(
            (same[0].severity, same[0].case_ids.clone()),
            (Severity::Blocking, vec!["A".to_owned(), "B".to_owned()])
        );
        assert!(
            !rules(&check(&[item(1, "A", "x"), item(2, "A", "x")], &cases, &p))
                .contains(&"same-file")
        );
    }

    #[test]
    fn q2_acquisition_after_collection_and_missing_dates() {
        let p = Parameters::with_today("2026-11-25");
        let late = check(
            &[item(1, "A", "x")],
            &[case("A", Some("2024-05-02"), Some("2024-05-01"), None)],
            &p,
        );
        assert!(
            late.iter()
                .any(|f| f.rule == "acquired-after-collection" && f.severity == Severity::Blocking)
        );
        let same_day = check(
            &[item(1, "A", "x")],
            &[case("A", Some("2024-05-01"), Some("2024-05-01"), None)],
            &p,
        );
        assert!(!rules(&same_day).contains(&"acquired-after-collection"));
        let undated = check(&[item(1, "A", "x")], &[case("A", None, None, None)], &p);
        assert!(
            undated
                .iter()
                .any(|f| f.rule == "acquired-after-collection" && f.severity == Severity::Warning)
        );
    }

    /// Data of a kind the protocol does not collect, and a DICOM object that is not an image,
    /// are Q1 findings; nothing is said without the protocol's kinds.
    #[test]
    fn q1_data_of_a_kind_the_protocol_does_not_collect() {
        let mut p = Parameters::with_today("2026-11-25");
        let cases = [case("A", None, Some("2024-01-01"), None)];
        let mut ecg = item(1, "A", "e");
        ecg.kind = ItemKind::Wfdb;
        let mut seg = item(2, "A", "s");
        seg.metadata.modality = Some("SEG".into());
        let mut ct = item(3, "A", "c");
        ct.metadata.modality = Some("CT".into());
        let items = [ecg, seg, ct];
        let kinds = |p: &Parameters| {
            check(&items, &cases, p)
                .into_iter()
                .filter(|f| f.rule == "data-kind")
                .map(|f| (f.item_ids, f.clause, f.severity))
                .collect::<Vec<_>>()
        };
        assert!(kinds(&p).is_empty());
        p.data_kinds = Some(vec!["image".into()]);
        assert_eq!(
            kinds(&p),
            [
                (vec![1], "Q1", Severity::Blocking),
                (vec![2], "Q1", Severity::Blocking)
            ]
        );
        p.data_kinds = Some(vec!["image".into(), "waveform".into()]);
        assert_eq!(kinds(&p), [(vec![2], "Q1", Severity::Blocking)]);
    }

    /// A case list's date that none of the case's files carries is a Q7 doubt; one file that
    /// matches (a CT and an ECG of other days in one case) clears it; undated files say nothing.
    #[test]
    fn q7_a_listed_date_that_no_file_carries() {
        let p = Parameters::with_today("2026-11-25");
        let dated = |id: i64, date: &str| {
            let mut i = item(id, "A", &format!("s{id}"));
            i.metadata.study_date = Some(date.into());
            i
        };
        let listed = [case("A", Some("2021-03-04"), Some("2024-01-01"), None)];
        let found = check(&[dated(1, "2004-01-19")], &listed, &p);
        let f = found
            .iter()
            .find(|f| f.key.contains("listed-date"))
            .expect("a finding");
        assert_eq!(
            (f.rule, f.clause, f.severity),
            ("chronology", "Q7", Severity::Blocking)
        );
        assert!(f.message_ja.contains("2021-03-04") && f.message_ja.contains("2004-01-19"));
        let found = check(
            &[dated(1, "2004-01-19"), dated(2, "2021-03-04")],
            &listed,
            &p,
        );
        assert!(!found.iter().any(|f| f.key.contains("listed-date")));
        let found = check(&[item(1, "A", "x")], &listed, &p);
        assert!(!found.iter().any(|f| f.key.contains("listed-date")));
    }

    #[test]
    fn q7_chronology_window_birth_and_future() {
        let p = Parameters::with_today("2026-11-25");
        let ok = check(
            &[item(1, "A", "x")],
            &[case(
                "A",
                Some("2024-05-01"),
                Some("2024-06-01"),
                Some("2024-05-20"),
            )],
            &p,
        );
        assert!(!rules(&ok).contains(&"chronology"));
        let early = check(
            &[item(1, "A", "x")],
            &[case(
                "A",
                Some("2024-05-01"),
                Some("2024-06-01"),
                Some("2024-03-01"),
            )],
            &p,
        );
        assert!(rules(&early).contains(&"chronology"));
        let mut born_late = item(1, "A", "x");
        born_late.metadata.born_after_image = true;
        assert!(
            rules(&check(
                &[born_late],
                &[case("A", Some("2024-05-01"), Some("2024-06-01"), None)],
                &p
            ))
            .contains(&"chronology")
        );
        let future = check(
            &[item(1, "A", "x")],
            &[case("A", Some("2027-01-01"), Some("2027-02-01"), None)],
            &p,
        );
        assert!(future.iter().any(|f| f.message_en.contains("future")));
    }

    #[test]
    fn findings_are_stable_across_runs() {
        let p = Parameters::with_today("2026-11-25");
        let items = [item(1, "A", "x"), item(2, "B", "x")];
        let cases = [case("A", None, None, None), case("B", None, None, None)];
        assert_eq!(check(&items, &cases, &p), check(&items, &cases, &p));
    }

    #[test]
    fn training_overlap_by_sop_instance() {
        let p = Parameters::with_today("2026-11-25");
        let mut test_item = item(1, "A", "x");
        test_item.metadata.sop_instance_uid = Some("1.2.3".into());
        let training = [TrainingFacts {
            fingerprint: "sop_instance_uid".into(),
            value: "1.2.3".into(),
            path: "train/1.dcm".into(),
        }];
        let cases = [case("A", None, Some("2024-01-01"), None)];
        let items = [test_item];
        let found = run(
            Data {
                items: &items,
                cases: &cases,
                signals: &[],
                training: &training,
                tables: &[],
                pixels: &[],
            },
            &p,
        );
        let overlap: Vec<&Finding> = found
            .iter()
            .filter(|f| f.rule == "training-overlap")
            .collect();
        assert_eq!(overlap.len(), 1);
        assert!(overlap[0].message_en.contains("train/1.dcm"));
        assert!(!rules(&check(&items, &cases, &p)).contains(&"training-overlap"));
    }

    fn channel(label: &str, fraction: f64, longest_s: f64) -> ChannelFacts {
        ChannelFacts {
            label: label.into(),
            longest_flat_s: 0.1,
            clipping: Some(ClippingFacts {
                digital_min: -2048,
                digital_max: 2047,
                fraction,
                longest_s,
            }),
        }
    }

    fn with_signals(items: &[ItemFacts], signals: &[SignalFacts], p: &Parameters) -> Vec<Finding> {
        let cases = [
            case("A", None, Some("2024-01-01"), None),
            case("B", None, Some("2024-01-01"), None),
            case("C", None, Some("2024-01-01"), None),
        ];
        run(
            Data {
                items,
                cases: &cases,
                signals,
                training: &[],
                tables: &[],
                pixels: &[],
            },
            p,
        )
    }

    #[test]
    fn q7_clipped_channels_by_fraction_or_duration() {
        let p = Parameters::with_today("2026-11-25");
        let items = [item(1, "A", "x")];
        let signal = |channels| SignalFacts {
            item_id: 1,
            channels,
            content_sha256: vec!["s".into()],
        };
        let clipped = |channels| {
            with_signals(&items, &[signal(channels)], &p)
                .into_iter()
                .filter(|f| f.rule == "clipped-channel")
                .collect::<Vec<_>>()
        };
        // Under both limits: an occasional peak at the rail.
        assert!(clipped(vec![channel("II", 0.002, 0.01)]).is_empty());
        let by_fraction = clipped(vec![channel("II", 0.05, 0.01), channel("V1", 0.0, 0.0)]);
        assert_eq!(by_fraction.len(), 1);
        let f = &by_fraction[0];
        assert_eq!((f.clause, f.severity), ("Q7", Severity::Blocking));
        assert_eq!(f.key, "clipped-channel:x");
        assert!(
            f.message_en
                .contains("II 5.0 % of samples at the rails (-2048, 2047)"),
            "{}",
            f.message_en
        );
        assert!(!f.message_en.contains("V1"));
        assert!(f.message_ja.contains("医学的に妥当性の低いデータ"));
        assert_eq!(
            clipped(vec![channel("II", 0.004, 0.6)]).len(),
            1,
            "a long stay at a rail"
        );
        // No digital range, no clipping measure.
        let mut unknown = channel("II", 0.0, 0.0);
        unknown.clipping = None;
        assert!(clipped(vec![unknown]).is_empty());
        // The protocol's parameters move the limits.
        let mut lenient = p.clone();
        lenient.clipping_fraction = 0.10;
        lenient.clipping_s = 2.0;
        let found = with_signals(&items, &[signal(vec![channel("II", 0.05, 0.6)])], &lenient);
        assert!(!rules(&found).contains(&"clipped-channel"));
    }

    #[test]
    fn q7_same_signal_in_one_multiplex_group_or_in_all() {
        let p = Parameters::with_today("2026-11-25");
        let items = [item(1, "A", "a"), item(2, "B", "b"), item(3, "C", "c")];
        let signals = [
            // A DICOM waveform (rhythm and median groups), its copy, and the rhythm alone.
            SignalFacts {
                item_id: 1,
                channels: Vec::new(),
                content_sha256: vec!["rhythm".into(), "median".into()],
            },
            SignalFacts {
                item_id: 2,
                channels: Vec::new(),
                content_sha256: vec!["rhythm".into(), "median".into()],
            },
            SignalFacts {
                item_id: 3,
                channels: Vec::new(),
                content_sha256: vec!["rhythm".into()],
            },
        ];
        let same: Vec<Finding> = with_signals(&items, &signals, &p)
            .into_iter()
            .filter(|f| f.rule == "same-signal")
            .collect();
        let cases: Vec<Vec<String>> = same.iter().map(|f| f.case_ids.clone()).collect();
        assert_eq!(
            cases,
            [
                vec!["A".to_owned(), "B".to_owned()],
                vec!["A".into(), "B".into(), "C".into()]
            ]
        );
        let again: Vec<String> = with_signals(&items, &signals, &p)
            .into_iter()
            .filter(|f| f.rule == "same-signal")
            .map(|f| f.key)
            .collect();
        assert_eq!(
            again,
            same.iter().map(|f| f.key.clone()).collect::<Vec<_>>()
        );
        // Two copies sharing both groups are one doubt, not two.
        let copies: Vec<Finding> = with_signals(&items[..2], &signals[..2], &p)
            .into_iter()
            .filter(|f| f.rule == "same-signal")
            .collect();
        assert_eq!(copies.len(), 1);
        assert_eq!(copies[0].key, "same-signal:median");
    }

    #[test]
    fn day_numbers_count_leap_years() {
        assert_eq!(
            kizon_formats::day_number("2024-03-01").unwrap()
                - kizon_formats::day_number("2024-02-28").unwrap(),
            2
        );
        assert_eq!(
            kizon_formats::day_number("2023-03-01").unwrap()
                - kizon_formats::day_number("2023-02-28").unwrap(),
            1
        );
    }

    #[test]
    fn result_tables_need_their_columns_and_values_in_range() {
        let mut p = Parameters::with_today("2026-11-25");
        p.tables = vec![TableRule {
            name: "hba1c".into(),
            columns: vec!["specimen_id".into(), "hba1c_percent".into()],
            reportable_range: [("hba1c_percent".to_owned(), (4.0, 18.5))].into(),
        }];
        let mut a = item(1, "A", "aa");
        a.kind = ItemKind::Table;
        let mut b = item(2, "B", "bb");
        b.kind = ItemKind::Table;
        let items = [a, b];
        let tables = [
            TableFacts {
                item_id: 1,
                columns: vec!["specimen_id".into(), "hba1c_percent".into()],
                cells: [(
                    "hba1c_percent".to_owned(),
                    vec![
                        (2, "6.1".to_owned()),
                        (3, "23.0".to_owned()),
                        (4, "n/a".to_owned()),
                        (5, "18.5".to_owned()),
                    ],
                )]
                .into(),
            },
            TableFacts {
                item_id: 2,
                columns: vec!["specimen".into(), "hba1c_percent".into()],
                cells: BTreeMap::new(),
            },
        ];
        let cases = [
            case("A", None, Some("2024-01-01"), None),
            case("B", None, Some("2024-01-01"), None),
        ];
        let found = run(
            Data {
                items: &items,
                cases: &cases,
                signals: &[],
                training: &[],
                tables: &tables,
                pixels: &[],
            },
            &p,
        );
        let range: Vec<&Finding> = found
            .iter()
            .filter(|f| f.rule == "reportable-range")
            .collect();
        assert_eq!(range.len(), 1);
        assert!(
            range[0].message_en.contains("2 values"),
            "{}",
            range[0].message_en
        );
        assert!(
            range[0]
                .message_en
                .contains("line 3: hba1c_percent = 23 (range 4–18.5)"),
            "{}",
            range[0].message_en
        );
        assert!(
            range[0]
                .message_en
                .contains("line 4: hba1c_percent = `n/a` is not a number")
        );
        let columns: Vec<&Finding> = found.iter().filter(|f| f.rule == "table-columns").collect();
        assert_eq!(columns.len(), 1);
        assert_eq!(columns[0].case_ids, ["B"]);
        assert!(columns[0].message_en.contains("specimen_id"));
    }

    /// A group finding over many copies names the first 20 cases and paths and counts the
    /// rest; its case and item lists hold every one.
    #[test]
    fn a_group_message_names_the_first_twenty_and_counts_the_rest() {
        let p = Parameters::with_today("2026-11-25");
        let names: Vec<String> = (0..30).map(|i| format!("C{i:02}")).collect();
        let items: Vec<ItemFacts> = names
            .iter()
            .enumerate()
            .map(|(k, c)| ItemFacts {
                path: format!("{c}.dcm"),
                ..item(k as i64, c, "same")
            })
            .collect();
        let cases: Vec<CaseFacts> = names
            .iter()
            .map(|c| case(c, None, Some("2024-01-01"), None))
            .collect();
        let found = run(
            Data {
                items: &items,
                cases: &cases,
                signals: &[],
                training: &[],
                tables: &[],
                pixels: &[],
            },
            &p,
        );
        let same = found.iter().find(|f| f.rule == "same-file").unwrap();
        assert_eq!(same.case_ids.len(), 30);
        assert_eq!(same.item_ids.len(), 30);
        assert!(
            same.message_en.contains("C19") && !same.message_en.contains("C20,"),
            "{}",
            same.message_en
        );
        assert!(
            same.message_en.ends_with("C19.dcm and 10 more"),
            "{}",
            same.message_en
        );
        assert!(
            same.message_ja.contains("C19 ほか 10 件"),
            "{}",
            same.message_ja
        );
    }

    #[test]
    fn same_pixels_under_other_encodings_and_near_duplicates_are_found() {
        let p = Parameters::with_today("2026-11-25");
        let items = [
            item(1, "A", "a1"),
            item(2, "B", "b1"),
            item(3, "C", "c1"),
            item(4, "D", "d1"),
        ];
        let cases = ["A", "B", "C", "D"].map(|c| case(c, None, Some("2024-01-01"), None));
        let facts = |id, pixel: &str, phash| PixelFacts {
            item_id: id,
            pixel_sha256: Some(pixel.into()),
            phash: Some(phash),
            ..PixelFacts::default()
        };
        let pixels = [
            facts(1, "p1", 0xF0F0_F0F0_0000_FFFF),
            facts(2, "p1", 0xF0F0_F0F0_0000_FFFF),
            facts(3, "p3", 0xF0F0_F0F0_0000_FFF0),
            PixelFacts {
                item_id: 4,
                error: Some("frame 0: the JPEG data is corrupt".into()),
                ..PixelFacts::default()
            },
        ];
        let found = run(
            Data {
                items: &items,
                cases: &cases,
                signals: &[],
                training: &[],
                tables: &[],
                pixels: &pixels,
            },
            &p,
        );
        let of = |rule| found.iter().filter(|f| f.rule == rule).collect::<Vec<_>>();
        assert_eq!(of("same-pixels").len(), 1);
        assert_eq!(of("same-pixels")[0].case_ids, ["A", "B"]);
        assert_eq!(of("near-duplicate").len(), 1);
        assert_eq!(of("near-duplicate")[0].case_ids, ["A", "B", "C"]);
        assert_eq!(of("undecodable-pixels")[0].case_ids, ["D"]);
        let mut off = p.clone();
        off.near_duplicate_bits = 0;
        let quiet = run(
            Data {
                items: &items,
                cases: &cases,
                signals: &[],
                training: &[],
                tables: &[],
                pixels: &pixels,
            },
            &off,
        );
        assert!(!quiet.iter().any(|f| f.rule == "near-duplicate"));
        let training = [TrainingFacts {
            fingerprint: "phash".into(),
            value: format!("{:016x}", 0xF0F0_F0F0_0000_FFF3u64),
            path: "train/x.dcm".into(),
        }];
        let overlap = run(
            Data {
                items: &items,
                cases: &cases,
                signals: &[],
                training: &training,
                tables: &[],
                pixels: &pixels,
            },
            &p,
        );
        assert_eq!(
            overlap
                .iter()
                .filter(|f| f.rule == "training-overlap")
                .count(),
            3
        );
    }

    #[test]
    fn same_patient_is_a_warning_within_a_provider_and_blocking_across() {
        let p = Parameters::with_today("2026-11-25");
        let mut cases = ["A", "B", "C"].map(|c| case(c, None, Some("2024-01-01"), None));
        for c in &mut cases {
            c.patient_key = Some("k1".into());
        }
        let found = check(&[], &cases[..2], &p);
        let same: Vec<&Finding> = found.iter().filter(|f| f.rule == "same-patient").collect();
        assert_eq!((same.len(), same[0].severity), (1, Severity::Warning));
        cases[2].provider = "Other".into();
        let found = check(&[], &cases, &p);
        let same: Vec<&Finding> = found.iter().filter(|f| f.rule == "same-patient").collect();
        assert_eq!(
            (same[0].severity, same[0].case_ids.len()),
            (Severity::Blocking, 3)
        );
    }

    #[test]
    fn sex_specific_body_parts_modality_and_dates_inside_a_file() {
        let p = Parameters::with_today("2026-11-25");
        let mut a = item(1, "A", "a");
        a.metadata.patient_sex = Some("M".into());
        a.metadata.body_part = Some("UTERUS".into());
        a.metadata.slice_thickness_mm = Some(45.0);
        let mut b = item(2, "B", "b");
        b.metadata.modality = Some("MG".into());
        b.metadata.body_part = Some("CHEST".into());
        b.metadata.study_date = Some("2023-05-02".into());
        b.metadata.content_date = Some("2023-05-01".into());
        let cases = ["A", "B"].map(|c| case(c, None, Some("2024-01-01"), None));
        let found = check(&[a, b], &cases, &p);
        let implausible: Vec<&str> = found
            .iter()
            .filter(|f| f.rule == "implausible-value")
            .map(|f| f.message_en.as_str())
            .collect();
        assert!(
            implausible
                .iter()
                .any(|m| m.contains("sex M with body part UTERUS")
                    && m.contains("slice thickness 45 mm")),
            "{implausible:?}"
        );
        assert!(
            implausible
                .iter()
                .any(|m| m.contains("modality MG with body part CHEST"))
        );
        assert!(found.iter().any(|f| {
            f.rule == "chronology"
                && f.message_en
                    .contains("content date 2023-05-01 before the study date 2023-05-02")
        }));
    }
    #[test]
    fn burned_in_text_found_by_ocr_is_a_blocking_q1_finding_naming_the_region_not_the_text() {
        let items = [item(1, "A", "a1"), item(2, "B", "b1")];
        let cases = ["A", "B"].map(|c| case(c, None, Some("2024-01-01"), None));
        let pixels = [
            PixelFacts {
                item_id: 1,
                burned_in_text: Some(("tesseract 5.3.0 (eng)".into(), vec![[0, 4, 881, 29]])),
                ..PixelFacts::default()
            },
            PixelFacts {
                item_id: 2,
                burned_in_text: Some(("tesseract 5.3.0 (eng)".into(), Vec::new())),
                ..PixelFacts::default()
            },
        ];
        let found = run(
            Data {
                items: &items,
                cases: &cases,
                signals: &[],
                training: &[],
                tables: &[],
                pixels: &pixels,
            },
            &Parameters::with_today("2026-01-01"),
        );
        let text: Vec<&Finding> = found
            .iter()
            .filter(|f| f.rule == "burned-in-text")
            .collect();
        assert_eq!(text.len(), 1);
        assert_eq!(
            (text[0].clause, text[0].severity),
            ("Q1", Severity::Blocking)
        );
        assert_eq!(text[0].item_ids, vec![1]);
        assert!(
            text[0].message_en.contains("0,4 881×29"),
            "{}",
            text[0].message_en
        );
    }
}

/// What replaces a path component that looks like a patient ID.
pub const REDACTED_COMPONENT: &str = "[ID?]";

/// A path as findings and reports may show it (Q1): every component holding a run of seven or
/// more digits — the shape of hospital patient IDs, accession and examination numbers, e.g.
/// `山田太郎_0012345678` — is replaced by [`REDACTED_COMPONENT`]. Returns the path and whether
/// anything was replaced. Dates (`20240501`) are eight digits too and are replaced as well:
/// a path is no place for either.
pub fn redact_path(path: &str) -> (String, bool) {
    let mut redacted = false;
    let shown: Vec<&str> = path
        .split(['/', '\\'])
        .map(|component| {
            let mut run = 0usize;
            let longest = component.chars().fold(0usize, |longest, c| {
                run = if c.is_ascii_digit() { run + 1 } else { 0 };
                longest.max(run)
            });
            if longest >= 7 {
                redacted = true;
                REDACTED_COMPONENT
            } else {
                component
            }
        })
        .collect();
    (shown.join("/"), redacted)
}

#[cfg(test)]
mod path_tests {
    #[test]
    fn id_like_components_are_redacted() {
        assert_eq!(
            super::redact_path("山田太郎_0012345678/ct/a.dcm"),
            ("[ID?]/ct/a.dcm".to_owned(), true)
        );
        assert_eq!(
            super::redact_path("ct/series-12/a.dcm"),
            ("ct/series-12/a.dcm".to_owned(), false)
        );
        assert!(super::redact_path("p/1234567.dcm").1);
        assert!(!super::redact_path("p/123456.dcm").1);
    }
}
