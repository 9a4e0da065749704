//! The report laid out as a language-specific document: sections of blocks (paragraphs, fields,
//! tables, the flow diagram, figures) whose every string is final. Both renderers draw this one
//! structure, so the PDF and the HTML say the same thing with the same numbers; the PDF renderer
//! hands it to the Typst template as JSON.

mod method_comparison;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::Lang;
use crate::format::{baseline_value, format_interval, format_value, level_percent};
use crate::labels::{self, Labels};
use crate::model::{
    BaselineValue, CiMethod, IndeterminateHandling, Interval, Metric, ReferenceStandard, Report,
    Verdict,
};
use crate::svg;

#[derive(Debug, Serialize)]
pub(crate) struct Doc {
    pub lang: &'static str,
    /// 性能評価試験報告書 / Performance Evaluation Test Report.
    pub kind: String,
    pub study_title: String,
    pub study_id: String,
    pub author: String,
    pub date: Option<Date>,
    /// Stable identifier of the PDF document (study, language).
    pub ident: String,
    pub running_head: String,
    pub running_date: String,
    pub running_foot: String,
    pub contents: String,
    pub title_rows: Vec<Field>,
    pub hashes_heading: String,
    pub hashes_note: String,
    pub hash_rows: Vec<Field>,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

#[derive(Debug, Serialize)]
pub(crate) struct Field {
    pub key: String,
    pub value: String,
    pub style: Style,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Style {
    Plain,
    Strong,
    Mono,
    Pass,
    Fail,
}

#[derive(Debug, Serialize)]
pub(crate) struct Section {
    /// `1`, `2`, …; empty for the appendix.
    pub number: String,
    pub heading: String,
    /// Unnumbered and on a new page.
    pub appendix: bool,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub(crate) enum Block {
    Heading {
        number: String,
        text: String,
    },
    /// A bold run-in title (an endpoint, a list's name); not in the table of contents.
    Subheading {
        text: String,
    },
    Para {
        text: String,
    },
    Note {
        text: String,
    },
    Bullets {
        items: Vec<String>,
    },
    Fields {
        rows: Vec<Field>,
    },
    Table(Table),
    Flow(Box<FlowView>),
    Figure {
        svg: String,
        caption: String,
        alt: String,
    },
}

#[derive(Debug, Serialize)]
pub(crate) struct Table {
    pub caption: Option<String>,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// Small type for wide tables.
    pub small: bool,
    /// Rows per group: horizontal rules are drawn between groups only.
    pub group: u32,
    /// Kept on one page (moved whole to the next one rather than split): set by [`build`] for
    /// tables short enough to fit a page.
    pub keep: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct Column {
    pub header: String,
    /// `left`, `right` or `center`.
    pub align: &'static str,
    /// Relative width (Typst `fr`); 0 for `auto`.
    pub fr: u32,
}

#[derive(Debug, Serialize)]
pub(crate) struct Cell {
    pub text: String,
    /// A second, smaller line (a unit, a code, a fraction).
    pub sub: Option<String>,
    pub style: Style,
    pub colspan: u32,
    /// Whether the row may be split across pages: only rows too long to move to the next page
    /// whole (an unbreakable row taller than a page would be cut off). Set by [`build`].
    pub breakable: bool,
}

impl Cell {
    fn new(text: impl Into<String>) -> Self {
        Cell {
            text: text.into(),
            sub: None,
            style: Style::Plain,
            colspan: 1,
            breakable: false,
        }
    }
    fn sub(mut self, sub: impl Into<String>) -> Self {
        let sub = sub.into();
        self.sub = (!sub.is_empty()).then_some(sub);
        self
    }
    fn style(mut self, style: Style) -> Self {
        self.style = style;
        self
    }
    fn span(mut self, n: usize) -> Self {
        self.colspan = n as u32;
        self
    }
}

fn col(header: &str, align: &'static str, fr: u32) -> Column {
    Column {
        header: header.to_owned(),
        align,
        fr,
    }
}

/// The STARD 2015 flow diagram's boxes (Bossuyt et al. 2015, BMJ 351:h5527).
#[derive(Debug, Serialize)]
pub(crate) struct FlowView {
    pub collected: FlowBox,
    pub excluded: FlowBox,
    pub eligible: FlowBox,
    pub not_analysed: FlowBox,
    pub analysed: FlowBox,
    pub positive: FlowBox,
    pub negative: FlowBox,
    pub caption: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct FlowBox {
    pub label: String,
    pub n: String,
    /// Reasons with their counts, one line each.
    pub lines: Vec<FlowLine>,
}

#[derive(Debug, Serialize)]
pub(crate) struct FlowLine {
    pub label: String,
    pub n: String,
}

fn n_eq(n: u64) -> String {
    format!("n = {n}")
}

fn flow_box(label: &str, n: u64) -> FlowBox {
    FlowBox {
        label: label.to_owned(),
        n: n_eq(n),
        lines: Vec::new(),
    }
}

/// Parses `YYYY-MM-DD` (a real calendar date).
pub(crate) fn parse_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &s[r];
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (year >= 1900 && (1..=days).contains(&day)).then_some(Date {
        year: year as u16,
        month: month as u8,
        day: day as u8,
    })
}

struct Builder<'a> {
    r: &'a Report,
    lang: Lang,
    l: &'static Labels,
    tables: u32,
    figures: u32,
    ci_head: String,
    /// Each endpoint's id → its short label (`主要評価項目`, `副次評価項目1`) and full label
    /// (`主要評価項目（感度）`): the report never prints an endpoint's internal id outside the
    /// traceability appendix.
    endpoint_labels: BTreeMap<String, (String, String)>,
}

impl Builder<'_> {
    /// The full label of the endpoint `id` (`主要評価項目（感度）`), or the id itself for one
    /// the report does not list.
    fn endpoint(&self, id: &str) -> String {
        self.endpoint_labels
            .get(id)
            .map_or_else(|| id.to_owned(), |(_, long)| long.clone())
    }

    /// The short label of the endpoint `id` (`主要評価項目`, `副次評価項目1`).
    fn endpoint_short(&self, id: &str) -> String {
        self.endpoint_labels
            .get(id)
            .map_or_else(|| id.to_owned(), |(short, _)| short.clone())
    }

    fn t<'b>(&self, text: &'b crate::model::Text) -> &'b str {
        text.get(self.lang)
    }

    fn table_caption(&mut self, title: &str) -> String {
        self.tables += 1;
        match self.lang {
            Lang::Ja => format!("表{}　{title}", self.tables),
            Lang::En => format!("Table {}. {title}", self.tables),
        }
    }

    fn figure_caption(&mut self, title: &str) -> String {
        self.figures += 1;
        match self.lang {
            Lang::Ja => format!("図{}　{title}", self.figures),
            Lang::En => format!("Figure {}. {title}", self.figures),
        }
    }

    fn comparator(&self) -> bool {
        self.r.methods.reference_standard.is_comparator()
    }

    fn metric(&self, m: Metric) -> String {
        labels::metric(self.lang, m).to_owned()
    }

    fn ci(&self, metric: Metric, ci: &Option<Interval>) -> String {
        ci.as_ref()
            .map(|ci| format_interval(metric, ci))
            .unwrap_or_else(|| "—".to_owned())
    }

    fn verdict_cell(&self, v: Option<Verdict>) -> Cell {
        match v {
            Some(v) => Cell::new(labels::verdict(self.lang, v)).style(verdict_style(v)),
            None => Cell::new("—"),
        }
    }

    fn field(&self, key: &str, value: impl Into<String>) -> Field {
        Field {
            key: key.to_owned(),
            value: value.into(),
            style: Style::Plain,
        }
    }

    fn mono(&self, key: &str, value: impl Into<String>) -> Field {
        Field {
            style: Style::Mono,
            ..self.field(key, value)
        }
    }

    /// The space between an identifier and a name: ideographic in Japanese.
    fn sep(&self) -> &'static str {
        match self.lang {
            Lang::Ja => "　",
            Lang::En => " ",
        }
    }

    fn paren(&self, inner: &str) -> String {
        match self.lang {
            Lang::Ja => format!("（{inner}）"),
            Lang::En => format!(" ({inner})"),
        }
    }
}

