//! The pages, server-rendered with maud (which escapes every interpolated value). Forms work
//! without JavaScript; the only script-free enhancement is the viewer's window/level form.

use axum::http::StatusCode;
use axum::response::Html;
use kizon_app::access::{Account, Permission, Role};
use kizon_app::acting::ProvidersView;
use kizon_app::analyze::Analysis;
use kizon_app::check::{FindingFilter, FindingPage};
use kizon_app::providers::EvidenceKind;
use kizon_app::reading::{HeldMark, ReadingCase, SessionState, SessionStatus};
use kizon_app::workspace::{
    BlindedItem, ChannelPreview, ItemPage, Overview, OwnRead, StepState, WorklistCase,
};
use kizon_app::{FindingStatus, Item, ItemKind, Label, Lang, LedgerEntry, Severity};
use maud::{DOCTYPE, Markup, PreEscaped, html};

pub const STYLE: &str = include_str!("style.css");
/// The reading page's script (no build chain: plain JavaScript served from the binary).
pub const READING_SCRIPT: &str = include_str!("reading.js");

/// What every page of a signed-in user needs.
pub struct Ctx<'a> {
    pub lang: Lang,
    pub account: &'a Account,
    pub csrf: &'a str,
    /// The page's own path, for the language switch.
    pub path: &'a str,
}

fn nav(ctx: &Ctx<'_>) -> Markup {
    let l = ctx.lang;
    let a = ctx.account;
    html! {
        nav {
            @if a.may(Permission::ViewStudy) {
                a href="/" { (l.pick("概要", "Overview")) }
                a href="/providers" { (l.pick("提供元・根拠資料", "Providers")) }
                a href="/items" { (l.pick("症例・データ", "Items")) }
                a href="/findings" { (l.pick("疑義", "Findings")) }
            }
            @if a.may(Permission::Read) {
                a href="/reading" { (l.pick("読影", "Reading")) }
            }
            @if a.may(Permission::ViewResults) {
                a href="/analysis" { (l.pick("解析・報告書", "Analysis")) }
            }
            @if a.may(Permission::ViewAudit) {
                a href="/audit" { (l.pick("監査証跡", "Audit log")) }
            }
            @if a.may(Permission::ManageUsers) {
                a href="/users" { (l.pick("利用者", "Users")) }
            }
            span.who { (a.name) " (" (l.pick(a.role.name_ja(), a.role.as_str())) ")" }
            a.lang href={ (ctx.path) (if ctx.path.contains('?') { "&" } else { "?" }) "lang=" (if l == Lang::Ja { "en" } else { "ja" }) } {
                (l.pick("English", "日本語"))
            }
            form.inline method="post" action="/logout" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                button type="submit" { (l.pick("ログアウト", "Sign out")) }
            }
        }
    }
}

fn page(lang: Lang, title: &str, nav: Option<Markup>, body: Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang=(lang.as_str()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " — kizon" }
                    link rel="stylesheet" href="/static/style.css";
                }
                body {
                    header { span.brand { "kizon 既存" } @if let Some(nav) = nav { (nav) } }
                    main { h1 { (title) } (body) }
                }
            }
        }
        .into_string(),
    )
}

/// A page of a signed-in user.
pub fn signed_in(ctx: &Ctx<'_>, title: &str, body: Markup) -> Html<String> {
    page(ctx.lang, title, Some(nav(ctx)), body)
}

