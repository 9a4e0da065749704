//! The reader-study demo (`kizon demo --kind reader-study`): a study ready for reading in the
//! browser. Chest CT series of a biobank (multi-frame, 256×256, generated here with nodules at
//! known places), the dataset locked, the reference standard locked from an expert panel's
//! earlier reads and lesion marks (T1–T3, imported by file), and the reader study's readers
//! R1–R3 assigned to every case for two sessions, unaided then aided, 28 days of washout apart.
//! A person tries it at once: `kizon user add NAME --role reader --reader R1`, `kizon serve`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use kizon_vocab::{ConsentModel, ProviderKind, ReadRole, RegulatorAccess};

use super::data::{element, part10};
use super::{BIOBANK, DemoOutcome, Quiet};
use crate::AppError;
use crate::access::Assign;
use crate::error::io;
use crate::ingest::IngestRequest;
use crate::lesions::MarksBy;
use crate::plan::PlanOptions;
use crate::providers::ProviderInput;
use crate::reference::NewReader;

const PROTOCOL: &str = r#"# 性能評価試験計画書（読影試験のデモ）/ Protocol (reader-study demo), written by `kizon demo --kind reader-study`.
# 書式の説明は `kizon init --print-template` を参照 / see `kizon init --print-template` for every key.

[study]
id = "KZ-DEMO-2026-03"
title = "胸部CT画像を用いた肺結節検出支援プログラムの読影試験（MRMC）"
title_en = "Reader study (MRMC) of a lung-nodule detection program on chest CT"
sponsor = "Kizon Demo Medical K.K."
planned_on = 2026-11-01

[device]
name = "NoduleFinder"
version = "2.0.0"
novelty = "improved"
intended_use = "胸部CT画像における肺結節の検出支援"
intended_use_en = "detection support of lung nodules on chest CT"

[design]
linked_clinical_info = false
reference_standard = "expert-panel"
privacy = "non-identifiable"
correspondence_table = "none"
data_kinds = ["image"]

[eligibility]
inclusion = [
  { ja = "2023年に撮影された胸部CT（バイオバンク収載、スライス厚 ≤ 2.5 mm）", en = "chest CT taken in 2023 held by the biobank (slice thickness ≤ 2.5 mm)" },
]
exclusion = [
  { ja = "画質不良", en = "inadequate image quality" },
]

[reference]
consensus = "majority"
minimum_reads = 3

[lesions]
criterion = "distance"
radius = 8
units = "pixels"
k = 2
types = ["solid", "part-solid", "ground-glass"]

[reading]
conditions = { ja = "診断用モニタ、照度を落とした読影室、時間制限なし。支援ありのセッションでは被験機器の候補表示を参照する。", en = "diagnostic monitor, dimmed reading room, no time limit; in the aided session the device's candidates are shown" }
case_order = "random-per-reader"
rating_scale = [0, 100]
window_presets = ["lung", "mediastinum", "bone"]

[[reading.sessions]]
id = "unaided"
modality = "unaided"
case_read = "label-and-score"

[[reading.sessions]]
id = "aided"
modality = "aided"
washout_days = 28
case_read = "label-and-score"

[[endpoints]]
id = "primary-sensitivity"
primary = true
metric = "sensitivity"
ci = "wilson"
level = 0.95
lower_bound_at_least = 0.80

[[endpoints]]
id = "specificity"
metric = "specificity"
ci = "wilson"
level = 0.95
lower_bound_at_least = 0.75
"#;

/// Cases of the demo, each a 5-frame series.
const CASES: usize = 24;
const SIZE: usize = 256;
pub(super) const FRAMES: usize = 5;

/// A nodule: centre column and row, radius in pixels, the frame it is widest on.
#[derive(Clone, Copy)]
pub(super) struct Nodule {
    pub x: i32,
    pub y: i32,
    pub r: i32,
    pub frame: usize,
}

fn sop_uid(case: usize) -> String {
    format!("2.25.3959{case:03}")
}

pub(super) fn case_id(case: usize) -> String {
    format!("R-{case:03}")
}

/// A small xorshift generator: the demo's data is the same on every machine.
pub(super) struct Rng(pub u64);

impl Rng {
    pub(super) fn below(&mut self, n: u32) -> i32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % u64::from(n)) as i32
    }
}