fn verdict_style(v: Verdict) -> Style {
    match v {
        Verdict::Pass => Style::Pass,
        Verdict::Fail => Style::Fail,
    }
}

pub(crate) fn build(r: &Report, lang: Lang) -> Doc {
    let l = labels::labels(lang);
    let mut b = Builder {
        r,
        lang,
        l,
        tables: 0,
        figures: 0,
        ci_head: labels::ci_heading(lang, &level_percent(r.methods.confidence_level)),
        endpoint_labels: endpoint_labels(r, lang, l),
    };
    let s = &r.study;
    let comparator = b.comparator();
    let mut title_rows = vec![
        b.mono(l.study_id, &s.id),
        b.field(l.sponsor, b.t(&s.sponsor)),
        b.field(l.device, b.t(&s.device.name)),
        b.field(l.device_version, &s.device.version),
    ];
    if let Some(u) = &s.device.intended_use {
        title_rows.push(b.field(l.intended_use, b.t(u)));
    }
    title_rows.extend([
        b.field(l.test_type, labels::test_type(lang, s.test_type)),
        b.field(l.rules_version, rules_version(lang, &s.rules_version)),
        b.field(l.report_date, &s.report_date),
    ]);
    let h = &s.hashes;
    let mut hash_rows = vec![
        b.mono(l.protocol_sha256, &h.protocol_sha256),
        b.mono(l.dataset_merkle_root, &h.dataset_merkle_root),
        b.mono(
            if comparator {
                l.comparator_hash
            } else {
                l.reference_hash
            },
            &h.reference_standard,
        ),
        b.mono(l.device_results_hash, &h.device_results),
        b.mono(l.analysis_hash, &h.analysis),
        b.mono(
            l.ledger_head,
            format!("{} {}", h.ledger_head.seq, h.ledger_head.hash),
        ),
    ];
    if let Some(key) = &h.owner_public_key {
        hash_rows.push(b.mono(l.owner_public_key, key));
    }
    let short_head: String = h.ledger_head.hash.chars().take(16).collect();
    let mut sections = vec![
        summary(&mut b),
        methods(&mut b),
        flow(&mut b),
        baseline(&mut b),
        results(&mut b),
    ];
    sections.extend(lesions(&mut b));
    sections.extend(reader_study(&mut b));
    sections.extend(method_comparison::method_comparisons(&mut b));
    sections.extend([
        subgroups(&mut b),
        sensitivity(&mut b),
        findings(&mut b),
        amendments(&mut b),
        deviations(&mut b),
        plan(&mut b),
        traceability(&mut b),
    ]);
    if !r.case_list.is_empty() {
        sections.push(case_list(&mut b));
    }
    number_sections(&mut sections);
    mark_long_rows(&mut sections);
    Doc {
        lang: lang.as_str(),
        kind: l.report_kind.to_owned(),
        study_title: b.t(&s.title).to_owned(),
        study_id: s.id.clone(),
        author: b.t(&s.sponsor).to_owned(),
        date: parse_date(&s.report_date),
        ident: format!("kizon-report/{}/{}/{}", s.id, s.report_date, lang.as_str()),
        running_head: format!("{}{}{}", l.report_kind, b.sep(), s.id),
        running_date: s.report_date.clone(),
        running_foot: format!("{} {} · {}…", l.ledger_head, h.ledger_head.seq, short_head),
        contents: l.contents.to_owned(),
        title_rows,
        hashes_heading: l.hashes.to_owned(),
        hashes_note: l.hashes_note.to_owned(),
        hash_rows,
        sections,
    }
}

/// The Q&A revision the plan follows, by its date: `qa-2025-03-17` → Q&A（2025-03-17 改正）.
fn rules_version(lang: Lang, id: &str) -> String {
    match (id.strip_prefix("qa-"), lang) {
        (Some(date), Lang::Ja) => format!("性能評価試験に関する Q&A（{date} 改正）"),
        (Some(date), Lang::En) => {
            format!("Q&A on performance evaluation tests, as revised on {date}")
        }
        (None, _) => id.to_owned(),
    }
}

/// `主要評価項目` (numbered when there are several), `副次評価項目1`, `副次評価項目2`, … with
/// the endpoint's name after it, in the order of the protocol.
fn endpoint_labels(r: &Report, lang: Lang, l: &Labels) -> BTreeMap<String, (String, String)> {
    let primaries = r.endpoints.iter().filter(|e| e.primary).count();
    let secondaries = r.endpoints.len() - primaries;
    let (mut p, mut s) = (0, 0);
    r.endpoints
        .iter()
        .map(|e| {
            let (kind, k, of) = if e.primary {
                p += 1;
                (l.primary, p, primaries)
            } else {
                s += 1;
                (l.secondary, s, secondaries)
            };
            let short = match (of > 1, lang) {
                (false, _) => kind.to_owned(),
                (true, Lang::Ja) => format!("{kind}{k}"),
                (true, Lang::En) => format!("{kind} {k}"),
            };
            let long = match lang {
                Lang::Ja => format!("{short}（{}）", e.name.ja),
                Lang::En => format!("{short} ({})", e.name.en),
            };
            (e.id.clone(), (short, long))
        })
        .collect()
}

/// Numbers sections `1`, `2`, … and their headings `1.1`, `1.2`, …; the appendix is unnumbered.
fn number_sections(sections: &mut [Section]) {
    let mut n = 0;
    for sec in sections.iter_mut().filter(|s| !s.appendix) {
        n += 1;
        sec.number = n.to_string();
        let mut k = 0;
        for block in &mut sec.blocks {
            if let Block::Heading { number, .. } = block {
                k += 1;
                *number = format!("{n}.{k}");
            }
        }
    }
}

/// Text (in UTF-8 bytes) above which a table row may break across pages. Below it a row moves to
/// the next page whole; a row of 1,200 bytes (400 kanji) is well under half a page even in the
/// narrowest column.
const LONG_ROW: usize = 1200;

/// Tables of at most this many rows and this much text (UTF-8 bytes) are kept on one page: a
/// short table split across a page break is hard to read, while moving a long one whole would
/// leave most of a page blank.
const KEEP_ROWS: usize = 24;
const KEEP_TEXT: usize = 2400;

fn mark_long_rows(sections: &mut [Section]) {
    for sec in sections {
        for block in &mut sec.blocks {
            if let Block::Table(t) = block {
                let mut total = 0;
                for row in &mut t.rows {
                    let len: usize = row
                        .iter()
                        .map(|c| c.text.len() + c.sub.as_ref().map_or(0, String::len))
                        .sum();
                    total += len;
                    for c in row {
                        c.breakable = len > LONG_ROW;
                    }
                }
                t.keep = t.rows.len() <= KEEP_ROWS && total <= KEEP_TEXT;
            }
        }
    }
}

fn heading(text: &str) -> Block {
    Block::Heading {
        number: String::new(),
        text: text.to_owned(),
    }
}

fn section(heading: &str, blocks: Vec<Block>) -> Section {
    Section {
        number: String::new(),
        heading: heading.to_owned(),
        appendix: false,
        blocks,
    }
}

fn summary(b: &mut Builder) -> Section {
    let (r, l) = (b.r, b.l);
    let mut blocks: Vec<Block> = r
        .summary
        .iter()
        .map(|p| Block::Para {
            text: b.t(p).to_owned(),
        })
        .collect();
    let f = &r.flow;
    let not_analysed = f.collected - f.analysed;
    blocks.push(Block::Para {
        text: match b.lang {
            Lang::Ja => format!(
                "医療機関等から収集した{}例のうち{}例を解析対象とした（解析対象外{}例の内訳は症例の流れ図に示す）。",
                f.collected, f.analysed, not_analysed
            ),
            Lang::En => format!(
                "Of {} cases collected from the providers, {} were analysed (the {} not analysed are accounted for in the flow diagram).",
                f.collected, f.analysed, not_analysed
            ),
        },
    });
    let caption = b.table_caption(l.results_at_a_glance);
    let ci_head = b.ci_head.clone();
    let rows = r
        .endpoints
        .iter()
        .map(|e| {
            vec![
                Cell::new(b.endpoint_short(&e.id)),
                Cell::new(b.metric(e.metric)),
                Cell::new(format_value(e.metric, e.estimate))
                    .sub(fraction(e.metric, &e.table).unwrap_or_default())
                    .style(Style::Strong),
                Cell::new(b.ci(e.metric, &e.ci)),
                Cell::new(
                    e.acceptance_criterion
                        .as_ref()
                        .map(|c| b.t(c).to_owned())
                        .unwrap_or_else(|| l.no_criterion.to_owned()),
                ),
                b.verdict_cell(e.verdict),
            ]
        })
        .collect();
    blocks.push(Block::Table(Table {
        caption: Some(caption),
        columns: vec![
            col(l.endpoint, "left", 3),
            col(l.metric, "left", 2),
            col(l.estimate, "right", 0),
            col(&ci_head, "right", 0),
            col(l.criterion, "left", 3),
            col(l.verdict, "center", 0),
        ],
        rows,
        small: true,
        group: 1,
        keep: false,
    }));
    section(l.summary, blocks)
}