pub fn error_page(status: StatusCode, message: &str, hint: &str) -> Html<String> {
    page(
        Lang::Ja,
        &format!(
            "{} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        ),
        None,
        html! {
            p.error { (message) }
            @if !hint.is_empty() { p.hint { (hint) } }
            p { a href="/" { "← 概要 / Overview" } }
        },
    )
}

pub fn login(lang: Lang, login_token: &str, failed: bool) -> Html<String> {
    page(
        lang,
        lang.pick("ログイン", "Sign in"),
        None,
        html! {
            @if failed { p.error #login-error { (lang.pick("利用者名またはパスワードが違います。", "Wrong user name or password.")) } }
            form.card method="post" action="/login" {
                input type="hidden" name="login_token" value=(login_token);
                label { (lang.pick("利用者名", "User name")) input #name type="text" name="name" autocomplete="username" required; }
                label { (lang.pick("パスワード", "Password")) input #password type="password" name="password" autocomplete="current-password" required; }
                button #sign-in type="submit" { (lang.pick("ログイン", "Sign in")) }
            }
            p { a href={ "/login?lang=" (if lang == Lang::Ja { "en" } else { "ja" }) } { (lang.pick("English", "日本語")) } }
        },
    )
}

/// A vocabulary word's name in the page's language (`EvidenceKind::names` and the like).
fn named<'a>(lang: Lang, (ja, en): (&'a str, &'a str)) -> &'a str {
    lang.pick(ja, en)
}

fn state_label(lang: Lang, state: StepState) -> (&'static str, &'static str) {
    match state {
        StepState::Done => ("done", lang.pick("完了", "done")),
        StepState::InProgress => ("progress", lang.pick("進行中", "in progress")),
        StepState::NotStarted => ("todo", lang.pick("未着手", "not started")),
        StepState::Blocked => ("blocked", lang.pick("前提未了", "blocked")),
    }
}

pub fn overview(ctx: &Ctx<'_>, overview: &Overview) -> Html<String> {
    let l = ctx.lang;
    signed_in(
        ctx,
        l.pick("試験の概要", "Study overview"),
        html! {
            p { strong { (overview.title) } " · " (overview.study_id) " · " (overview.sponsor) }
            @if let Some(plan) = &overview.plan {
                table #plan {
                    tr { th { (l.pick("試験の区分（Q4・Q5）", "Test type (Q4, Q5)")) } td { (plan.test_type) } }
                    tr { th { (l.pick("申請区分", "Application category")) } td { (plan.application_category.unwrap_or("-")) } }
                    tr { th { (l.pick("計画書の相談（Q10）", "Protocol consultation (Q10)")) } td { (plan.protocol_consultation) } }
                    tr { th { (l.pick("適用するQ&A", "Q&A applied")) } td { (l.pick(plan.rules_ja, plan.rules_en)) } }
                }
            }
            p.muted { (l.pick("監査証跡のエントリー数", "Ledger entries")) ": " (overview.ledger_entries) }
            table #steps {
                thead { tr { th { (l.pick("段階", "Step")) } th { (l.pick("状態", "State")) } th { (l.pick("内容", "Detail")) } th { (l.pick("次の固定を妨げるもの", "What blocks the next lock")) } } }
                tbody {
                    @for step in &overview.steps {
                        @let (class, label) = state_label(l, step.state);
                        tr {
                            td { (l.pick(step.name_ja, step.name_en)) }
                            td { span class={ "state " (class) } { (label) } }
                            td { (l.pick(&step.detail_ja, &step.detail_en)) }
                            td { @for blocker in &step.blockers { div { (blocker) } } }
                        }
                    }
                }
            }
        },
    )
}

pub fn providers(
    ctx: &Ctx<'_>,
    view: &ProvidersView,
    can_upload: bool,
    kinds: &[EvidenceKind],
) -> Html<String> {
    let l = ctx.lang;
    let (providers, evidence) = (&view.providers, &view.evidence);
    let keys_of = |name: &str| -> Vec<String> {
        view.keys
            .iter()
            .filter(|k| k.provider == name)
            .map(|k| format!("{}…", &k.public_key[..16]))
            .collect()
    };
    let handovers_of = |name: &str| -> (usize, i64, i64) {
        view.handovers
            .iter()
            .filter(|h| h.provider == name)
            .fold((0, 0, 0), |(n, f, q), h| {
                (n + 1, f + h.files, q + h.quarantined)
            })
    };
    signed_in(
        ctx,
        l.pick("データ提供元と根拠資料", "Providers and evidence"),
        html! {
            table #providers {
                thead { tr {
                    th { (l.pick("提供元", "Provider")) } th { (l.pick("種別", "Kind")) } th { (l.pick("同意の形態", "Consent model")) } th { (l.pick("法的根拠", "Legal basis")) }
                    th { (l.pick("署名鍵", "Signing key")) } th { (l.pick("署名付き提供データ（仮名加工済み）", "Signed, de-identified hand-overs")) }
                } }
                tbody { @for p in providers.iter() {
                    @let keys = keys_of(&p.name);
                    @let (received, files, kept_back) = handovers_of(&p.name);
                    tr {
                        td { (p.name) } td { (named(l, p.kind.names())) } td { (named(l, p.consent_model.names())) } td { (p.legal_basis) }
                        td.hash { @if keys.is_empty() { (l.pick("未登録（署名なしで受領）", "none (data arrives unsigned)")) } @else { (keys.join(", ")) } }
                        td { @if received == 0 { "—" } @else {
                            (l.pick(&format!("{received} 件、{files} ファイル（提供元で隔離 {kept_back}）"), &format!("{received}, {files} files ({kept_back} kept back in the provider's quarantine)")))
                        } }
                    }
                } }
            }
            h2 { (l.pick("根拠資料（Q6・Q9）", "Evidence documents (Q6, Q9)")) }
            table #evidence {
                thead { tr { th { (l.pick("提供元", "Provider")) } th { (l.pick("種類", "Kind")) } th { (l.pick("ファイル", "File")) } th { "SHA-256" } th { (l.pick("監査証跡", "Ledger")) } } }
                tbody { @for e in evidence { tr { td { (e.provider) } td { (named(l, e.kind.names())) } td { (e.file_name) } td.hash { (&e.document[..16]) "…" } td { "#" (e.ledger_seq) } } } }
            }
            @if can_upload && !providers.is_empty() {
                h2 { (l.pick("根拠資料の登録", "Add an evidence document")) }
                form.card method="post" action="/evidence" enctype="multipart/form-data" {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    label { (l.pick("提供元", "Provider")) select name="provider" { @for p in providers { option value=(p.name) { (p.name) } } } }
                    label { (l.pick("種類", "Kind")) select name="kind" { @for k in kinds { option value=(k) { (named(l, k.names())) } } } }
                    label { (l.pick("備考", "Note")) input type="text" name="note"; }
                    label { (l.pick("ファイル", "File")) input #evidence-file type="file" name="file" required; }
                    button type="submit" { (l.pick("登録", "Add")) }
                }
            }
        },
    )
}

/// Filters of the item list, as the query string gives them.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ItemFilters {
    pub kind: Option<String>,
    pub provider: Option<String>,
    pub case: Option<String>,
    pub q: Option<String>,
    pub page: Option<u64>,
}

impl ItemFilters {
    fn query(&self, page: u64) -> String {
        let mut parts = vec![format!("page={page}")];
        for (key, value) in [
            ("kind", &self.kind),
            ("provider", &self.provider),
            ("case", &self.case),
            ("q", &self.q),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                parts.push(format!("{key}={}", encode(value)));
            }
        }
        parts.join("&")
    }
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn items(
    ctx: &Ctx<'_>,
    page: &ItemPage,
    filters: &ItemFilters,
    providers: &[String],
    kinds: &[ItemKind],
) -> Html<String> {
    let l = ctx.lang;
    let current = page.offset / page.limit.max(1) + 1;
    let pages = page.total.div_ceil(page.limit.max(1)).max(1);
    let selected = |value: &Option<String>, option: &str| value.as_deref() == Some(option);
    signed_in(
        ctx,
        l.pick("症例とデータ", "Cases and items"),
        html! {
            form.filters method="get" action="/items" {
                select name="kind" { option value="" { (l.pick("すべての種類", "all kinds")) } @for k in kinds { option value=(k) selected[selected(&filters.kind, k.as_str())] { (k) } } }
                select name="provider" { option value="" { (l.pick("すべての提供元", "all providers")) } @for p in providers { option value=(p) selected[selected(&filters.provider, p)] { (p) } } }
                input type="text" name="case" placeholder=(l.pick("症例ID", "case id")) value=[filters.case.as_deref()];
                input type="search" name="q" placeholder=(l.pick("パス・症例IDを検索", "search path or case id")) value=[filters.q.as_deref()];
                button type="submit" { (l.pick("絞り込み", "Filter")) }
            }
            p #item-count { (page.total) " " (l.pick("件", "items")) " · " (l.pick("ページ", "page")) " " (current) " / " (pages) }
            table #items {
                thead { tr { th { "#" } th { (l.pick("症例", "Case")) } th { (l.pick("種類", "Kind")) } th { (l.pick("モダリティ", "Modality")) } th { (l.pick("提供元", "Provider")) } th { (l.pick("パス", "Path")) } } }
                tbody {
                    @for item in &page.items {
                        tr {
                            td { a href={ "/items/" (item.id) } { (item.id) } }
                            td { a href={ "/items?case=" (encode(&item.case_id)) } { (item.case_id) } }
                            td { (item.kind) }
                            td { (item.metadata.modality.as_deref().unwrap_or_default()) }
                            td { (item.provider) }
                            td.path { (item.path) }
                        }
                    }
                }
            }
            p.pager {
                @if current > 1 { a rel="prev" href={ "/items?" (filters.query(current - 1)) } { "← " (l.pick("前", "previous")) } " " }
                @if current < pages { a rel="next" href={ "/items?" (filters.query(current + 1)) } { (l.pick("次", "next")) " →" } }
            }
        },
    )
}