/// The nodules of a case: one in every odd case, a second in every sixth, none otherwise.
pub(super) fn nodules(case: usize) -> Vec<Nodule> {
    let mut rng = Rng(0x5DEE_CE66_D1CE_4E5B ^ (case as u64).wrapping_mul(0x9E37_79B9));
    let mut out = Vec::new();
    let count = match case % 6 {
        1 => 2,
        3 | 5 => 1,
        _ => 0,
    };
    for k in 0..count {
        // Inside the left or right lung.
        let a = anatomy(case);
        let (cx, cy) = if k == 0 { a.lungs[0] } else { a.lungs[1] };
        out.push(Nodule {
            x: cx + rng.below(30) - 15,
            y: cy + rng.below(50) - 25,
            r: 3 + rng.below(5),
            frame: 1 + rng.below(3) as usize,
        });
    }
    out
}

/// The anatomy of a case's patient: where body, lungs, heart and spine lie, and the vessels.
pub(super) struct Anatomy {
    pub(super) shift: (i32, i32),
    pub(super) body: (i32, i32),
    pub(super) lung: (i32, i32),
    /// Centres of the right and left lung.
    pub(super) lungs: [(i32, i32); 2],
    /// HU per 16 pixels across and down the body.
    pub(super) tilt: (i32, i32),
    /// A slow shading over the body (cycles across and down the image, phase, amplitude in HU):
    /// the inhomogeneity every scanner has, different per patient.
    pub(super) shading: (f64, f64, f64, f64),
    pub(super) heart: (i32, i32, i32),
    pub(super) vessels: Vec<(i32, i32, i32, i32)>,
}

pub(super) fn anatomy(case: usize) -> Anatomy {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D ^ (case as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9));
    let shift = (rng.below(21) - 10, rng.below(21) - 10);
    let lungs = [
        (
            80 + shift.0 + rng.below(11) - 5,
            125 + shift.1 + rng.below(11) - 5,
        ),
        (
            176 + shift.0 + rng.below(11) - 5,
            125 + shift.1 + rng.below(11) - 5,
        ),
    ];
    Anatomy {
        shift,
        lungs,
        tilt: (rng.below(61) - 30, rng.below(61) - 30),
        shading: (
            f64::from(1 + rng.below(3)),
            f64::from(1 + rng.below(3)),
            f64::from(rng.below(628)) / 100.0,
            f64::from(150 + rng.below(150)),
        ),
        body: (100 + rng.below(25), 70 + rng.below(25)),
        lung: (30 + rng.below(14), 45 + rng.below(18)),
        heart: (rng.below(30) - 15, 15 + rng.below(15), 18 + rng.below(14)),
        vessels: (0..10)
            .map(|_| {
                let (lx, ly) = lungs[rng.below(2) as usize];
                (
                    lx + rng.below(50) - 25,
                    ly + rng.below(80) - 40,
                    1 + rng.below(3),
                    -200 + rng.below(300),
                )
            })
            .collect(),
    }
}