fn fraction(metric: Metric, table: &Option<crate::model::TwoByTwo>) -> Option<String> {
    let (x, n) = table.as_ref()?.fraction(metric)?;
    Some(format!("{x}/{n}"))
}

fn methods(b: &mut Builder) -> Section {
    let (r, l, lang) = (b.r, b.l, b.lang);
    let m = &r.methods;
    let mut blocks = vec![
        heading(l.objective),
        Block::Para {
            text: b.t(&m.objective).to_owned(),
        },
        heading(l.test_type),
        Block::Para {
            text: format!(
                "{}{}",
                labels::test_type(lang, r.study.test_type),
                b.paren(if lang == Lang::Ja {
                    "Q4、Q5"
                } else {
                    "Q4, Q5"
                })
            ),
        },
        heading(l.data_sources),
        Block::Para {
            text: b.t(&m.data_description).to_owned(),
        },
    ];
    let caption = b.table_caption(l.data_sources);
    // Collected and, beside it, in the locked dataset: the two totals are the flow diagram's.
    let with_dataset = m.providers.iter().any(|p| p.dataset_cases.is_some());
    let mut rows: Vec<Vec<Cell>> = m
        .providers
        .iter()
        .map(|p| {
            let mut row = vec![
                Cell::new(b.t(&p.name)),
                Cell::new(labels::provider_kind(lang, p.kind)),
                Cell::new(labels::consent(lang, p.consent)),
                Cell::new(p.cases.to_string()),
            ];
            if with_dataset {
                row.push(Cell::new(p.dataset_cases.unwrap_or(0).to_string()));
            }
            row
        })
        .collect();
    let mut total = vec![
        Cell::new(l.total).style(Style::Strong).span(3),
        Cell::new(r.flow.collected.to_string()).style(Style::Strong),
    ];
    if with_dataset {
        total.push(Cell::new(r.flow.eligible.to_string()).style(Style::Strong));
    }
    rows.push(total);
    let mut columns = vec![
        col(l.provider, "left", 3),
        col(l.provider_kind, "left", 2),
        col(l.consent, "left", 2),
        col(
            if with_dataset {
                l.cases_collected
            } else {
                l.cases
            },
            "right",
            0,
        ),
    ];
    if with_dataset {
        columns.push(col(l.cases_in_dataset, "right", 0));
    }
    blocks.push(Block::Table(Table {
        caption: Some(caption),
        columns,
        rows,
        small: false,
        group: 1,
        keep: false,
    }));
    blocks.push(heading(l.eligibility));
    blocks.push(Block::Subheading {
        text: l.inclusion.into(),
    });
    blocks.push(Block::Bullets {
        items: m
            .eligibility
            .inclusion
            .iter()
            .map(|t| b.t(t).to_owned())
            .collect(),
    });
    blocks.push(Block::Subheading {
        text: l.exclusion.into(),
    });
    blocks.push(Block::Bullets {
        items: m
            .eligibility
            .exclusion
            .iter()
            .map(|t| b.t(t).to_owned())
            .collect(),
    });
    let comparator = b.comparator();
    blocks.push(heading(if comparator {
        l.comparator_method
    } else {
        l.reference_standard
    }));
    let rows = match &m.reference_standard {
        ReferenceStandard::ExpertPanel {
            readers,
            qualification,
            consensus_rule,
        } => vec![
            b.field(l.ref_kind, l.expert_panel),
            b.field(l.readers, readers.to_string()),
            b.field(l.qualification, b.t(qualification)),
            b.field(l.consensus_rule, b.t(consensus_rule)),
        ],
        ReferenceStandard::ConfirmedDiagnosis { source } => vec![
            b.field(l.ref_kind, l.confirmed_diagnosis),
            b.field(l.diagnosis_source, b.t(source)),
        ],
        ReferenceStandard::ComparatorMethod { method } => {
            vec![b.field(l.comparator, b.t(method))]
        }
    };
    blocks.push(Block::Fields { rows });
    if comparator {
        blocks.push(Block::Note {
            text: l.comparator_note.into(),
        });
    }
    if !m.reading.is_empty() {
        blocks.push(heading(l.reading));
        blocks.push(Block::Bullets {
            items: m.reading.iter().map(|t| b.t(t).to_owned()).collect(),
        });
    }
    blocks.push(heading(l.blinding));
    blocks.push(Block::Bullets {
        items: m.blinding.iter().map(|t| b.t(t).to_owned()).collect(),
    });
    if let Some(s) = &m.sample_size {
        blocks.push(heading(l.sample_size));
        blocks.extend(sample_size(b, s));
    }
    blocks.push(heading(l.statistics));
    blocks.push(Block::Fields {
        rows: vec![b.field(
            l.confidence_level,
            format!("{}%", level_percent(m.confidence_level)),
        )],
    });
    blocks.push(Block::Bullets {
        items: m.statistics.iter().map(|t| b.t(t).to_owned()).collect(),
    });
    // Every interval method the results use, with what it was used for and its source.
    let mut used: BTreeMap<CiMethod, Vec<String>> = BTreeMap::new();
    let mut note = |ci: &Option<Interval>, what: String| {
        if let Some(ci) = ci {
            let list = used.entry(ci.method).or_default();
            if !list.contains(&what) {
                list.push(what);
            }
        }
    };
    for e in &r.endpoints {
        note(&e.ci, b.endpoint(&e.id));
    }
    for c in &r.roc {
        note(&c.ci, l.roc.to_owned());
    }
    for s in &r.subgroups {
        note(&s.ci, l.subgroups.to_owned());
    }
    // Sensitivity analyses by what they changed, not by their internal ids.
    let sensitivity = if lang == Lang::Ja {
        "感度分析"
    } else {
        "sensitivity analyses"
    };
    for s in &r.sensitivity_analyses {
        note(&s.ci, sensitivity.to_owned());
    }
    if !used.is_empty() {
        let caption = b.table_caption(l.ci_method);
        let sep = if lang == Lang::Ja { "、" } else { ", " };
        let rows = used
            .iter()
            .map(|(method, what)| {
                let (name, citation) = labels::ci_method(lang, *method);
                vec![
                    Cell::new(name),
                    Cell::new(what.join(sep)),
                    Cell::new(citation),
                ]
            })
            .collect();
        blocks.push(Block::Table(Table {
            caption: Some(caption),
            columns: vec![
                col(l.ci_method, "left", 2),
                col(l.used_for, "left", 3),
                col(l.citation, "left", 5),
            ],
            rows,
            small: true,
            group: 1,
            keep: false,
        }));
    }
    section(l.methods, blocks)
}