/// Viewer parameters of an image.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ViewerQuery {
    pub frame: Option<u32>,
    /// The page of a waveform on paper (from 0).
    pub page: Option<u32>,
    pub wc: Option<f64>,
    pub ww: Option<f64>,
}

impl ViewerQuery {
    pub fn png_query(&self) -> String {
        let mut query = format!("frame={}", self.frame.unwrap_or(0));
        if let (Some(wc), Some(ww)) = (self.wc, self.ww) {
            query.push_str(&format!("&wc={wc}&ww={ww}"));
        }
        query
    }
}

fn viewer(lang: Lang, action: &str, id: i64, frames: u32, query: &ViewerQuery) -> Markup {
    html! {
        div.viewer {
            img #frame src={ "/items/" (id) "/frame.png?" (query.png_query()) } alt=(lang.pick("画像", "image"));
            form.filters method="get" action=(action) {
                @if frames > 1 {
                    label { (lang.pick("フレーム", "Frame")) input type="number" name="frame" min="0" max=(frames - 1) value=(query.frame.unwrap_or(0)); }
                }
                label { (lang.pick("ウィンドウ中心", "Window centre")) input type="number" step="any" name="wc" value=[query.wc]; }
                label { (lang.pick("ウィンドウ幅", "Window width")) input type="number" step="any" name="ww" value=[query.ww]; }
                button type="submit" { (lang.pick("表示", "Show")) }
            }
        }
    }
}

/// A page of a waveform on its paper (kizon-app `paper`): millimetre grid (1 mm and 5 mm lines
/// for ECG paper, 1 s lines for EEG), one band per channel, drawn at the paper's speed and gain;
/// sizes in millimetres, so the page prints at true scale. Presentation attributes only (the
/// CSP allows no inline style).
pub fn paper_svg(lang: Lang, page: &kizon_app::paper::PaperPage, link: &str) -> Markup {
    use kizon_app::paper::Paper;
    use std::fmt::Write;
    let paper = page.paper;
    let width = page.seconds * paper.mm_per_second();
    let band = paper.band_mm();
    let height = band * page.channels.len().max(1) as f64;
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="paper" viewBox="0 0 {width} {height}" width="{width}mm" height="{height}mm" role="img"><rect width="{width}" height="{height}" fill="#fffdfb"/>"##
    );
    let line = |svg: &mut String, x1: f64, y1: f64, x2: f64, y2: f64, colour: &str, w: f64| {
        let _ = write!(
            svg,
            r#"<line x1="{x1:.2}" y1="{y1:.2}" x2="{x2:.2}" y2="{y2:.2}" stroke="{colour}" stroke-width="{w}"/>"#
        );
    };
    match paper {
        Paper::Ecg | Paper::Other => {
            for mm in 0..=(width as usize) {
                let (colour, w) = if mm % 5 == 0 {
                    ("#e8a0a0", 0.2)
                } else {
                    ("#f6d5d5", 0.08)
                };
                line(&mut svg, mm as f64, 0.0, mm as f64, height, colour, w);
            }
            for mm in 0..=(height as usize) {
                let (colour, w) = if mm % 5 == 0 {
                    ("#e8a0a0", 0.2)
                } else {
                    ("#f6d5d5", 0.08)
                };
                line(&mut svg, 0.0, mm as f64, width, mm as f64, colour, w);
            }
        }
        Paper::Eeg => {
            let per_s = paper.mm_per_second();
            let mut t = 0.0;
            while t <= page.seconds + 1e-9 {
                let whole = (t - t.round()).abs() < 1e-9;
                let (colour, w) = if whole {
                    ("#9fb3c8", 0.25)
                } else {
                    ("#dde6ef", 0.1)
                };
                line(&mut svg, t * per_s, 0.0, t * per_s, height, colour, w);
                t += 0.2;
            }
            for k in 0..=page.channels.len() {
                line(
                    &mut svg,
                    0.0,
                    k as f64 * band,
                    width,
                    k as f64 * band,
                    "#dde6ef",
                    0.1,
                );
            }
        }
    }
    for (k, channel) in page.channels.iter().enumerate() {
        let middle = k as f64 * band + band / 2.0;
        let mut points = String::new();
        for &(t, mm) in &channel.points {
            // A large deflection runs into the neighbouring band, as on paper; only the sheet's
            // edge stops it.
            let y = (middle - mm).clamp(0.0, height);
            let _ = write!(points, "{:.2},{:.2} ", t * paper.mm_per_second(), y);
        }
        let mut label = String::new();
        let _ = write!(
            maud::Escaper::new(&mut label),
            "{}{}",
            channel.label,
            if channel.calibrated { "" } else { " (auto)" }
        );
        let _ = write!(
            svg,
            r##"<polyline points="{points}" fill="none" stroke="#111" stroke-width="0.25" stroke-linejoin="round"/><text x="1" y="{:.1}" font-size="3">{label}</text>"##,
            k as f64 * band + 3.5
        );
    }
    svg.push_str("</svg>");
    let scale = match paper {
        Paper::Ecg => "25 mm/s · 10 mm/mV",
        Paper::Eeg => "30 mm/s · 7 µV/mm",
        Paper::Other => "25 mm/s",
    };
    html! {
        div.paper-page {
            (PreEscaped(svg))
            p.muted.paper-nav {
                (scale) " · " (lang.pick("ページ", "page")) " " (page.page + 1) " / " (page.pages)
                " (" (format!("{:.0}–{:.0} s", page.start_s, page.start_s + page.seconds)) ")"
                @if page.page > 0 { " · " a.prev href={ (link) "?page=" (page.page - 1) } { "← " (lang.pick("前", "previous")) } }
                @if page.page + 1 < page.pages { " · " a.next href={ (link) "?page=" (page.page + 1) } { (lang.pick("次", "next")) " →" } }
            }
        }
    }
}