/// Hounsfield units of a chest phantom: body, two lungs, heart, vessels, spine, nodules,
/// noise; each patient's anatomy of its own (a perceptual hash tells the cases apart).
fn slice(case: usize, frame: usize, nodules: &[Nodule]) -> Vec<u8> {
    let mut rng = Rng(0xA076_1D64_78BD_642F ^ ((case * 31 + frame) as u64 + 1));
    let a = anatomy(case);
    let inside = |x: i32, y: i32, cx: i32, cy: i32, rx: i32, ry: i32| {
        let (dx, dy) = (
            f64::from(x - cx) / f64::from(rx),
            f64::from(y - cy) / f64::from(ry),
        );
        dx * dx + dy * dy <= 1.0
    };
    let (sx, sy) = a.shift;
    let mut out = Vec::with_capacity(SIZE * SIZE * 2);
    for y in 0..SIZE as i32 {
        for x in 0..SIZE as i32 {
            let mut hu = -1000;
            if inside(x, y, 128 + sx, 128 + sy, a.body.0, a.body.1) {
                hu = 40 + a.tilt.0 * (x - 128) / 16 + a.tilt.1 * (y - 128) / 16;
            }
            let [(lx0, ly0), (lx1, ly1)] = a.lungs;
            if inside(x, y, lx0, ly0, a.lung.0, a.lung.1)
                || inside(x, y, lx1, ly1, a.lung.0, a.lung.1)
            {
                hu = -850 + a.tilt.1 * (y - 128) / 8;
            }
            if inside(x, y, 128 + a.heart.0 + sx, 140 + sy, a.heart.1, a.heart.2) {
                hu = 45;
            }
            for &(vx, vy, r, level) in &a.vessels {
                if inside(x, y, vx, vy + frame as i32 * 2, r, r) {
                    hu = level;
                }
            }
            if inside(x, y, 128 + sx, 128 + sy + a.body.1 - 20, 14, 14) {
                hu = 700;
            }
            for n in nodules {
                let r = n.r - (frame as i32 - n.frame as i32).abs() * 2;
                if r > 0 && inside(x, y, n.x, n.y, r, r) {
                    hu = 30;
                }
            }
            if hu > -1000 {
                let (fx, fy, phase, amplitude) = a.shading;
                let angle = std::f64::consts::TAU * (fx * f64::from(x) + fy * f64::from(y))
                    / SIZE as f64
                    + phase;
                hu += (amplitude * angle.sin()) as i32;
            }
            let value = (hu + 1024 + rng.below(40) - 20).clamp(0, 4095) as u16;
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
    out
}

pub(super) const CT_IMAGE: &str = "1.2.840.10008.5.1.4.1.1.2";

/// The attributes of a demo case's CT image up to its series (in tag order): SOP class and
/// instance, dates, modality, the patient's sex and age, body part, slice thickness, study
/// and series; the multi-frame image and the series slices both begin so.
pub(super) fn ct_header(data: &mut Vec<u8>, case: usize, instance: &str, thickness: &[u8]) {
    let study = format!("2.25.4959{case:03}");
    let date = format!("2023{:02}{:02}", 1 + case % 12, 1 + case % 27);
    let sex: &[u8] = if case.is_multiple_of(2) { b"M" } else { b"F" };
    let age = format!("{:03}Y", 45 + (case * 7) % 35);
    element(data, 0x0008, 0x0016, b"UI", CT_IMAGE.as_bytes());
    element(data, 0x0008, 0x0018, b"UI", instance.as_bytes());
    element(data, 0x0008, 0x0020, b"DA", date.as_bytes());
    element(data, 0x0008, 0x0022, b"DA", date.as_bytes());
    element(data, 0x0008, 0x0060, b"CS", b"CT");
    element(data, 0x0008, 0x0070, b"LO", b"Kizon Demo Imaging");
    element(data, 0x0010, 0x0040, b"CS", sex);
    element(data, 0x0010, 0x1010, b"AS", age.as_bytes());
    element(data, 0x0012, 0x0062, b"CS", b"YES");
    element(data, 0x0018, 0x0015, b"CS", b"CHEST");
    element(data, 0x0018, 0x0050, b"DS", thickness);
    element(data, 0x0020, 0x000D, b"UI", study.as_bytes());
    element(data, 0x0020, 0x000E, b"UI", format!("{study}.1").as_bytes());
}

/// The image pixel and CT attributes of a demo image of `size`² 12-bit values in 16 bits, with
/// `frames` when it is multi-frame, Burned In Annotation NO when `declares_no_text`, the lung
/// window and the rescale to Hounsfield units.
pub(super) fn ct_pixels(
    data: &mut Vec<u8>,
    size: usize,
    frames: Option<usize>,
    spacing: &[u8],
    declares_no_text: bool,
) {
    element(data, 0x0028, 0x0002, b"US", &1u16.to_le_bytes());
    element(data, 0x0028, 0x0004, b"CS", b"MONOCHROME2");
    if let Some(frames) = frames {
        element(data, 0x0028, 0x0008, b"IS", frames.to_string().as_bytes());
    }
    element(data, 0x0028, 0x0010, b"US", &(size as u16).to_le_bytes());
    element(data, 0x0028, 0x0011, b"US", &(size as u16).to_le_bytes());
    element(data, 0x0028, 0x0030, b"DS", spacing);
    element(data, 0x0028, 0x0100, b"US", &16u16.to_le_bytes());
    element(data, 0x0028, 0x0101, b"US", &12u16.to_le_bytes());
    element(data, 0x0028, 0x0102, b"US", &11u16.to_le_bytes());
    element(data, 0x0028, 0x0103, b"US", &0u16.to_le_bytes());
    if declares_no_text {
        element(data, 0x0028, 0x0301, b"CS", b"NO");
    }
    element(data, 0x0028, 0x1050, b"DS", b"-600");
    element(data, 0x0028, 0x1051, b"DS", b"1500");
    element(data, 0x0028, 0x1052, b"DS", b"-1024");
    element(data, 0x0028, 0x1053, b"DS", b"1");
}

/// A multi-frame CT image, explicit VR little endian, with rescale to Hounsfield units.
fn dicom(case: usize) -> Vec<u8> {
    let instance = sop_uid(case);
    let mut data = Vec::new();
    ct_header(&mut data, case, &instance, b"2.0");
    ct_pixels(&mut data, SIZE, Some(FRAMES), b"1.4\\1.4", true);
    let found = nodules(case);
    let pixels: Vec<u8> = (0..FRAMES).flat_map(|f| slice(case, f, &found)).collect();
    element(&mut data, 0x7FE0, 0x0010, b"OW", &pixels);

    part10(CT_IMAGE, &instance, "1.2.840.10008.1.2.1", &data)
}

/// The biobank's delivery and the truth panel's reads and marks, written under `dir`.
pub(super) struct Written {
    pub(super) manifest: PathBuf,
    pub(super) reads: PathBuf,
    pub(super) marks: PathBuf,
    pub(super) results: PathBuf,
}

impl Written {
    pub(super) fn in_dir(dir: &Path) -> Written {
        Written {
            manifest: dir.join("biobank").join("manifest.csv"),
            reads: dir.join("panel-reads.csv"),
            marks: dir.join("panel-marks.csv"),
            results: dir.join("device-results.csv"),
        }
    }
}

fn write(dir: &Path, cases: usize) -> Result<Written, AppError> {
    let delivery = dir.join("biobank");
    fs::create_dir_all(&delivery).map_err(io(&delivery))?;
    let mut manifest =
        String::from("case_id,path,collection_date,diagnosis,diagnosis_date,patient_key\n");
    let mut reads = String::from("reader,case_id,label,score\n");
    let mut marks = String::from("reader,case_id,image,x,y,r,lesion_type,rating\n");
    let mut results = String::from("case_id,label,score\n");
    for case in 1..=cases {
        let file = format!("ct{case:03}.dcm");
        let path = delivery.join(&file);
        fs::write(&path, dicom(case)).map_err(io(&path))?;
        let found = nodules(case);
        // The device finds every nodule but one case's, and calls one normal case positive.
        let device_positive = (!found.is_empty() && case != 5) || case == 8;
        let _ = writeln!(
            results,
            "{},,{}",
            case_id(case),
            if device_positive {
                0.78 + case as f64 / 200.0
            } else {
                0.12 + case as f64 / 200.0
            }
        );
        let _ = writeln!(
            manifest,
            "{},{file},2024-07-01,{},,BB-R{case:04}",
            case_id(case),
            if found.is_empty() {
                "no nodule"
            } else {
                "nodule"
            }
        );
        for (t, reader) in ["T1", "T2", "T3"].iter().enumerate() {
            // T3 misses the second nodule of a case; the other two find every one.
            let seen: Vec<&Nodule> = found
                .iter()
                .enumerate()
                .filter(|(k, _)| !(t == 2 && *k == 1))
                .map(|(_, n)| n)
                .collect();
            let positive = !seen.is_empty();
            let _ = writeln!(
                reads,
                "{reader},{},{},{}",
                case_id(case),
                if positive { "positive" } else { "negative" },
                if positive { 85 + t * 3 } else { 10 + t * 2 }
            );
            for n in seen {
                let _ = writeln!(
                    marks,
                    "{reader},{},{}#{},{},{},{},solid,{}",
                    case_id(case),
                    sop_uid(case),
                    n.frame + 1,
                    n.x + t as i32 - 1,
                    n.y - t as i32 + 1,
                    n.r,
                    80 + t * 5
                );
            }
        }
    }
    let written = Written::in_dir(dir);
    for (path, text) in [
        (&written.manifest, manifest),
        (&written.reads, reads),
        (&written.marks, marks),
        (&written.results, results),
    ] {
        fs::write(path, text).map_err(io(path))?;
    }
    Ok(written)
}

fn reader(code: &str, qualification: &str, years: i64) -> NewReader {
    NewReader {
        code: code.into(),
        qualification: qualification.into(),
        qualification_en: None,
        specialty: "chest".into(),
        years_experience: years,
        independent: true,
        declaration: None,
    }
}

/// The reader-study demo up to its check: the protocol locked, the biobank's delivery ingested
/// and checked, nothing else locked. Tests add their own cases here (real images) before
/// [`reader_study_finish`].
pub struct ReaderStudyStart {
    pub study: crate::Study,
    pub steps: Vec<String>,
    lock: crate::locks::Locked,
}

/// How large the reader-study demo is: its cases, each one multi-frame image of 5 frames of
/// 256×256 (the default, 24 cases), or with `slices`, a CT series of that many single-frame
/// 512×512 slices (a study of benchmark size: 400 cases of 250 slices are 100,000 items).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderStudyShape {
    pub cases: usize,
    pub slices: Option<usize>,
}

impl Default for ReaderStudyShape {
    fn default() -> ReaderStudyShape {
        ReaderStudyShape {
            cases: CASES,
            slices: None,
        }
    }
}

/// Builds the reader-study demo in `dir`, its owner's key in `key_ring`.
pub fn reader_study_demo(
    dir: &Path,
    actor: &str,
    force: bool,
    key_ring: &Path,
) -> Result<DemoOutcome, AppError> {
    reader_study_demo_shaped(
        dir,
        actor,
        force,
        key_ring,
        ReaderStudyShape::default(),
        &crate::init::Placement::standard(),
    )
}

/// [`reader_study_demo`] of another size (`kizon demo --kind reader-study --cases N --slices M`).
pub fn reader_study_demo_shaped(
    dir: &Path,
    actor: &str,
    force: bool,
    key_ring: &Path,
    shape: ReaderStudyShape,
    placement: &crate::init::Placement,
) -> Result<DemoOutcome, AppError> {
    let start = reader_study_start_shaped(dir, actor, force, key_ring, shape, placement)?;
    reader_study_finish(start, dir, actor)
}

/// The demo's first half: see [`ReaderStudyStart`].
pub fn reader_study_start(
    dir: &Path,
    actor: &str,
    force: bool,
    key_ring: &Path,
) -> Result<ReaderStudyStart, AppError> {
    reader_study_start_shaped(
        dir,
        actor,
        force,
        key_ring,
        ReaderStudyShape::default(),
        &crate::init::Placement::standard(),
    )
}

fn reader_study_start_shaped(
    dir: &Path,
    actor: &str,
    force: bool,
    key_ring: &Path,
    shape: ReaderStudyShape,
    placement: &crate::init::Placement,
) -> Result<ReaderStudyStart, AppError> {
    if shape.cases == 0 || shape.slices == Some(0) {
        return Err(AppError::Refused {
            what: "a reader study of no case or no slice".into(),
            hint: "--cases and --slices count from 1".into(),
        });
    }
    let (mut study, mut steps, lock) =
        super::start(dir, actor, force, key_ring, PROTOCOL, placement)?;
    let sources = dir.join("demo-sources");
    fs::create_dir_all(&sources).map_err(io(&sources))?;
    study.add_provider(
        actor,
        &ProviderInput {
            name: BIOBANK.into(),
            kind: ProviderKind::PrivateBiobank,
            consent_model: ConsentModel::BroadConsent,
            legal_basis: "包括同意に基づく第三者提供 / third-party provision under broad consent"
                .into(),
            regulator_access: RegulatorAccess::Yes,
            public_key: None,
        },
    )?;
    steps.push(format!(
        "registered provider {BIOBANK} (private biobank, broad consent)"
    ));
    for (provider, kind, file, text) in super::evidence_documents() {
        if provider != BIOBANK {
            continue;
        }
        let path = sources.join(file);
        fs::write(&path, text).map_err(io(&path))?;
        let evidence = study.add_evidence(actor, BIOBANK, kind, &path, None)?;
        steps.push(format!(
            "added {kind} evidence for {BIOBANK}: {file} (sha256 {})",
            &evidence.document[..12]
        ));
    }
    let written = match shape.slices {
        None => write(&sources, shape.cases)?,
        Some(slices) => super::series::write(&sources, shape.cases, slices)?,
    };
    let ingested = study.ingest(
        actor,
        &IngestRequest {
            provider: BIOBANK.into(),
            manifest: Some(written.manifest.clone()),
            paths: Vec::new(),
            for_amendment: false,
        },
        &Quiet,
    )?;
    steps.push(match shape.slices {
        None => format!(
            "ingested the biobank's delivery: {} chest CT series ({FRAMES} frames of {SIZE}×{SIZE} each) into {} cases",
            ingested.added, ingested.cases_added
        ),
        Some(slices) => format!(
            "ingested the biobank's delivery: {} chest CT slices ({slices} slices of {size}×{size} per series, RLE Lossless) into {} cases",
            ingested.added,
            ingested.cases_added,
            size = super::series::SLICE_SIZE,
        ),
    });
    let checked = study.check(actor)?;
    steps.push(format!(
        "checked the data: {} findings, {} of them blocking",
        checked.findings, checked.open_blocking
    ));
    if shape.slices.is_some() {
        // Phantoms from one generator look alike to a perceptual hash across hundreds of
        // cases; the benchmark's findings are accepted with that reason, in the ledger.
        let mut accepted = 0;
        for finding in study.findings()? {
            if finding.status.is_unresolved() {
                study.resolve(
                    actor,
                    finding.id,
                    crate::check::Decision::Accept,
                    crate::text::Reason::new(
                        "ベンチマーク用の合成ファントム（同一の生成器による画像のため類似）",
                        Some("synthetic phantoms of one generator for a benchmark: alike by construction"),
                    ),
                    &[],
                )?;
                accepted += 1;
            }
        }
        steps.push(format!(
            "accepted {accepted} findings on the synthetic phantoms (a benchmark study), each with its reason"
        ));
    }
    Ok(ReaderStudyStart { study, steps, lock })
}

/// The demo's second half: the dataset locked, the expert panel's reads and marks imported and
/// the reference standard locked, the device's results imported, readers R1–R3 assigned.
pub fn reader_study_finish(
    start: ReaderStudyStart,
    dir: &Path,
    actor: &str,
) -> Result<DemoOutcome, AppError> {
    let ReaderStudyStart {
        mut study,
        mut steps,
        lock,
    } = start;
    let written = Written::in_dir(&dir.join("demo-sources"));
    let dataset = study.lock_dataset(actor)?;
    steps.push(format!(
        "locked the dataset: {} cases (Merkle root {})",
        dataset.cases,
        &dataset.merkle_root[..12]
    ));
    for (code, qualification, years) in [
        ("T1", "放射線診断専門医（参照標準パネル）", 20),
        ("T2", "放射線診断専門医（参照標準パネル）", 17),
        ("T3", "放射線診断専門医（参照標準パネル）", 15),
        ("R1", "放射線診断専門医", 12),
        ("R2", "放射線科専攻医", 4),
        ("R3", "呼吸器内科医", 9),
    ] {
        study.add_reader(actor, &reader(code, qualification, years))?;
    }
    steps.push(
        "registered the expert panel T1–T3 (reference standard) and the reader study's readers R1–R3"
            .into(),
    );
    study.import_reads(actor, &written.reads, ReadRole::Panel)?;
    study.import_marks(
        actor,
        &written.marks,
        &MarksBy::Reader {
            code: None,
            role: ReadRole::Panel,
        },
    )?;
    steps.push(
        "imported the expert panel's reads and lesion marks (panel-reads.csv, panel-marks.csv)"
            .into(),
    );
    let reference = study.lock_reference(actor)?;
    steps.push(format!(
        "locked the reference standard: {} positive, {} negative, lesions from the panel's marks (k = 2) (sha256 {})",
        reference.positive,
        reference.negative,
        &reference.sha256[..12]
    ));
    let results = study.import_results(actor, &written.results, "2.0.0", None)?;
    steps.push(format!(
        "imported {} results of NoduleFinder 2.0.0 (device-results.csv), for the analysis after the reading",
        results.new
    ));
    let sessions = ["unaided".to_owned(), "aided".to_owned()];
    for code in ["R1", "R2", "R3"] {
        study.assign_sessions(actor, code, &sessions)?;
        let cases = study.assign(actor, code, &Assign::Dataset)?;
        steps.push(format!(
            "assigned reader {code} the sessions unaided and aided and every case of the dataset ({cases} cases)"
        ));
    }
    steps.push(
        "ready for reading: kizon user add NAME --role reader --reader R1, then kizon serve (sessions unaided, then aided after 28 days)"
            .into(),
    );
    let report = study.verify(None)?;
    Ok(DemoOutcome {
        dir: dir.to_owned(),
        steps,
        plan: study.plan(PlanOptions::default())?,
        lock,
        ledger_entries: report.entries,
        verified: report.intact(),
        planted: Vec::new(),
        findings: study.findings()?,
        reports: Vec::new(),
        package: PathBuf::new(),
        owner_key: study.owner_key.clone(),
    })
}