/// The sample-size rationale: the assumptions as fields, then the calculation in a sentence.
fn sample_size(b: &Builder, s: &crate::model::SampleSize) -> Vec<Block> {
    let (l, lang) = (b.l, b.lang);
    let pct = |x: f64| format!("{}%", level_percent(x));
    let class = match (s.positive_class, lang) {
        (true, Lang::Ja) => "参照標準陽性例",
        (false, Lang::Ja) => "参照標準陰性例",
        (true, Lang::En) => "reference-positive cases",
        (false, Lang::En) => "reference-negative cases",
    };
    let mut rows = vec![
        b.field(l.endpoint, b.endpoint(&s.endpoint_id)),
        b.field(l.performance_goal, format_value(s.metric, s.goal)),
        b.field(l.expected_value, format_value(s.metric, s.expected)),
        b.field(l.power, pct(s.power)),
    ];
    if let Some(p) = s.prevalence {
        rows.push(b.field(l.prevalence, pct(p)));
    }
    if let Some(n) = s.planned_cases {
        rows.push(b.field(l.planned_cases, n.to_string()));
    }
    let mut blocks = vec![Block::Fields { rows }];
    let (method, _) = labels::ci_method(lang, s.ci);
    if let (Some(n), Some(power)) = (s.class_cases, s.achieved_power) {
        let total = s.total_cases.map(|t| match lang {
            Lang::Ja => format!("想定有病率から全体で {t} 例が必要である。"),
            Lang::En => format!("At the expected prevalence, {t} cases in all are needed."),
        });
        blocks.push(Block::Para {
            text: match lang {
                Lang::Ja => format!(
                    "想定値 {} のとき、{method}による信頼区間の下限が {} を上回る確率を {} 以上とするには、{class} {n} 例が必要である（正確二項法、検出力 {}；Flahault, Cadilhac & Thomas 2005。kizon-stats で計算）。{}本試験の解析対象の{class}は {} 例であった。",
                    format_value(s.metric, s.expected),
                    format_value(s.metric, s.goal),
                    pct(s.power),
                    pct(power),
                    total.unwrap_or_default(),
                    s.analysed_class_cases
                ),
                Lang::En => format!(
                    "With an expected value of {}, {n} {class} are needed for the lower bound of the interval ({method}) to exceed {} with a probability of at least {} (exact binomial power {}; Flahault, Cadilhac & Thomas 2005, computed by kizon-stats). {}The analysis had {} {class}.",
                    format_value(s.metric, s.expected),
                    format_value(s.metric, s.goal),
                    pct(s.power),
                    pct(power),
                    total.map(|t| format!("{t} ")).unwrap_or_default(),
                    s.analysed_class_cases
                ),
            },
        });
    }
    if let Some(note) = &s.note {
        blocks.push(Block::Note {
            text: b.t(note).to_owned(),
        });
    }
    if let Some(r) = &s.rationale {
        blocks.push(Block::Para {
            text: b.t(r).to_owned(),
        });
    }
    blocks
}

/// Beyond this many exclusion reasons, or this much text (UTF-8 bytes), the diagram's box
/// refers to a table instead: the diagram must fit on one page.
const MAX_BOX_REASONS: usize = 10;
const MAX_BOX_REASONS_LEN: usize = 900;

fn flow(b: &mut Builder) -> Section {
    let (r, l, lang) = (b.r, b.l, b.lang);
    let f = &r.flow;
    let comparator = b.comparator();
    let mut excluded = flow_box(l.excluded, f.excluded.iter().map(|e| e.count).sum());
    // Reasons go into the box unless there are too many to fit a page: then into a table.
    let reasons_len: usize = f.excluded.iter().map(|e| b.t(&e.reason).len()).sum();
    let mut reasons_table = None;
    if f.excluded.len() <= MAX_BOX_REASONS && reasons_len <= MAX_BOX_REASONS_LEN {
        excluded.lines = f
            .excluded
            .iter()
            .map(|e| FlowLine {
                label: b.t(&e.reason).to_owned(),
                n: n_eq(e.count),
            })
            .collect();
    } else {
        let caption = b.table_caption(l.exclusion_reasons);
        excluded.lines.push(FlowLine {
            label: format!("{}{caption}", l.by_reason),
            n: String::new(),
        });
        reasons_table = Some(Table {
            caption: Some(caption),
            columns: vec![col(l.reason, "left", 1), col(l.cases, "right", 0)],
            rows: f
                .excluded
                .iter()
                .map(|e| vec![Cell::new(b.t(&e.reason)), Cell::new(e.count.to_string())])
                .collect(),
            small: false,
            group: 1,
            keep: false,
        });
    }
    let not_label = match lang {
        Lang::Ja => "解析対象外",
        Lang::En => "Not analysed",
    };
    let mut not_analysed = flow_box(not_label, f.eligible - f.analysed);
    not_analysed.lines.push(FlowLine {
        label: if comparator {
            l.no_comparator
        } else {
            l.no_reference
        }
        .into(),
        n: n_eq(f.no_reference_standard),
    });
    not_analysed.lines.push(FlowLine {
        label: l.no_device_result.into(),
        n: n_eq(f.no_device_result),
    });
    let mut analysed = flow_box(l.analysed, f.analysed);
    let mut note = None;
    match &f.indeterminate_handling {
        IndeterminateHandling::Excluded => {
            not_analysed.lines.push(FlowLine {
                label: l.indeterminate.into(),
                n: n_eq(f.indeterminate),
            });
            if f.indeterminate > 0 {
                note = Some(l.indeterminate_excluded.to_owned());
            }
        }
        IndeterminateHandling::Included { rule } => {
            analysed.lines.push(FlowLine {
                label: l.indeterminate.into(),
                n: n_eq(f.indeterminate),
            });
            note = Some(format!("{}{}", l.indeterminate_included, b.t(rule)));
        }
    }
    let (pos, neg) = if comparator {
        (l.comparator_positive, l.comparator_negative)
    } else {
        (l.reference_positive, l.reference_negative)
    };
    let caption = b.figure_caption(l.flow_caption);
    let mut blocks = vec![Block::Flow(Box::new(FlowView {
        collected: flow_box(l.collected, f.collected),
        excluded,
        eligible: flow_box(l.eligible, f.eligible),
        not_analysed,
        analysed,
        positive: flow_box(pos, f.reference_positive),
        negative: flow_box(neg, f.reference_negative),
        caption,
    }))];
    if let Some(t) = reasons_table {
        blocks.push(Block::Table(t));
    }
    if let Some(text) = note {
        blocks.push(Block::Note { text });
    }
    section(l.flow, blocks)
}

fn baseline(b: &mut Builder) -> Section {
    let (r, l) = (b.r, b.l);
    let bl = &r.baseline;
    let kind_of = |row: &crate::model::BaselineRow| {
        row.values
            .iter()
            .find_map(|v| match v {
                BaselineValue::Count { .. } => Some(l.count_pct),
                BaselineValue::MeanSd { .. } => Some(l.mean_sd),
                BaselineValue::MedianIqr { .. } => Some(l.median_iqr),
                BaselineValue::NotApplicable => None,
            })
            .unwrap_or("")
    };
    // What the numbers are (例数（%）) goes once into the header when every row has the same;
    // only a table that mixes counts with means says it row by row.
    let kinds: std::collections::BTreeSet<&str> = bl.rows.iter().map(kind_of).collect();
    let common = (kinds.len() == 1).then(|| kinds.iter().next().copied().unwrap_or(""));
    let mut columns = vec![col(l.characteristic, "left", 3)];
    columns.extend(bl.groups.iter().map(|g| match common {
        Some(kind) if !kind.is_empty() => col(
            &match b.lang {
                Lang::Ja => format!("{}　{kind}", b.t(g)),
                Lang::En => format!("{}, {kind}", b.t(g)),
            },
            "right",
            2,
        ),
        _ => col(b.t(g), "right", 2),
    }));
    let rows = bl
        .rows
        .iter()
        .map(|row| {
            let kind = if common.is_some() { "" } else { kind_of(row) };
            let text = match &row.level {
                Some(level) => match b.lang {
                    Lang::Ja => format!("{}：{}", b.t(&row.variable), b.t(level)),
                    Lang::En => format!("{}: {}", b.t(&row.variable), b.t(level)),
                },
                None => b.t(&row.variable).to_owned(),
            };
            let mut cells = vec![if kind.is_empty() {
                Cell::new(text)
            } else {
                Cell::new(text).sub(kind)
            }];
            cells.extend(row.values.iter().map(|v| Cell::new(baseline_value(v))));
            cells
        })
        .collect();
    let caption = b.table_caption(l.baseline);
    section(
        l.baseline,
        vec![Block::Table(Table {
            caption: Some(caption),
            columns,
            rows,
            small: false,
            group: 1,
            keep: false,
        })],
    )
}