/// Channels as an SVG plot: one band per channel, a vertical stroke per bucket (min to max).
pub fn waveform_svg(channels: &[ChannelPreview]) -> Markup {
    const WIDTH: f64 = 1000.0;
    const BAND: f64 = 60.0;
    let height = BAND * channels.len().max(1) as f64;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="waveform" viewBox="0 0 {WIDTH} {height}" width="100%" role="img">"#
    );
    for (k, channel) in channels.iter().enumerate() {
        let top = k as f64 * BAND;
        let (lo, hi) = channel
            .envelope
            .iter()
            .fold((i32::MAX, i32::MIN), |(lo, hi), &(a, b)| {
                (lo.min(a), hi.max(b))
            });
        let span = f64::from(hi.saturating_sub(lo)).max(1.0);
        let y = |v: i32| top + BAND - 4.0 - (f64::from(v) - f64::from(lo)) / span * (BAND - 16.0);
        let step = WIDTH / channel.envelope.len().max(1) as f64;
        let mut path = String::new();
        for (i, &(a, b)) in channel.envelope.iter().enumerate() {
            let x = i as f64 * step;
            path.push_str(&format!("M{x:.1} {:.1}V{:.1}", y(a), y(b) - 0.5));
        }
        let mut escaped = String::new();
        {
            use std::fmt::Write;
            let _ = write!(
                maud::Escaper::new(&mut escaped),
                "{} · {} Hz · {}",
                channel.label,
                channel.sampling_rate_hz,
                channel.samples
            );
        }
        svg.push_str(&format!(r#"<text x="2" y="{:.0}" font-size="10">{escaped}</text><path d="{path}" stroke="currentColor" stroke-width="1" fill="none"/>"#, top + 11.0));
    }
    svg.push_str("</svg>");
    PreEscaped(svg)
}

pub fn item(
    ctx: &Ctx<'_>,
    item: &Item,
    query: &ViewerQuery,
    channels: Option<&[ChannelPreview]>,
) -> Html<String> {
    let l = ctx.lang;
    let metadata = serde_json::to_value(&item.metadata).expect("metadata serialises");
    let frames = item
        .metadata
        .frames
        .map_or(1, |f| u32::try_from(f).unwrap_or(u32::MAX));
    signed_in(
        ctx,
        &format!("{} #{}", l.pick("データ", "Item"), item.id),
        html! {
            p { (l.pick("症例", "Case")) " " a href={ "/items?case=" (encode(&item.case_id)) } { (item.case_id) } " · " (item.kind) " · " (item.provider) }
            p.path { (item.path) }
            p.hash { "SHA-256 " (item.sha256) }
            @if let Some(problem) = &item.problem { p.error { (problem) } }
            @if item.kind == ItemKind::Dicom { (viewer(l, &format!("/items/{}", item.id), item.id, frames, query)) }
            @if let Some(channels) = channels { (waveform_svg(channels)) }
            h2 { (l.pick("メタデータ", "Metadata")) }
            table.metadata {
                @if let Some(object) = metadata.as_object() {
                    @for (key, value) in object {
                        tr { th { (key) } td { (match value { serde_json::Value::String(s) => s.clone(), other => other.to_string() }) } }
                    }
                }
            }
        },
    )
}

/// A finding's severity in the page's language.
fn severity_label(lang: Lang, severity: Severity) -> &'static str {
    match severity {
        Severity::Blocking => lang.pick("重大（固定を妨げる）", "blocking"),
        Severity::Warning => lang.pick("警告", "warning"),
    }
}

/// A finding's status in the page's language.
fn status_label(lang: Lang, status: FindingStatus) -> &'static str {
    match status {
        FindingStatus::Open => lang.pick("未対応", "open"),
        FindingStatus::Queried => lang.pick("提供元に照会中", "queried"),
        FindingStatus::Excluded => lang.pick("症例を除外", "excluded"),
        FindingStatus::Accepted => lang.pick("受入れ", "accepted"),
    }
}

/// How many of a finding's cases the page names (a copy made 4,000 times concerns 4,000
/// cases; `kizon findings --json` and the evidence package list them all).
const CASES_NAMED: usize = 20;

/// The findings list's address for `filter` at `page`.
fn findings_link(filter: &FindingFilter, page: u64) -> String {
    let mut link = format!("/findings?show={}", if filter.all { "all" } else { "open" });
    if let Some(rule) = &filter.rule {
        link.push_str(&format!("&rule={}", encode(rule)));
    }
    if page > 0 {
        link.push_str(&format!("&page={page}"));
    }
    link
}

/// The findings, a page at a time (a study of 100,000 items may hold as many findings), with
/// each rule's counts and, for those who may decide, one decision for a whole rule.
pub fn findings(
    ctx: &Ctx<'_>,
    page: &FindingPage,
    filter: &FindingFilter,
    can_resolve: bool,
) -> Html<String> {
    let l = ctx.lang;
    let pages = page.total.div_ceil(page.limit.max(1)).max(1);
    let current = page.offset / page.limit.max(1);
    let unfiltered = FindingFilter {
        rule: None,
        ..filter.clone()
    };
    signed_in(
        ctx,
        l.pick("データの疑義", "Findings"),
        html! {
            p {
                a href=(findings_link(&FindingFilter { all: false, ..filter.clone() }, 0)) { (l.pick("未解決", "open")) } " · "
                a href=(findings_link(&FindingFilter { all: true, ..filter.clone() }, 0)) { (l.pick("すべて", "all")) }
                @if filter.rule.is_some() { " · " a href=(findings_link(&unfiltered, 0)) { (l.pick("全規則", "every rule")) } }
            }
            table #rules {
                thead { tr {
                    th { (l.pick("規則", "Rule")) } th { (l.pick("疑義", "Findings")) } th { (l.pick("未解決", "Unresolved")) }
                    th { (l.pick("未解決（重大）", "Blocking unresolved")) }
                    @if can_resolve { th { (l.pick("規則の未解決すべてに同じ対応を記録", "One decision for every unresolved finding of the rule")) } }
                } }
                tbody {
                    @for t in &page.rules {
                        tr {
                            td { a href=(findings_link(&FindingFilter { rule: Some(t.rule.clone()), page: 0, ..filter.clone() }, 0)) { (t.rule) } }
                            td { (t.findings) } td { (t.unresolved) } td { (t.unresolved_blocking) }
                            @if can_resolve {
                                td {
                                    @if t.unresolved > 0 {
                                        form.resolve-rule method="post" action="/findings/resolve-rule" {
                                            input type="hidden" name="csrf" value=(ctx.csrf);
                                            input type="hidden" name="rule" value=(t.rule);
                                            select name="decision" {
                                                option value="accept" { (l.pick("受入れ（疑義は当たらない）", "accept (the doubt does not hold)")) }
                                                option value="exclude-case" { (l.pick("症例を除外", "exclude the cases")) }
                                                option value="query-provider" { (l.pick("提供元に照会", "query the provider")) }
                                            }
                                            input type="text" name="reason" required placeholder=(l.pick("理由（必須）", "reason (required)"));
                                            input type="text" name="reason_en" placeholder=(l.pick("理由の英文（任意）", "reason in English (optional)"));
                                            button type="submit" { (l.pick("未解決 ", "Record for ")) (t.unresolved) (l.pick(" 件に記録", " findings")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p.muted #findings-range {
                @if page.total == 0 { (l.pick("該当する疑義はありません。", "No finding matches.")) }
                @else if page.findings.is_empty() {
                    (l.pick("このページに疑義はありません（全 ", "No finding on this page (of ")) (page.total) (l.pick(" 件）。", ")."))
                    " " a href=(findings_link(filter, 0)) { (l.pick("最初のページ", "first page")) }
                }
                @else {
                    (page.offset + 1) "–" (page.offset + page.findings.len() as u64) " / " (page.total)
                    @if current > 0 { " · " a.prev href=(findings_link(filter, current - 1)) { "← " (l.pick("前", "previous")) } }
                    @if current + 1 < pages { " · " a.next href=(findings_link(filter, current + 1)) { (l.pick("次", "next")) " →" } }
                }
            }
            @for f in &page.findings {
                section.finding id={ "finding-" (f.id) } {
                    h3 { "#" (f.id) " " (f.clause) " · " (f.rule) " · " span class={ "sev " (f.severity) } { (severity_label(l, f.severity)) } " · " span.status { (status_label(l, f.status)) } }
                    p { (l.pick(&f.message_ja, &f.message_en)) }
                    p.muted { (l.pick("症例", "Cases")) ": " (l.first_named(&f.case_ids, CASES_NAMED)) }
                    @if let Some(reason) = &f.reason { p { (l.pick("理由", "Reason")) ": " (reason) } }
                    @if can_resolve && f.status.is_unresolved() {
                        form.resolve method="post" action={ "/findings/" (f.id) "/resolve" } {
                            input type="hidden" name="csrf" value=(ctx.csrf);
                            select name="decision" {
                                option value="accept" { (l.pick("受入れ（疑義は当たらない）", "accept (the doubt does not hold)")) }
                                option value="exclude-case" { (l.pick("症例を除外", "exclude the case")) }
                                option value="query-provider" { (l.pick("提供元に照会", "query the provider")) }
                            }
                            @if f.case_ids.len() > 1 {
                                input type="text" name="cases" placeholder=(l.pick("除外する症例（空欄：すべて）", "cases to exclude (empty: all)"));
                            }
                            input type="text" name="reason" required placeholder=(l.pick("理由（必須）", "reason (required)"));
                            input type="text" name="reason_en" placeholder=(l.pick("理由の英文（任意：英語の報告書に載る）", "reason in English (optional, for the English report)"));
                            button type="submit" { (l.pick("記録", "Record")) }
                        }
                    }
                }
            }
        },
    )
}

fn read_text(lang: Lang, read: &OwnRead) -> String {
    let label = read.label.map(|label| match label {
        Label::Positive => lang.pick("陽性", "positive"),
        Label::Negative => lang.pick("陰性", "negative"),
        Label::Indeterminate => lang.pick("判定不能", "indeterminate"),
    });
    match (label, read.score) {
        (Some(label), Some(score)) => format!("{label} ({score})"),
        (Some(label), None) => label.to_owned(),
        (None, Some(score)) => score.to_string(),
        (None, None) => "-".into(),
    }
}

/// The reader's session, its progress and whether it is open, in one line.
fn session_line(l: Lang, status: &SessionStatus) -> Markup {
    html! {
        p #session {
            (l.pick("セッション", "Session")) " " (status.index) "/" (status.sessions) " "
            strong { (status.session) }
            @if let Some(m) = &status.modality { " (" (m) ")" }
            " · " span #progress { (status.done) " / " (status.total) " " (l.pick("症例を読影済み", "cases read")) }
        }
        @match &status.state {
            SessionState::Open => {}
            SessionState::Washout { until, previous_end } => p.error #washout {
                (l.pick("ウォッシュアウト期間中です。前セッションの最終読影 ", "Washout: your last read of the previous session was at "))
                (previous_end) (l.pick("。読影できるのは ", "; this session opens at ")) (until) (l.pick(" からです。", "."))
            },
            SessionState::Closed { why_ja, why_en } => p.error #closed { (l.pick(why_ja, why_en)) },
            SessionState::Finished => p #finished { (l.pick("すべてのセッションの読影が終わりました。", "Every session is read.")) },
            SessionState::NothingAssigned => p.muted { (l.pick("割り当てられた症例はありません。", "No case is assigned to you.")) },
        }
    }
}

pub fn worklist(ctx: &Ctx<'_>, cases: &[WorklistCase], status: &SessionStatus) -> Html<String> {
    let l = ctx.lang;
    signed_in(
        ctx,
        l.pick("読影ワークリスト", "Reading worklist"),
        html! {
            (session_line(l, status))
            table #worklist {
                thead { tr { th { "#" } th { (l.pick("症例", "Case")) } th { (l.pick("あなたの読影", "Your read")) } } }
                tbody {
                    @for (n, case) in cases.iter().enumerate() {
                        tr {
                            td { (n + 1) }
                            td { a href={ "/reading/" (encode(&case.case_id)) } { (case.case_id) } }
                            td { @match &case.read { Some(read) => (read_text(l, read)), None => (l.pick("未読影", "not read")) } }
                        }
                    }
                }
            }
        },
    )
}

/// The marks as JSON inside a `<script type="application/json">` (data, never run): `<`, `>`
/// and `&` are written as JSON escapes, so that nothing in it can close the element or open a
/// comment.
fn marks_json(marks: &[HeldMark]) -> String {
    serde_json::to_string(marks)
        .unwrap_or_else(|_| "[]".into())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// A mark as an SVG shape in the frame's pixel coordinates.
fn mark_svg(mark: &HeldMark) -> Markup {
    let p = &mark.mark.points;
    let id = mark.id;
    html! {
        @match (mark.mark.shape.as_str(), p.len()) {
            ("point", 1) => circle.mark data-mark=(id) cx=(p[0][0]) cy=(p[0][1]) r="3" {},
            ("circle", 2) => circle.mark data-mark=(id) cx=(p[0][0]) cy=(p[0][1]) r=((p[1][0] - p[0][0]).hypot(p[1][1] - p[0][1])) {},
            ("box", 2) => rect.mark data-mark=(id) x=(p[0][0].min(p[1][0])) y=(p[0][1].min(p[1][1])) width=((p[1][0] - p[0][0]).abs()) height=((p[1][1] - p[0][1]).abs()) {},
            _ => polygon.mark data-mark=(id) points=(p.iter().map(|v| format!("{},{}", v[0], v[1])).collect::<Vec<_>>().join(" ")) {},
        }
    }
}

fn shape_name(l: Lang, shape: &str) -> &'static str {
    match shape {
        "point" => l.pick("点", "point"),
        "circle" => l.pick("円", "circle"),
        "box" => l.pick("矩形", "box"),
        _ => l.pick("多角形", "polygon"),
    }
}

pub fn reading_case(
    ctx: &Ctx<'_>,
    reading: &ReadingCase,
    waveforms: &[(i64, kizon_app::paper::PaperPage)],
    query: &ViewerQuery,
) -> Html<String> {
    let l = ctx.lang;
    let case_id = reading.case.as_str();
    let open = reading.read.is_none() && reading.session.state == SessionState::Open;
    let asks = reading.case_read;
    let plain = reading.session.sessions == 1 && reading.session.session == "panel";
    signed_in(
        ctx,
        &format!("{} {case_id}", l.pick("読影", "Reading")),
        html! {
            (session_line(l, &reading.session))
            p.muted #position { (l.pick("症例", "Case")) " " (reading.position) " / " (reading.of) " · " (l.pick("盲検化：臨床情報・被験機器の結果・他の読影者の判定は表示されません。", "Blinded: no clinical information, device result or other reader's read is shown.")) }
            div #reading data-case=(case_id) data-marking=(reading.marking && open) data-scale=[reading.rating_scale.map(|s| format!("{} {} {}", s.low, s.high, s.integer))] data-next=[reading.next.as_deref()] {
                @if reading.marking && open {
                    div.tools #tools {
                        @for (tool, key, ja, en) in [("point", "P", "点", "point"), ("circle", "C", "円", "circle"), ("box", "B", "矩形", "box"), ("polygon", "G", "多角形", "polygon"), ("pan", "H", "移動", "pan")] {
                            button type="button" data-tool=(tool) title={ (l.pick(ja, en)) " (" (key) ")" } { (l.pick(ja, en)) " " kbd { (key) } }
                        }
                        @if !reading.lesion_types.is_empty() {
                            label { (l.pick("病変の種類", "Lesion type")) " "
                                select #lesion-type { @for t in &reading.lesion_types { option value=(t) { (t) } } }
                            }
                        }
                        @if let Some(scale) = reading.rating_scale {
                            label { (l.pick("確信度", "Rating")) " (" (scale.describe()) ") "
                                input #mark-rating type="number" min=(scale.low) max=(scale.high) step=(if scale.integer { "1" } else { "any" }) value=(scale.high);
                            }
                        }
                    }
                }
                @for item in &reading.items {
                    @if item.kind == ItemKind::Video {
                        (video_viewer(l, &format!("/reading/{}", encode(case_id)), item, query, &reading.marks))
                    } @else if item.kind == ItemKind::Dicom {
                        @match item.stack {
                            None => (marking_viewer(l, &format!("/reading/{}", encode(case_id)), item, &[], query, &reading.marks, &reading.window_presets)),
                            Some(stack) => {
                                @let members: Vec<i64> = reading.items.iter().filter(|i| i.stack == Some(stack)).map(|i| i.id).collect();
                                @if members.first() == Some(&item.id) {
                                    (marking_viewer(l, &format!("/reading/{}", encode(case_id)), item, &members, query, &reading.marks, &reading.window_presets))
                                }
                            }
                        }
                    } @else if let Some((_, page)) = waveforms.iter().find(|(id, _)| *id == item.id) {
                        (paper_svg(l, page, &format!("/reading/{}", encode(case_id))))
                    } @else {
                        p { (item.kind) " #" (item.id) }
                    }
                }
                @if reading.marking {
                    h2 { (l.pick("あなたのマーク", "Your marks")) }
                    ul #marks {
                        @for m in &reading.marks {
                            li data-mark=(m.id) {
                                (shape_name(l, &m.mark.shape))
                                @if let Some(t) = &m.mark.lesion_type { " · " (t) }
                                @if let Some(r) = m.mark.rating { " · " (l.pick("確信度", "rating")) " " (r) }
                                " · " (l.pick("フレーム", "frame")) " " (m.mark.frame)
                            }
                        }
                    }
                }
            }
            @match &reading.read {
                Some(read) => p #recorded { (l.pick("記録済みの読影", "Your recorded read")) ": " (read_text(l, read)) " (" (l.pick("監査証跡", "ledger")) " #" (read.ledger_seq) ")" },
                None if open => form.card #read-form method="post" action={ "/reading/" (encode(case_id)) } {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    @if plain || asks.asks_label() {
                        fieldset {
                            legend { (l.pick("判定", "Label")) }
                            label { input type="radio" name="label" value="positive"; (l.pick("陽性", "positive")) " " kbd { "1" } }
                            label { input type="radio" name="label" value="negative"; (l.pick("陰性", "negative")) " " kbd { "2" } }
                            label { input type="radio" name="label" value="indeterminate"; (l.pick("判定不能", "indeterminate")) " " kbd { "3" } }
                        }
                    }
                    @if plain || asks.asks_score() {
                        label {
                            @if plain { (l.pick("確信度スコア（任意）", "Confidence score (optional)")) } @else { (l.pick("症例の確信度スコア", "Case score")) }
                            @match reading.rating_scale {
                                Some(scale) => input type="number" name="score" min=(scale.low) max=(scale.high) step=(if scale.integer { "1" } else { "any" }) required[!plain];,
                                None => input type="number" step="any" name="score" required[!plain];,
                            }
                        }
                    }
                    button #submit-read type="submit" { (l.pick("読影結果を記録（変更不可）", "Record the read (final)")) }
                }
                None => {},
            }
            p {
                a href="/reading" { "← " (l.pick("ワークリスト", "worklist")) }
                @if open { " · " a #pause href="/reading" { (l.pick("中断する", "pause")) } }
                @if let Some(next) = &reading.next { " · " a #next href={ "/reading/" (encode(next)) } { (l.pick("次の症例", "next case")) " →" } }
            }
            script type="application/json" #marks-data { (PreEscaped(marks_json(&reading.marks))) }
            script src="/static/reading.js" {}
        },
    )
}

/// An image with its marks over it, window presets and frame controls; with `stack`, the
/// single-frame images of one series in slice order, scrolled through as its frames. The form
/// works without the script; the script adds marking, scrolling, zoom and pan.
fn marking_viewer(
    l: Lang,
    action: &str,
    item: &BlindedItem,
    stack: &[i64],
    query: &ViewerQuery,
    marks: &[HeldMark],
    presets: &[kizon_app::reading::WindowPreset],
) -> Markup {
    let frames = if stack.is_empty() {
        item.frames
    } else {
        stack.len() as u32
    };
    let position = query.frame.unwrap_or(0).min(frames.saturating_sub(1));
    // What is shown: the item's frame, or the stack's image at that position.
    let (shown, frame) = match stack.get(position as usize) {
        Some(&id) => (id, 0),
        None => (item.id, position),
    };
    let png = ViewerQuery {
        frame: Some(frame),
        page: None,
        wc: query.wc,
        ww: query.ww,
    };
    let (w, h) = (item.width.unwrap_or(512), item.height.unwrap_or(512));
    let stack_ids = stack
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    html! {
        div.viewer data-item=(item.id) data-frames=(frames) data-frame=(position) data-width=(w) data-height=(h) data-stack=[(!stack.is_empty()).then_some(stack_ids.as_str())] {
            div.stage {
                img.frame src={ "/items/" (shown) "/frame.png?" (png.png_query()) } alt=(l.pick("画像", "image")) width=(w) height=(h);
                svg.overlay viewBox={ "0 0 " (w) " " (h) } xmlns="http://www.w3.org/2000/svg" {
                    @for m in marks.iter().filter(|m| m.mark.item == shown && m.mark.frame == frame) { (mark_svg(m)) }
                }
            }
            form.filters method="get" action=(action) {
                @if frames > 1 {
                    label { @if stack.is_empty() { (l.pick("フレーム", "Frame")) } @else { (l.pick("スライス", "Slice")) } input type="number" name="frame" min="0" max=(frames - 1) value=(position); " / " (frames) }
                }
                @if !presets.is_empty() {
                    label { (l.pick("ウィンドウ", "Window"))
                        select.presets {
                            option value="" { (l.pick("画像の既定", "image default")) }
                            @for p in presets { option value={ (p.center) " " (p.width) } { (p.name) " (" (p.center) "/" (p.width) ")" } }
                        }
                    }
                }
                label { (l.pick("ウィンドウ中心", "Window centre")) input type="number" step="any" name="wc" value=[query.wc]; }
                label { (l.pick("ウィンドウ幅", "Window width")) input type="number" step="any" name="ww" value=[query.ww]; }
                button type="submit" { (l.pick("表示", "Show")) }
            }
        }
    }
}

/// A video with the marks of the frame shown over it. Without the script it plays with the
/// browser's controls and opens at the frame asked for (a media fragment, `#t=`); the script
/// steps frame by frame and places marks on the paused frame.
fn video_viewer(
    l: Lang,
    action: &str,
    item: &BlindedItem,
    query: &ViewerQuery,
    marks: &[HeldMark],
) -> Markup {
    let frames = item.frames.max(1);
    let position = query.frame.unwrap_or(0).min(frames - 1);
    let (w, h) = (item.width.unwrap_or(640), item.height.unwrap_or(480));
    // The middle of the frame's display time, so that rounding never lands on its neighbour.
    let start = item
        .frames_per_second
        .filter(|_| position > 0)
        .map(|fps| format!("#t={:.4}", (f64::from(position) + 0.5) / fps))
        .unwrap_or_default();
    html! {
        div.viewer.video-viewer data-item=(item.id) data-frames=(frames) data-frame=(position) data-width=(w) data-height=(h) data-fps=[item.frames_per_second] {
            div.stage {
                video.frame controls preload="auto" muted src={ "/items/" (item.id) "/video.mp4" (start) } width=(w) height=(h) {}
                svg.overlay viewBox={ "0 0 " (w) " " (h) } xmlns="http://www.w3.org/2000/svg" {
                    @for m in marks.iter().filter(|m| m.mark.item == item.id && m.mark.frame == position) { (mark_svg(m)) }
                }
            }
            form.filters method="get" action=(action) {
                label { (l.pick("フレーム", "Frame")) input type="number" name="frame" min="0" max=(frames - 1) value=(position); " / " (frames) }
                button type="submit" { (l.pick("表示", "Show")) }
            }
        }
    }
}

pub fn analysis(ctx: &Ctx<'_>, analysis: Option<&Analysis>, can_run: bool) -> Html<String> {
    let l = ctx.lang;
    let pct = |x: f64| format!("{:.1}", x * 100.0);
    signed_in(
        ctx,
        l.pick("解析結果と報告書", "Analysis and reports"),
        html! {
            @if can_run {
                form.inline method="post" action="/analysis/run" {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    button #run-analysis type="submit" { (l.pick("解析を実行", "Run the analysis")) }
                }
            }
            @match analysis {
                None => p { (l.pick("解析はまだありません。", "No analysis yet.")) },
                Some(analysis) => {
                    p { (l.pick("入力のハッシュ", "Inputs hash")) " " code.hash { (analysis.inputs_sha256) } }
                    table #endpoints {
                        thead { tr { th { (l.pick("評価項目", "Endpoint")) } th { "n" } th { (l.pick("推定値 (%)", "Estimate (%)")) } th { "95% CI" } th { (l.pick("判定", "Verdict")) } } }
                        tbody {
                            @for e in &analysis.endpoints {
                                tr {
                                    td { (l.pick(&e.name_ja, &e.name_en)) @if e.primary { " *" } }
                                    td { (e.n) }
                                    td { @if let Some(est) = &e.estimate { (pct(est.estimate)) } }
                                    td { @if let Some(est) = &e.estimate { (pct(est.lower)) "–" (pct(est.upper)) } }
                                    td { @match e.pass { Some(true) => span.pass { (l.pick("適合", "PASS")) }, Some(false) => span.fail { (l.pick("不適合", "FAIL")) }, None => "-" } }
                                }
                            }
                        }
                    }
                    h2 { (l.pick("性能評価試験報告書", "Performance evaluation test report")) }
                    ul #reports {
                        @for (name, ja, en) in [("report-ja.pdf", "日本語 PDF", "Japanese PDF"), ("report-en.pdf", "英語 PDF", "English PDF"), ("report-ja.html", "日本語 HTML", "Japanese HTML"), ("report-en.html", "英語 HTML", "English HTML")] {
                            li { a href={ "/reports/" (name) } download=(name) { (l.pick(ja, en)) } }
                        }
                    }
                }
            }
        },
    )
}