fn results(b: &mut Builder) -> Section {
    let (r, l, lang) = (b.r, b.l, b.lang);
    let comparator = b.comparator();
    let mut blocks = vec![heading(l.endpoints)];
    // Endpoints on the same analysis set share one 2×2 table: it is printed once and the later
    // endpoints refer to it (one set of counts, shown once).
    let mut shown: Vec<(crate::model::TwoByTwo, String)> = Vec::new();
    for e in &r.endpoints {
        let kind = if e.primary { l.primary } else { l.secondary };
        let estimate = match fraction(e.metric, &e.table) {
            Some(fr) => format!("{}{}", format_value(e.metric, e.estimate), b.paren(&fr)),
            None => format_value(e.metric, e.estimate),
        };
        blocks.push(Block::Subheading {
            text: b.endpoint(&e.id),
        });
        let mut rows = vec![
            b.field(l.kind, kind),
            b.field(l.metric, b.metric(e.metric)),
            Field {
                style: Style::Strong,
                ..b.field(l.estimate, estimate)
            },
        ];
        if let Some(ci) = &e.ci {
            let (method, _) = labels::ci_method(lang, ci.method);
            rows.push(b.field(
                &b.ci_head,
                format!("{}{}", format_interval(e.metric, ci), b.paren(method)),
            ));
        }
        rows.push(
            b.field(
                l.criterion,
                e.acceptance_criterion
                    .as_ref()
                    .map(|c| b.t(c).to_owned())
                    .unwrap_or_else(|| l.no_criterion.to_owned()),
            ),
        );
        if let Some(v) = e.verdict {
            rows.push(Field {
                style: verdict_style(v),
                ..b.field(l.verdict, labels::verdict(lang, v))
            });
        }
        blocks.push(Block::Fields { rows });
        if let Some(t) = &e.table
            && let Some((_, number)) = shown.iter().find(|(seen, _)| seen == t)
        {
            blocks.push(Block::Note {
                text: match lang {
                    Lang::Ja => format!("2×2分割表は{number}に示した。"),
                    Lang::En => format!("The 2×2 table is {number} above."),
                },
            });
        } else if let Some(t) = &e.table {
            let (pos, neg) = if comparator {
                (l.comparator_positive, l.comparator_negative)
            } else {
                (l.reference_positive, l.reference_negative)
            };
            let sharing: Vec<String> = r
                .endpoints
                .iter()
                .filter(|o| o.table.as_ref() == Some(t))
                .map(|o| b.endpoint_short(&o.id))
                .collect();
            let joined = sharing.join(if lang == Lang::Ja { "、" } else { ", " });
            let caption = b.table_caption(&format!("{}{}", l.two_by_two, b.paren(&joined)));
            shown.push((
                *t,
                match lang {
                    Lang::Ja => format!("表{}", b.tables),
                    Lang::En => format!("Table {}", b.tables),
                },
            ));
            let n = t.tp + t.fp + t.fn_ + t.tn;
            let strong = |s: &str| Cell::new(s).style(Style::Strong);
            blocks.push(Block::Table(Table {
                caption: Some(caption),
                columns: vec![
                    col("", "left", 0),
                    col(pos, "right", 0),
                    col(neg, "right", 0),
                    col(l.total, "right", 0),
                ],
                rows: vec![
                    vec![
                        strong(l.device_positive),
                        Cell::new(t.tp.to_string()).sub("TP"),
                        Cell::new(t.fp.to_string()).sub("FP"),
                        Cell::new((t.tp + t.fp).to_string()),
                    ],
                    vec![
                        strong(l.device_negative),
                        Cell::new(t.fn_.to_string()).sub("FN"),
                        Cell::new(t.tn.to_string()).sub("TN"),
                        Cell::new((t.fn_ + t.tn).to_string()),
                    ],
                    vec![
                        strong(l.total),
                        Cell::new((t.tp + t.fn_).to_string()),
                        Cell::new((t.fp + t.tn).to_string()),
                        Cell::new(n.to_string()).style(Style::Strong),
                    ],
                ],
                small: false,
                group: 1,
                keep: false,
            }));
        }
    }
    if !r.roc.is_empty() {
        blocks.push(heading(l.roc));
        for c in &r.roc {
            let auc = match &c.ci {
                Some(ci) => format!(
                    "AUC {}{}",
                    format_value(Metric::Auc, c.auc),
                    b.paren(&format!(
                        "{} {}",
                        b.ci_head,
                        format_interval(Metric::Auc, ci)
                    ))
                ),
                None => format!("AUC {}", format_value(Metric::Auc, c.auc)),
            };
            let counts = match lang {
                Lang::Ja => format!(
                    "{}例（参照標準 陽性{}例、陰性{}例）",
                    c.positives + c.negatives,
                    c.positives,
                    c.negatives
                ),
                Lang::En => format!(
                    "{} cases ({} reference positive, {} negative)",
                    c.positives + c.negatives,
                    c.positives,
                    c.negatives
                ),
            };
            let title = match lang {
                Lang::Ja => format!("{}：{}、{}", b.t(&c.name), auc, counts),
                Lang::En => format!("{}: {}; {}", b.t(&c.name), auc, counts),
            };
            let caption = b.figure_caption(&title);
            blocks.push(Block::Figure {
                svg: svg::roc(c, lang),
                alt: b.t(&c.name).to_owned(),
                caption,
            });
            // DeLong's interval is asymptotic: with few cases of a class it says little, and
            // at AUC 1 it collapses to a point.
            if c.positives < SMALL_CLASS || c.negatives < SMALL_CLASS {
                blocks.push(Block::Note {
                    text: match lang {
                        Lang::Ja => format!(
                            "陽性例又は陰性例が {SMALL_CLASS} 例未満のため、AUC の信頼区間（DeLong 法、漸近近似）は参考値である。"
                        ),
                        Lang::En => format!(
                            "With fewer than {SMALL_CLASS} positive or negative cases, the AUC's interval (DeLong, asymptotic) is indicative only."
                        ),
                    },
                });
            }
        }
    }
    section(l.results, blocks)
}

/// Below this many cases of a class, an AUC's asymptotic interval is flagged as indicative.
const SMALL_CLASS: u64 = 10;

/// A row of the lesion results: label, estimate, formatter, interval method.
type Measure<'a> = (
    &'a str,
    &'a Option<crate::model::LesionEstimate>,
    &'a dyn Fn(f64) -> String,
    &'a str,
);

/// The lesion-level section (only when the report has lesion results): the matching rule,
/// the counts, the figures of merit and operating-point measures with their intervals, and the
/// FROC and AFROC curves.
fn lesions(b: &mut Builder) -> Option<Section> {
    let r = b.r.lesions.as_ref()?;
    let (lang, ll) = (b.lang, labels::lesion_labels(b.lang));
    let pct = |x: f64| format_value(Metric::Sensitivity, x);
    let three = |x: f64| crate::format::fixed(x, 3);
    let rate = |x: f64| crate::format::fixed(x, 2);
    let mut blocks = vec![Block::Para {
        text: ll.method_note.to_owned(),
    }];
    blocks.push(Block::Fields {
        rows: vec![
            b.field(ll.criterion, &r.criterion),
            b.field(ll.k, r.k.to_string()),
            b.field(
                ll.operating_point,
                r.threshold
                    .map(|t| format!("≥ {t}"))
                    .unwrap_or_else(|| ll.every_mark.to_owned()),
            ),
        ],
    });
    let count_row = |label: &str, n: u64| vec![Cell::new(label), Cell::new(n.to_string())];
    let mut rows = vec![
        count_row(ll.cases, r.cases),
        count_row(ll.abnormal_cases, r.abnormal_cases),
        count_row(ll.normal_cases, r.normal_cases),
        count_row(ll.images, r.images),
        count_row(ll.lesions, r.lesions),
        count_row(ll.marks, r.marks),
        count_row(ll.hits, r.hits),
        count_row(ll.false_positives, r.false_positives),
    ];
    for t in &r.lesion_types {
        rows.push(count_row(
            &format!(
                "{}{}",
                ll.lesion_types,
                b.paren(t.lesion_type.as_deref().unwrap_or(ll.no_type))
            ),
            t.count,
        ));
    }
    let caption = b.table_caption(ll.counts);
    blocks.push(Block::Table(Table {
        caption: Some(caption),
        columns: vec![col("", "left", 3), col(b.l.n, "right", 1)],
        rows,
        small: false,
        group: 1,
        keep: false,
    }));
    let ci_text = |e: &crate::model::LesionEstimate, f: &dyn Fn(f64) -> String, method: &str| match (
        e.lower, e.upper,
    ) {
        (Some(lo), Some(hi)) => format!("{}–{}{}", f(lo), f(hi), b.paren(method)),
        _ => "—".to_owned(),
    };
    let mut rows = Vec::new();
    let boot = format!("{}, {}", ll.bootstrap, r.replicates);
    for (label, e) in [(ll.afroc_fom, &r.afroc), (ll.wafroc_fom, &r.wafroc)] {
        rows.push(vec![
            Cell::new(label),
            Cell::new(three(e.estimate)).style(Style::Strong),
            Cell::new(ci_text(e, &three, &boot)),
        ]);
    }
    let measures: [Measure<'_>; 5] = [
        (
            ll.lesion_sensitivity,
            &r.lesion_sensitivity,
            &pct,
            ll.clustered,
        ),
        (ll.fp_per_image, &r.fp_per_image, &rate, ll.clustered),
        (ll.fp_per_case, &r.fp_per_case, &rate, ll.clustered),
        (ll.case_sensitivity, &r.case_sensitivity, &pct, ll.wilson),
        (ll.case_specificity, &r.case_specificity, &pct, ll.wilson),
    ];
    for (label, e, f, method) in measures {
        rows.push(match e {
            Some(e) => vec![
                Cell::new(label),
                Cell::new(f(e.estimate)).style(Style::Strong),
                Cell::new(ci_text(e, f, method)),
            ],
            None => vec![Cell::new(label), Cell::new("—"), Cell::new("—")],
        });
    }
    for (label, v) in [
        (ll.mean_distance, r.mean_distance),
        (ll.median_distance, r.median_distance),
        (ll.mean_iou, r.mean_iou),
        (ll.mean_dice, r.mean_dice),
    ] {
        if let Some(v) = v {
            rows.push(vec![Cell::new(label), Cell::new(three(v)), Cell::new("")]);
        }
    }
    let caption = b.table_caption(ll.results);
    let ci_head = b.ci_head.clone();
    blocks.push(Block::Table(Table {
        caption: Some(caption),
        columns: vec![
            col(b.l.metric, "left", 3),
            col(b.l.estimate, "right", 1),
            col(&ci_head, "right", 2),
        ],
        rows,
        small: false,
        group: 1,
        keep: false,
    }));
    let fom = format!("{} {}", "AFROC FOM", three(r.afroc.estimate));
    for (title, svg, alt) in [
        (
            ll.froc,
            svg::free_response(&r.froc, false, ll.froc_x, ll.llf, ll.froc, None),
            ll.froc,
        ),
        (
            ll.afroc,
            svg::free_response(
                &r.afroc_curve,
                true,
                ll.afroc_x,
                ll.llf,
                &fom,
                Some(b.l.chance),
            ),
            ll.afroc,
        ),
    ] {
        let counts = match lang {
            Lang::Ja => format!("病変{}個、正常症例{}例", r.lesions, r.normal_cases),
            Lang::En => format!("{} lesions, {} normal cases", r.lesions, r.normal_cases),
        };
        let caption = b.figure_caption(&format!("{title}{}", b.paren(&counts)));
        blocks.push(Block::Figure {
            svg,
            caption,
            alt: alt.to_owned(),
        });
    }
    Some(section(ll.section, blocks))
}

/// The MRMC reader-study section (only when the report has one): the AUC of every reader in
/// every modality, the modality means with their intervals, the F test and the difference.
fn reader_study(b: &mut Builder) -> Option<Section> {
    let r = b.r.reader_study.as_ref()?;
    let rl = labels::reader_study_labels(b.lang);
    let auc = |x: f64| format_value(Metric::Auc, x);
    let mut blocks = vec![Block::Para {
        text: rl.note.to_owned(),
    }];
    let mut fields = vec![
        b.field(rl.design, r.modalities.join(" / ")),
        b.field(rl.readers, r.readers.len().to_string()),
        b.field(
            rl.cases,
            format!("{} ({}/{})", r.cases, r.positives, r.negatives),
        ),
    ];
    if r.incomplete_cases > 0 {
        fields.push(b.field(rl.incomplete, r.incomplete_cases.to_string()));
    }
    blocks.push(Block::Fields { rows: fields });
    let mut columns = vec![col(rl.reader, "left", 2)];
    for m in &r.modalities {
        columns.push(col(m, "right", 1));
    }
    let mut rows: Vec<Vec<Cell>> = r
        .readers
        .iter()
        .zip(&r.aucs)
        .map(|(reader, aucs)| {
            std::iter::once(Cell::new(reader))
                .chain(aucs.iter().map(|a| Cell::new(auc(*a))))
                .collect()
        })
        .collect();
    rows.push(
        std::iter::once(Cell::new(rl.mean).style(Style::Strong))
            .chain(r.modality_aucs.iter().map(|e| {
                let cell = Cell::new(auc(e.estimate)).style(Style::Strong);
                match (e.lower, e.upper) {
                    (Some(lo), Some(hi)) => cell.sub(format!("{}–{}", auc(lo), auc(hi))),
                    _ => cell,
                }
            }))
            .collect(),
    );
    let caption = b.table_caption(rl.table);
    blocks.push(Block::Table(Table {
        caption: Some(caption),
        columns,
        rows,
        small: false,
        group: 1,
        keep: false,
    }));
    let mut test = Vec::new();
    if let Some(f) = r.f {
        test.push(b.field(
            rl.test,
            format!(
                "F = {}, df = {}, {}{}",
                crate::format::fixed(f, 3),
                crate::format::fixed(r.df1, 0),
                r.df2
                    .map(|d| crate::format::fixed(d, 2))
                    .unwrap_or_else(|| "∞".into()),
                r.p_value
                    .map(|p| format!(
                        ", p {}",
                        if p < 0.0001 {
                            "< 0.0001".to_owned()
                        } else {
                            format!("= {}", crate::format::fixed(p, 4))
                        }
                    ))
                    .unwrap_or_default()
            ),
        ));
    }
    if let (Some(d), [first, second, ..]) = (&r.difference, r.modalities.as_slice()) {
        let ci = match (d.lower, d.upper) {
            (Some(lo), Some(hi)) => format!(
                "{}{}",
                crate::format::fixed(d.estimate, 3),
                b.paren(&format!(
                    "{} {} to {}",
                    b.ci_head,
                    crate::format::fixed(lo, 3),
                    crate::format::fixed(hi, 3)
                ))
            ),
            _ => crate::format::fixed(d.estimate, 3),
        };
        test.push(b.field(
            &format!(
                "{}{}",
                rl.difference,
                b.paren(&format!("{first} − {second}"))
            ),
            ci,
        ));
    }
    if !test.is_empty() {
        blocks.push(Block::Fields { rows: test });
    }
    if !r.reading_times.is_empty() {
        let seconds = |x: f64| crate::format::fixed(x, 1);
        let caption = b.table_caption(rl.times);
        blocks.push(Block::Table(Table {
            caption: Some(caption),
            columns: vec![
                col(rl.condition, "left", 1),
                col(rl.reader, "left", 1),
                col(rl.reads, "right", 1),
                col(rl.mean_time, "right", 1),
                col(rl.median_time, "right", 1),
            ],
            rows: r
                .reading_times
                .iter()
                .map(|t| {
                    let strong = |c: Cell| {
                        if t.reader.is_none() {
                            c.style(Style::Strong)
                        } else {
                            c
                        }
                    };
                    vec![
                        strong(Cell::new(&t.modality)),
                        strong(Cell::new(t.reader.as_deref().unwrap_or(rl.all_readers))),
                        strong(Cell::new(t.reads.to_string())),
                        strong(Cell::new(seconds(t.mean_seconds))),
                        strong(Cell::new(seconds(t.median_seconds))),
                    ]
                })
                .collect(),
            small: false,
            group: 1,
            keep: false,
        }));
    }
    if !r.reader_lesions.is_empty() {
        let caption = b.table_caption(rl.lesions);
        let fixed = |x: Option<f64>, digits: usize| {
            x.map_or_else(
                || rl.not_estimable.to_owned(),
                |v| crate::format::fixed(v, digits),
            )
        };
        blocks.push(Block::Table(Table {
            caption: Some(caption),
            columns: vec![
                col(rl.reader, "left", 1),
                col(rl.condition, "left", 1),
                col(rl.cases, "right", 1),
                col(rl.wafroc, "right", 1),
                col(rl.lesion_sensitivity, "right", 1),
                col(rl.nl_per_image, "right", 1),
            ],
            rows: r
                .reader_lesions
                .iter()
                .map(|x| {
                    let fom = match &x.wafroc {
                        None => Cell::new(rl.not_estimable),
                        Some(e) => {
                            let cell = Cell::new(crate::format::fixed(e.estimate, 3));
                            match (e.lower, e.upper) {
                                (Some(lo), Some(hi)) => cell.sub(format!(
                                    "{}–{}",
                                    crate::format::fixed(lo, 3),
                                    crate::format::fixed(hi, 3)
                                )),
                                _ => cell,
                            }
                        }
                    };
                    vec![
                        Cell::new(&x.reader),
                        Cell::new(&x.modality),
                        Cell::new(x.cases.to_string()),
                        fom,
                        Cell::new(fixed(x.lesion_sensitivity, 3)),
                        Cell::new(fixed(x.nl_per_image, 3)),
                    ]
                })
                .collect(),
            small: false,
            group: 1,
            keep: false,
        }));
    }
    if !r.warnings.is_empty() {
        blocks.push(Block::Subheading {
            text: rl.warnings.to_owned(),
        });
        blocks.push(Block::Bullets {
            items: r.warnings.iter().map(|w| b.t(w).to_owned()).collect(),
        });
    }
    Some(section(rl.section, blocks))
}