pub fn audit(
    ctx: &Ctx<'_>,
    entries: &[LedgerEntry],
    total: usize,
    page: usize,
    per_page: usize,
) -> Html<String> {
    let l = ctx.lang;
    let pages = total.div_ceil(per_page).max(1);
    signed_in(
        ctx,
        l.pick("監査証跡", "Audit log"),
        html! {
            p { (total) " " (l.pick("件", "entries")) " · " (l.pick("新しい順", "newest first")) }
            table #audit {
                thead { tr { th { "#" } th { (l.pick("日時 (UTC)", "At (UTC)")) } th { (l.pick("操作者", "Actor")) } th { (l.pick("操作", "Command")) } th { (l.pick("概要", "Summary")) } th { (l.pick("ハッシュ", "Hash")) } } }
                tbody {
                    @for e in entries {
                        tr { td { (e.seq) } td { (e.at) } td { (e.actor) } td { (e.command) } td { (e.summary()) } td.hash { (&e.hash[..16]) "…" } }
                    }
                }
            }
            p.pager {
                @if page > 1 { a href={ "/audit?page=" (page - 1) } { "← " (l.pick("新しい", "newer")) } " " }
                @if page < pages { a href={ "/audit?page=" (page + 1) } { (l.pick("古い", "older")) " →" } }
            }
        },
    )
}