fn estimate_rows(b: &Builder, metric: Metric, estimate: f64, ci: &Option<Interval>) -> [Cell; 3] {
    [
        Cell::new(b.metric(metric)),
        Cell::new(format_value(metric, estimate)).style(Style::Strong),
        Cell::new(b.ci(metric, ci)),
    ]
}

fn empty_note(b: &Builder) -> Block {
    Block::Para {
        text: b.l.none.to_owned(),
    }
}

fn subgroups(b: &mut Builder) -> Section {
    let (r, l) = (b.r, b.l);
    if r.subgroups.is_empty() {
        return section(l.subgroups, vec![empty_note(b)]);
    }
    let rows = r
        .subgroups
        .iter()
        .map(|s| {
            let mut cells = vec![
                Cell::new(
                    s.endpoint
                        .as_deref()
                        .map_or_else(|| b.metric(s.metric), |id| b.endpoint(id)),
                ),
                Cell::new(b.t(&s.variable)),
                Cell::new(b.t(&s.level)),
                Cell::new(s.cases.unwrap_or(s.n).to_string()),
            ];
            // The endpoint's label names the metric; the estimate carries its fraction.
            match s.estimate {
                Some(estimate) => {
                    let [_, value, ci] = estimate_rows(b, s.metric, estimate, &s.ci);
                    let value = match s.x {
                        Some(x) if s.metric.is_proportion() => value.sub(format!("{x}/{}", s.n)),
                        _ => value,
                    };
                    cells.extend([value, ci]);
                }
                None => cells.extend([
                    Cell::new(l.not_estimable).sub(format!("0/{}", s.n)),
                    Cell::new("—"),
                ]),
            }
            cells
        })
        .collect();
    let caption = b.table_caption(l.subgroups);
    let ci_head = b.ci_head.clone();
    section(
        l.subgroups,
        vec![Block::Table(Table {
            caption: Some(caption),
            columns: vec![
                col(l.endpoint, "left", 3),
                col(l.variable, "left", 2),
                col(l.level, "left", 2),
                col(l.analysed_n, "right", 0),
                col(l.estimate, "right", 0),
                col(&ci_head, "right", 0),
            ],
            rows,
            small: true,
            group: 1,
            keep: false,
        })],
    )
}

fn sensitivity(b: &mut Builder) -> Section {
    let (r, l) = (b.r, b.l);
    if r.sensitivity_analyses.is_empty() {
        return section(l.sensitivity_analyses, vec![empty_note(b)]);
    }
    let rows = r
        .sensitivity_analyses
        .iter()
        .map(|s| {
            let mut cells = vec![
                Cell::new(
                    s.endpoint
                        .as_deref()
                        .map_or_else(|| b.metric(s.metric), |id| b.endpoint(id)),
                ),
                Cell::new(b.t(&s.analysis)),
                Cell::new(s.n.to_string()),
            ];
            match s.estimate {
                Some(estimate) => {
                    let [_, value, ci] = estimate_rows(b, s.metric, estimate, &s.ci);
                    cells.extend([value, ci, b.verdict_cell(s.verdict)]);
                }
                None => cells.extend([
                    Cell::new(l.not_estimable),
                    Cell::new("—"),
                    b.verdict_cell(s.verdict),
                ]),
            }
            cells
        })
        .collect();
    let caption = b.table_caption(l.sensitivity_analyses);
    let ci_head = b.ci_head.clone();
    section(
        l.sensitivity_analyses,
        vec![Block::Table(Table {
            caption: Some(caption),
            columns: vec![
                col(l.endpoint, "left", 3),
                col(l.analysis, "left", 4),
                col(l.n, "right", 0),
                col(l.estimate, "right", 0),
                col(&ci_head, "right", 0),
                col(l.verdict, "center", 0),
            ],
            rows,
            small: true,
            group: 1,
            keep: false,
        })],
    )
}

/// How many of a finding's cases its row names (the evidence package lists them all).
const CASES_NAMED: usize = 20;