pub fn users(
    ctx: &Ctx<'_>,
    users: &[(Account, bool)],
    sessions: &kizon_app::acting::ReaderSessions,
) -> Html<String> {
    let l = ctx.lang;
    let readers: Vec<&String> = sessions.readers.iter().map(|(code, _)| code).collect();
    let roles = [
        Role::Admin,
        Role::DataManager,
        Role::Reader,
        Role::Statistician,
        Role::Auditor,
    ];
    signed_in(
        ctx,
        l.pick("利用者", "Users"),
        html! {
            table #users {
                thead { tr { th { (l.pick("利用者名", "Name")) } th { (l.pick("役割", "Role")) } th { (l.pick("読影者コード", "Reader code")) } th { (l.pick("状態", "Status")) } th { (l.pick("パスワードの再設定", "Reset password")) } th {} } }
                tbody {
                    @for (u, active) in users {
                        tr data-user=(u.name) {
                            td { (u.name) }
                            td { (l.pick(u.role.name_ja(), u.role.as_str())) }
                            td { (u.reader_code.as_deref().unwrap_or("")) }
                            td { @if *active { span.state.done { (l.pick("有効", "active")) } } @else { span.state.blocked { (l.pick("無効", "deactivated")) } } }
                            td {
                                form.inline.reset method="post" action="/users/password" {
                                    input type="hidden" name="csrf" value=(ctx.csrf);
                                    input type="hidden" name="name" value=(u.name);
                                    input type="password" name="password" autocomplete="new-password" minlength=(kizon_app::access::MIN_PASSWORD_CHARS) required placeholder=(l.pick("新しいパスワード", "new password"));
                                    button type="submit" { (l.pick("再設定", "Reset")) }
                                }
                            }
                            td {
                                @if u.name != ctx.account.name {
                                    form.inline.active method="post" action="/users/active" {
                                        input type="hidden" name="csrf" value=(ctx.csrf);
                                        input type="hidden" name="name" value=(u.name);
                                        input type="hidden" name="active" value=(!active);
                                        button type="submit" { @if *active { (l.pick("無効にする", "Deactivate")) } @else { (l.pick("有効にする", "Activate")) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { (l.pick("利用者の追加", "Add a user")) }
            form.card #add-user method="post" action="/users/add" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                label { (l.pick("利用者名", "Name")) input type="text" name="name" required maxlength="64"; }
                label { (l.pick("役割", "Role"))
                    select name="role" { @for r in roles { option value=(r.as_str()) { (l.pick(r.name_ja(), r.as_str())) } } }
                }
                label { (l.pick("読影者コード（読影者のみ）", "Reader code (readers only)"))
                    select name="reader" { option value="" { "—" } @for code in &readers { option value=(code) { (code) } } }
                }
                label { (l.pick("初期パスワード", "Initial password")) " (" (kizon_app::access::MIN_PASSWORD_CHARS) "+)" input type="password" name="password" autocomplete="new-password" minlength=(kizon_app::access::MIN_PASSWORD_CHARS) required; }
                button #add-user-submit type="submit" { (l.pick("追加", "Add")) }
            }
            @if !readers.is_empty() {
                h2 { (l.pick("症例の割付け", "Assign cases")) }
                form.card #assign method="post" action="/users/assign" {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    label { (l.pick("読影者", "Reader"))
                        select name="reader" { @for code in &readers { option value=(code) { (code) } } }
                    }
                    label { (l.pick("症例 ID（空欄：解析対象データセットの全症例）", "Case ids (empty: every case of the dataset)")) input type="text" name="cases"; }
                    button #assign-submit type="submit" { (l.pick("割り付ける", "Assign")) }
                }
            }
            @if !readers.is_empty() {
                h2 { (l.pick("読影セッションの割当て", "Reading sessions")) }
                table #reader-sessions {
                    thead { tr { th { (l.pick("読影者", "Reader")) } th { (l.pick("読影するセッション", "Sessions read")) } } }
                    tbody {
                        @for (code, theirs) in &sessions.readers {
                            tr data-reader=(code) { td { (code) } td { (theirs.join(", ")) } }
                        }
                    }
                }
                form.card #assign-sessions method="post" action="/users/sessions" {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    label { (l.pick("読影者", "Reader"))
                        select name="reader" { @for code in &readers { option value=(code) { (code) } } }
                    }
                    fieldset {
                        legend { (l.pick("セッション（割当てのない読影者は全セッションを読影します）", "Sessions (a reader without any reads in every session)")) }
                        @for id in &sessions.declared {
                            label { input type="checkbox" name="session" value=(id); " " (id) }
                        }
                    }
                    button #assign-sessions-submit type="submit" { (l.pick("割り当てる", "Assign")) }
                }
            }
            p.muted { (l.pick("すべての操作は監査証跡に記録されます。コマンドでも同じことができます：", "Every action is recorded in the ledger. The same from the command line: ")) code { "kizon user add NAME --role …, kizon readers assign CODE --dataset --sessions ID,…" } }
        },
    )
}