fn findings(b: &mut Builder) -> Section {
    let (r, l, lang) = (b.r, b.l, b.lang);
    let mut blocks = vec![Block::Para {
        text: l.findings_intro.into(),
    }];
    if !r.rule_decisions.is_empty() {
        blocks.push(Block::Para {
            text: l.rule_decisions_intro.into(),
        });
        let rows = r
            .rule_decisions
            .iter()
            .map(|d| {
                vec![
                    Cell::new(d.rule_name.as_ref().map_or(d.rule.as_str(), |n| b.t(n)))
                        .sub(format!("{} · {}", d.rule, d.clause)),
                    Cell::new(format!("{} ({})", d.findings, d.cases)),
                    Cell::new(labels::decision(lang, d.decision)).style(Style::Strong),
                    Cell::new(b.t(&d.reason)),
                    Cell::new(format!("{} ({})", d.at, d.actor)).sub(format!("#{}", d.ledger_seq)),
                ]
            })
            .collect();
        let caption = b.table_caption(l.rule_decisions);
        blocks.push(Block::Table(Table {
            caption: Some(caption),
            columns: vec![
                col(l.finding, "left", 3),
                col(l.findings_count, "right", 2),
                col(l.decision, "left", 2),
                col(l.reason, "left", 5),
                col(l.decided_at, "left", 3),
            ],
            rows,
            small: true,
            group: 1,
            keep: false,
        }));
    }
    if r.findings.is_empty() {
        if r.rule_decisions.is_empty() {
            blocks.push(empty_note(b));
        }
        return section(l.findings, blocks);
    }
    let rows = r
        .findings
        .iter()
        .map(|f| {
            vec![
                Cell::new(&f.id).sub(format!(
                    "{} · {}",
                    f.rule_name.as_ref().map_or(f.rule.as_str(), |n| b.t(n)),
                    f.clause
                )),
                Cell::new(lang.first_named(&f.case_ids, CASES_NAMED)),
                Cell::new(b.t(&f.description)).sub(format!(
                    "{}: {}",
                    l.severity,
                    labels::severity(lang, f.severity)
                )),
                Cell::new(match f.decision {
                    Some(decision) => labels::decision(lang, decision),
                    None => labels::open_finding(lang),
                })
                .style(Style::Strong),
                Cell::new(if f.history.len() > 1 {
                    // Every decision, in order: a query and the answer's decision both stay.
                    f.history
                        .iter()
                        .map(|h| {
                            format!(
                                "{} {} ({}): {}",
                                h.at,
                                labels::decision(lang, h.decision),
                                h.actor,
                                b.t(&h.reason)
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(" / ")
                } else {
                    b.t(&f.reason).to_owned()
                }),
            ]
        })
        .collect();
    let caption = b.table_caption(l.findings);
    blocks.push(Block::Table(Table {
        caption: Some(caption),
        columns: vec![
            col(l.finding, "left", 3),
            col(l.case_ids, "left", 2),
            col(l.description, "left", 5),
            col(l.decision, "left", 2),
            col(l.reason, "left", 5),
        ],
        rows,
        small: true,
        group: 1,
        keep: false,
    }));
    section(l.findings, blocks)
}

fn amendments(b: &mut Builder) -> Section {
    let (r, l) = (b.r, b.l);
    if r.amendments.is_empty() {
        return section(l.amendments, vec![empty_note(b)]);
    }
    let rows = r
        .amendments
        .iter()
        .map(|a| {
            vec![
                Cell::new(a.seq.to_string()),
                Cell::new(&a.date),
                Cell::new(b.t(&a.change)),
                Cell::new(b.t(&a.reason)),
                Cell::new(if a.before_unblinding { l.yes } else { l.no }),
                Cell::new(a.ledger_seq.to_string()),
            ]
        })
        .collect();
    let caption = b.table_caption(l.amendments);
    section(
        l.amendments,
        vec![Block::Table(Table {
            caption: Some(caption),
            columns: vec![
                col(l.seq, "right", 0),
                col(l.date, "left", 0),
                col(l.change, "left", 4),
                col(l.reason, "left", 4),
                col(l.before_unblinding, "center", 2),
                col(l.ledger_seq, "right", 0),
            ],
            rows,
            small: true,
            group: 1,
            keep: false,
        })],
    )
}

fn deviations(b: &mut Builder) -> Section {
    let (r, l) = (b.r, b.l);
    if r.deviations.is_empty() {
        return section(l.deviations, vec![empty_note(b)]);
    }
    let rows = r
        .deviations
        .iter()
        .enumerate()
        .map(|(i, d)| {
            vec![
                Cell::new((i + 1).to_string()),
                Cell::new(b.t(&d.description)),
                Cell::new(if d.case_ids.is_empty() {
                    "—".to_owned()
                } else {
                    d.case_ids.join(", ")
                }),
                Cell::new(match d.ledger_seq {
                    Some(seq) => format!("#{seq}"),
                    None => l.found_by_kizon.to_owned(),
                }),
            ]
        })
        .collect();
    let caption = b.table_caption(l.deviations);
    section(
        l.deviations,
        vec![Block::Table(Table {
            caption: Some(caption),
            columns: vec![
                col("#", "right", 0),
                col(l.description, "left", 6),
                col(l.case_ids, "left", 2),
                col(l.recorded_at, "left", 0),
            ],
            rows,
            small: true,
            group: 1,
            keep: false,
        })],
    )
}

fn plan(b: &mut Builder) -> Section {
    let (r, l) = (b.r, b.l);
    let rows = r
        .regulatory_plan
        .lines
        .iter()
        .map(|p| {
            vec![
                Cell::new(b.t(&p.item)).style(Style::Strong),
                Cell::new(b.t(&p.value)),
                Cell::new(&p.clause),
            ]
        })
        .collect();
    let caption = b.table_caption(l.regulatory_plan);
    section(
        l.regulatory_plan,
        vec![Block::Table(Table {
            caption: Some(caption),
            columns: vec![
                col(l.plan_item, "left", 2),
                col(l.plan_value, "left", 5),
                col(l.clause, "left", 0),
            ],
            rows,
            small: false,
            group: 1,
            keep: false,
        })],
    )
}

fn traceability(b: &mut Builder) -> Section {
    let (r, l) = (b.r, b.l);
    let mut rows = Vec::new();
    for t in &r.traceability {
        rows.push(vec![
            Cell::new(b.t(&t.item)),
            Cell::new(&t.value).style(Style::Strong),
            Cell::new(&t.analysis_id).style(Style::Mono),
            match &t.endpoint_id {
                Some(id) => Cell::new(b.endpoint(id)).sub(id),
                None => Cell::new("—"),
            },
            Cell::new(t.ledger_seq.to_string()),
        ]);
        rows.push(vec![
            Cell::new(format!("{}: {}", l.case_list_sha256, t.case_list_sha256))
                .style(Style::Mono)
                .span(5),
        ]);
    }
    let caption = b.table_caption(l.traceability);
    let mut sec = section(
        l.traceability,
        vec![
            Block::Para {
                text: l.traceability_intro.into(),
            },
            Block::Table(Table {
                caption: Some(caption),
                columns: vec![
                    col(l.item, "left", 4),
                    col(l.value, "right", 0),
                    col(l.analysis_id, "left", 2),
                    col(l.endpoint, "left", 0),
                    col(l.ledger_seq, "right", 0),
                ],
                rows,
                small: true,
                group: 2,
                keep: false,
            }),
        ],
    );
    // The appendix heading carries its own "Appendix A" / "付録A" and is not numbered.
    sec.appendix = true;
    sec
}

/// Appendix B, the 症例一覧表 (Q10): every case collected, included or excluded with its
/// reason, its reference standard, the device's result and whether they agree.
fn case_list(b: &mut Builder) -> Section {
    let (r, l, lang) = (b.r, b.l, b.lang);
    let label = |code: &Option<String>| -> String {
        match (code.as_deref(), lang) {
            (Some("positive"), Lang::Ja) => "陽性".into(),
            (Some("negative"), Lang::Ja) => "陰性".into(),
            (Some("indeterminate"), Lang::Ja) => "判定不能".into(),
            (Some(other), _) => other.into(),
            (None, _) => "—".into(),
        }
    };
    let rows = r
        .case_list
        .iter()
        .map(|c| {
            let device = match (&c.device, c.device_score) {
                (Some(_), Some(score)) => Cell::new(label(&c.device)).sub(format!("{score}")),
                (None, Some(score)) => Cell::new(format!("{score}")),
                _ => Cell::new(label(&c.device)),
            };
            vec![
                Cell::new(&c.case_id),
                Cell::new(b.t(&c.provider)),
                Cell::new(b.t(&c.data_kinds)),
                Cell::new(if c.acquisition_date.is_empty() {
                    "—"
                } else {
                    &c.acquisition_date
                }),
                match &c.exclusion_reason {
                    Some(reason) if !c.included => Cell::new(l.excluded).sub(b.t(reason)),
                    _ if !c.included => Cell::new(l.excluded),
                    _ => Cell::new(l.included),
                },
                Cell::new(label(&c.reference)),
                device,
                Cell::new(match c.agreement {
                    Some(true) => l.agree,
                    Some(false) => l.disagree,
                    None => "—",
                }),
            ]
        })
        .collect();
    let caption = b.table_caption(l.case_list);
    let mut sec = section(
        l.case_list,
        vec![
            Block::Para {
                text: l.case_list_intro.into(),
            },
            Block::Table(Table {
                caption: Some(caption),
                columns: vec![
                    col(l.case_ids, "left", 0),
                    col(l.provider, "left", 2),
                    col(l.data_kind, "left", 0),
                    col(l.acquired, "left", 0),
                    col(l.inclusion_status, "left", 3),
                    col(l.reference_short, "left", 0),
                    col(l.device_short, "left", 0),
                    col(l.agreement, "left", 0),
                ],
                rows,
                small: true,
                group: 1,
                keep: false,
            }),
        ],
    );
    sec.appendix = true;
    sec
}

#[cfg(test)]
mod tests {
    use super::parse_date;

    #[test]
    fn dates_are_real_calendar_dates() {
        assert!(parse_date("2026-11-25").is_some());
        assert!(parse_date("2024-02-29").is_some());
        assert!(parse_date("2025-02-29").is_none());
        assert!(parse_date("2026-13-01").is_none());
        assert!(parse_date("2026-1-01").is_none());
        assert!(parse_date("２０２６-11-25").is_none());
    }
}
