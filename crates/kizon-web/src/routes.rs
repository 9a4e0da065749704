//! The routes: each handler checks the session, calls one kizon-app use case and renders the
//! outcome. Authorisation is the app's (`Study::require`, the blinded views); the handlers
//! only choose which use case a URL means.

use std::net::SocketAddr;
use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{
    ConnectInfo, DefaultBodyLimit, Form, MatchedPath, Multipart, Path, Query, Request, State,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kizon_app::access::{Account, Permission};
use kizon_app::acting::Acting;
use kizon_app::check::Decision;
use kizon_app::providers::EvidenceKind;
use kizon_app::reference::Label;
use kizon_app::report::Format;
use kizon_app::{ItemKind, ItemQuery, Lang, Window};
use serde::Deserialize;
use serde_json::json;

use crate::auth::{self, Authed, LANG_COOKIE, LOGIN_COOKIE, PageLang, SESSION_COOKIE};
use crate::error::WebError;
use crate::pages::{self, Ctx, ItemFilters, ViewerQuery};
use crate::state::AppState;

/// Items per page of the item list.
pub const PAGE_SIZE: u64 = 50;
/// Ledger entries per page of the audit log.
const AUDIT_PAGE: usize = 100;

pub fn router(state: AppState) -> Router {
    let limit = state.upload_limit();
    let routes = Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/", get(overview))
        .route("/providers", get(providers))
        .route("/evidence", post(upload_evidence))
        .route("/items", get(items))
        .route("/items/{id}", get(item))
        .route("/items/{id}/frame.png", get(frame_png))
        .route("/items/{id}/video.mp4", get(video))
        .route("/findings", get(findings))
        .route("/findings/{id}/resolve", post(resolve))
        .route("/findings/resolve-rule", post(resolve_rule))
        .route("/reading", get(worklist))
        .route("/reading/{case}", get(reading_case).post(record_read))
        .route("/analysis", get(analysis))
        .route("/analysis/run", post(run_analysis))
        .route("/reports/{name}", get(report_download))
        .route("/audit", get(audit))
        .route("/users", get(users))
        .route("/users/add", post(user_add))
        .route("/users/password", post(user_password))
        .route("/users/active", post(user_active))
        .route("/users/assign", post(user_assign))
        .route("/users/sessions", post(user_sessions))
        .route("/api/items", get(api_items))
        .route("/api/items/{id}", get(api_item))
        .route("/api/findings", get(api_findings))
        .route("/api/findings/{id}/resolve", post(api_resolve))
        .route("/api/worklist", get(api_worklist))
        .route("/api/session", get(api_session))
        .route("/api/reading/pause", post(api_pause))
        .route("/api/reading/{case}", get(api_reading_case))
        .route("/api/reading/{case}/marks", post(api_add_mark))
        .route(
            "/api/reading/{case}/marks/{mark}",
            axum::routing::delete(api_delete_mark),
        )
        .route("/api/reading/{case}/submit", post(api_submit))
        .route("/api/reads", get(api_reads))
        .route("/api/results", get(api_results))
        .route("/api/analysis", get(api_analysis))
        .route("/api/audit", get(api_audit))
        .route_layer(middleware::from_fn(log_request));
    routes
        .route("/static/style.css", get(style))
        .route("/static/reading.js", get(reading_script))
        .route("/static/NotoSansJP-Regular.ttf", get(font_regular))
        .route("/static/NotoSansJP-Bold.ttf", get(font_bold))
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// One line per request: method, route pattern, status, milliseconds. Never the query string,
/// ids or user names: the server log carries nothing that identifies a patient or a case.
async fn log_request(matched: Option<MatchedPath>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = matched
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "-".into());
    let start = Instant::now();
    let response = next.run(request).await;
    if std::env::var_os("KIZON_WEB_QUIET").is_none() {
        eprintln!(
            "{method} {route} {} {:.1}ms",
            response.status().as_u16(),
            start.elapsed().as_secs_f64() * 1e3
        );
    }
    response
}

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (
            "content-security-policy",
            "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self'; media-src 'self'; style-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        ("cache-control", "no-store"),
    ] {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

/// The reading page's script: marking, frames, windows, zoom and pan. Served from the binary;
/// the page works without it for label-and-score reads.
async fn reading_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        pages::READING_SCRIPT,
    )
}

async fn style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        pages::STYLE,
    )
}

/// The report's embedded Japanese font, so that pages render on machines without one (hospital
/// workstations, headless browsers). Immutable: cached for a year.
fn font(bytes: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, "font/ttf"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        bytes,
    )
        .into_response()
}

async fn font_regular() -> Response {
    font(kizon_app::report::NOTO_REGULAR)
}

async fn font_bold() -> Response {
    font(kizon_app::report::NOTO_BOLD)
}

fn ctx<'a>(authed: &'a Authed, path: &'a str) -> Ctx<'a> {
    Ctx {
        lang: authed.lang,
        account: &authed.account,
        csrf: &authed.csrf,
        path,
    }
}

/// A page response that also remembers the chosen language.
fn with_lang(authed_lang: Lang, body: Html<String>) -> Response {
    let mut response = body.into_response();
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={}; Path=/; SameSite=Strict; Max-Age=31536000",
        authed_lang.as_str()
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn redirect_with_cookies(to: &str, cookies: &[String]) -> Response {
    let mut response = Redirect::to(to).into_response();
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

// ---- sign in and out ----

async fn login_form(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    authed: Option<Authed>,
) -> Result<Response, WebError> {
    if authed.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let token = kizon_app::access::random_hex(32)?;
    let mut response = pages::login(lang, &token, false).into_response();
    if let Ok(value) = HeaderValue::from_str(&auth::set_cookie(&state, LOGIN_COOKIE, &token, 3600))
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    password: String,
    login_token: String,
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    PageLang(lang): PageLang,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let expected = auth::cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty()
        || !auth::constant_time_eq(expected.as_bytes(), form.login_token.as_bytes())
    {
        return Err(WebError::Csrf);
    }
    // A name longer than any user name is no login attempt, and never a key of the limiter.
    if form.name.chars().count() > 64 {
        return Err(WebError::BadRequest(
            "利用者名が長すぎます / the user name is too long".into(),
        ));
    }
    // Counted before the password is checked, in the study's database: forty concurrent
    // guesses, through any of the servers on the study, meet the limit of five.
    let (name, password, address) = (form.name.clone(), form.password, peer.ip().to_string());
    let login = state
        .with_study(move |study| {
            let attempt = match study.login_attempt(&name, &address)? {
                Ok(attempt) => attempt,
                Err(wait) => return Ok(Err(wait)),
            };
            let login = study.login(&name, &password);
            let succeeded = matches!(login, Ok(Some(_)));
            study.login_settled(attempt, succeeded)?;
            login.map(Ok)
        })
        .await?
        .map_err(WebError::TooManyLogins)?;
    let Some(login) = login else {
        let mut response = (
            StatusCode::UNAUTHORIZED,
            pages::login(lang, &form.login_token, true),
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return Ok(response);
    };
    let landing = if login.account.reads_only() {
        "/reading"
    } else {
        "/"
    };
    Ok(redirect_with_cookies(
        landing,
        &[
            auth::set_cookie(
                &state,
                SESSION_COOKIE,
                &login.token,
                kizon_app::access::SESSION_SECONDS,
            ),
            auth::set_cookie(&state, LOGIN_COOKIE, "", 0),
        ],
    ))
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    authed: Authed,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    authed.check_csrf(&form.csrf)?;
    let token = authed.token.clone();
    state.with_study(move |study| study.logout(&token)).await?;
    Ok(redirect_with_cookies(
        "/login",
        &[auth::set_cookie(&state, SESSION_COOKIE, "", 0)],
    ))
}

// ---- the study ----

async fn overview(State(state): State<AppState>, authed: Authed) -> Result<Response, WebError> {
    if authed.account.reads_only() {
        return Ok(Redirect::to("/reading").into_response());
    }
    let account = authed.account.clone();
    let overview = state
        .with_study(move |study| study.overview(&account))
        .await?;
    Ok(with_lang(
        authed.lang,
        pages::overview(&ctx(&authed, "/"), &overview),
    ))
}

async fn providers(State(state): State<AppState>, authed: Authed) -> Result<Response, WebError> {
    let account = authed.account.clone();
    let view = state
        .with_study(move |study| study.acting(&account).providers_and_evidence())
        .await?;
    let kinds = EvidenceKind::ALL;
    let can_upload = authed.account.may(Permission::UploadEvidence);
    Ok(with_lang(
        authed.lang,
        pages::providers(&ctx(&authed, "/providers"), &view, can_upload, kinds),
    ))
}

async fn upload_evidence(
    State(state): State<AppState>,
    authed: Authed,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    let limit = state.upload_limit();
    if let Some(length) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        && length > limit
    {
        return Err(WebError::TooLarge(limit));
    }
    // Refuse a role that may not upload before reading its upload.
    let account = authed.account.clone();
    state
        .with_study(move |study| study.acting(&account).may_upload_evidence())
        .await?;
    let mut fields = std::collections::HashMap::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(WebError::TooLarge(limit));
            }
            Err(e) => {
                return Err(WebError::BadRequest(format!(
                    "the upload could not be read: {}",
                    e.body_text()
                )));
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = match field.bytes().await {
            Ok(bytes) => bytes,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(WebError::TooLarge(limit));
            }
            Err(e) => {
                return Err(WebError::BadRequest(format!(
                    "the upload could not be read: {}",
                    e.body_text()
                )));
            }
        };
        if name == "file" {
            file = Some((file_name.unwrap_or_else(|| "upload".into()), bytes.to_vec()));
        } else {
            fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    authed.check_csrf(fields.get("csrf").map(String::as_str).unwrap_or_default())?;
    let Some((file_name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return Err(WebError::BadRequest(
            "ファイルがありません / no file was sent".into(),
        ));
    };
    let provider = fields.get("provider").cloned().unwrap_or_default();
    let kind = EvidenceKind::parse(fields.get("kind").map(String::as_str).unwrap_or_default())
        .ok_or_else(|| {
            WebError::BadRequest(format!(
                "種類が不正です / unknown evidence kind (use {})",
                EvidenceKind::choices()
            ))
        })?;
    let note = fields.get("note").cloned().filter(|n| !n.trim().is_empty());
    let account = authed.account.clone();
    state
        .with_study(move |study| {
            study.acting(&account).add_evidence_bytes(
                &provider,
                kind,
                &file_name,
                &bytes,
                note.as_deref(),
            )
        })
        .await?;
    Ok(Redirect::to("/providers").into_response())
}

/// The query a page's filters ask for; a kind that is none refuses the request, as the
/// command line does (an empty choice means every kind).
fn item_query(filters: &ItemFilters) -> Result<ItemQuery, WebError> {
    let some = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
    let kind = match some(&filters.kind) {
        None => None,
        Some(k) => Some(ItemKind::parse(k.trim()).ok_or_else(|| {
            WebError::BadRequest(format!(
                "`{k}` is not a kind of item ({})",
                ItemKind::choices()
            ))
        })?),
    };
    Ok(ItemQuery {
        kind,
        provider: some(&filters.provider),
        case_id: some(&filters.case),
        text: some(&filters.q),
        // A page far beyond the last (even u64::MAX) is an empty page, never an overflow.
        offset: filters
            .page
            .unwrap_or(1)
            .saturating_sub(1)
            .saturating_mul(PAGE_SIZE),
        limit: PAGE_SIZE,
    })
}

async fn items(
    State(state): State<AppState>,
    authed: Authed,
    Query(filters): Query<ItemFilters>,
) -> Result<Response, WebError> {
    let account = authed.account.clone();
    let query = item_query(&filters)?;
    let (page, (providers, kinds)) = state
        .with_study(move |study| {
            Ok((
                study.item_page(&account, &query)?,
                study.item_facets(&account)?,
            ))
        })
        .await?;
    Ok(with_lang(
        authed.lang,
        pages::items(&ctx(&authed, "/items"), &page, &filters, &providers, &kinds),
    ))
}

async fn item(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    Query(query): Query<ViewerQuery>,
) -> Result<Response, WebError> {
    let account = authed.account.clone();
    let (item, channels) = state
        .with_study(move |study| {
            let item = study.item(&account, id)?;
            let channels = item
                .kind
                .is_waveform()
                .then(|| study.item_channels(&account, id, 1000).ok())
                .flatten();
            Ok((item, channels))
        })
        .await?;
    let path = format!("/items/{id}");
    Ok(with_lang(
        authed.lang,
        pages::item(&ctx(&authed, &path), &item, &query, channels.as_deref()),
    ))
}

async fn frame_png(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    Query(query): Query<ViewerQuery>,
) -> Result<Response, WebError> {
    let window = match (query.wc, query.ww) {
        (Some(center), Some(width)) => Some(Window { center, width }),
        _ => None,
    };
    let frame = query.frame.unwrap_or(0);
    let account = authed.account.clone();
    let (png, range) = state
        .with_study(move |study| study.item_png(&account, id, frame, window))
        .await?;
    let mut response = ([(header::CONTENT_TYPE, "image/png")], png).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("{} {}", range.0, range.1)) {
        response.headers_mut().insert("x-kizon-value-range", value);
    }
    Ok(response)
}

async fn video(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let account = authed.account.clone();
    let video = state
        .with_study(move |study| study.item_video(&account, id))
        .await?;
    // Players seek by asking for ranges; the whole video is what is verified and cached.
    let asked = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let len = video.len();
    let (status, body, range) = match crate::range::part(asked, len) {
        crate::range::Part::Whole => (StatusCode::OK, video.to_vec(), None),
        crate::range::Part::Bytes { start, end } => (
            StatusCode::PARTIAL_CONTENT,
            video[start..=end].to_vec(),
            Some(format!("bytes {start}-{end}/{len}")),
        ),
        crate::range::Part::Unsatisfiable => (
            StatusCode::RANGE_NOT_SATISFIABLE,
            Vec::new(),
            Some(format!("bytes */{len}")),
        ),
    };
    let mut response = (
        status,
        [
            (header::CONTENT_TYPE, "video/mp4"),
            (header::ACCEPT_RANGES, "bytes"),
        ],
        body,
    )
        .into_response();
    if let Some(range) = range.and_then(|r| HeaderValue::from_str(&r).ok()) {
        response.headers_mut().insert(header::CONTENT_RANGE, range);
    }
    Ok(response)
}

#[derive(Deserialize)]
struct FindingsQuery {
    show: Option<String>,
    rule: Option<String>,
    page: Option<u64>,
}

async fn findings(
    State(state): State<AppState>,
    authed: Authed,
    Query(query): Query<FindingsQuery>,
) -> Result<Response, WebError> {
    let account = authed.account.clone();
    let filter = kizon_app::check::FindingFilter {
        rule: query.rule.clone().filter(|r| !r.is_empty()),
        all: query.show.as_deref() == Some("all"),
        page: query.page.unwrap_or(0),
    };
    let page = {
        let filter = filter.clone();
        state
            .with_study(move |study| study.acting(&account).findings_page(&filter))
            .await?
    };
    let can_resolve = authed.account.may(Permission::ResolveFindings);
    Ok(with_lang(
        authed.lang,
        pages::findings(&ctx(&authed, "/findings"), &page, &filter, can_resolve),
    ))
}

#[derive(Deserialize)]
struct ResolveRuleForm {
    csrf: String,
    rule: String,
    decision: String,
    reason: String,
    #[serde(default)]
    reason_en: String,
}

/// One decision on every unresolved finding of a rule (the findings page's form per rule).
async fn resolve_rule(
    State(state): State<AppState>,
    authed: Authed,
    Form(form): Form<ResolveRuleForm>,
) -> Result<Response, WebError> {
    authed.check_csrf(&form.csrf)?;
    let decision = decision(&form.decision)?;
    let account = authed.account.clone();
    let rule = form.rule.clone();
    state
        .with_study(move |study| {
            // An empty English text is absent (`Reason::checked`).
            let reason = kizon_app::text::Reason::new(&form.reason, Some(&form.reason_en));
            study
                .acting(&account)
                .resolve_rule(&form.rule, decision, reason)
        })
        .await?;
    Ok(Redirect::to(&format!("/findings?show=all&rule={}", pages::encode(&rule))).into_response())
}

#[derive(Deserialize)]
struct ResolveForm {
    csrf: String,
    decision: String,
    reason: String,
    /// The reason in English, when given besides it (optional).
    #[serde(default)]
    reason_en: String,
    #[serde(default)]
    cases: String,
}

fn decision(text: &str) -> Result<Decision, WebError> {
    Decision::parse(text).ok_or_else(|| {
        WebError::BadRequest(format!(
            "`{text}` is not a decision ({})",
            Decision::choices()
        ))
    })
}

async fn resolve_finding(
    state: &AppState,
    account: Account,
    id: i64,
    form: ResolveForm,
) -> Result<kizon_app::check::FindingView, WebError> {
    let decision = decision(&form.decision)?;
    let cases: Vec<String> = form
        .cases
        .split([',', ' '])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    state
        .with_study(move |study| {
            // An empty English text is absent (`Reason::checked`).
            let reason = kizon_app::text::Reason::new(&form.reason, Some(&form.reason_en));
            study.acting(&account).resolve(id, decision, reason, &cases)
        })
        .await
}

async fn resolve(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    Form(form): Form<ResolveForm>,
) -> Result<Response, WebError> {
    authed.check_csrf(&form.csrf)?;
    resolve_finding(&state, authed.account.clone(), id, form).await?;
    Ok(Redirect::to(&format!("/findings?show=all#finding-{id}")).into_response())
}

// ---- blinded reading ----

async fn worklist(State(state): State<AppState>, authed: Authed) -> Result<Response, WebError> {
    let account = authed.account.clone();
    let (cases, status) = state
        .with_study(move |study| Ok((study.worklist(&account)?, study.session_status(&account)?)))
        .await?;
    Ok(with_lang(
        authed.lang,
        pages::worklist(&ctx(&authed, "/reading"), &cases, &status),
    ))
}

async fn reading_case(
    State(state): State<AppState>,
    authed: Authed,
    Path(case): Path<String>,
    Query(query): Query<ViewerQuery>,
) -> Result<Response, WebError> {
    let account = authed.account.clone();
    let case_id = case.clone();
    let page = query.page.unwrap_or(0);
    let (reading, waveforms) = state
        .with_study(move |study| {
            let reading = study.open_case(&account, &case_id)?;
            let waveforms = reading
                .items
                .iter()
                .filter(|i| i.kind.is_waveform())
                .filter_map(|i| Some((i.id, study.item_paper(&account, i.id, page).ok()?)))
                .collect::<Vec<_>>();
            Ok((reading, waveforms))
        })
        .await?;
    let path = format!("/reading/{}", pages::encode(&case));
    Ok(with_lang(
        authed.lang,
        pages::reading_case(&ctx(&authed, &path), &reading, &waveforms, &query),
    ))
}

#[derive(Deserialize)]
struct ReadForm {
    csrf: String,
    label: Option<String>,
    score: Option<String>,
}

async fn record_read(
    State(state): State<AppState>,
    authed: Authed,
    Path(case): Path<String>,
    Form(form): Form<ReadForm>,
) -> Result<Response, WebError> {
    authed.check_csrf(&form.csrf)?;
    let label = match form.label.as_deref().filter(|l| !l.is_empty()) {
        None => None,
        Some(text) => Some(Label::from_cell(text).ok_or_else(|| {
            WebError::BadRequest(format!("`{text}` is not a label ({})", Label::CHOICES))
        })?),
    };
    let score = match form
        .score
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(text) => Some(
            text.parse::<f64>()
                .map_err(|_| WebError::BadRequest(format!("`{text}` is not a number")))?,
        ),
    };
    let account = authed.account.clone();
    let case_id = case.clone();
    state
        .with_study(move |study| study.record_read(&account, &case_id, label, score))
        .await?;
    Ok(Redirect::to(&format!("/reading/{}", pages::encode(&case))).into_response())
}

// ---- results, reports, audit, users ----

async fn analysis(State(state): State<AppState>, authed: Authed) -> Result<Response, WebError> {
    let account = authed.account.clone();
    let analysis = state
        .with_study(move |study| study.acting(&account).latest_analysis())
        .await?;
    let can_run = authed.account.may(Permission::Analyze);
    Ok(with_lang(
        authed.lang,
        pages::analysis(&ctx(&authed, "/analysis"), analysis.as_ref(), can_run),
    ))
}

async fn run_analysis(
    State(state): State<AppState>,
    authed: Authed,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    authed.check_csrf(&form.csrf)?;
    let account = authed.account.clone();
    state
        .with_study(move |study| study.acting(&account).analyze())
        .await?;
    Ok(Redirect::to("/analysis").into_response())
}

/// Reports by name from a fixed list: nothing from the URL reaches the file system.
fn report_kind(name: &str) -> Option<(Lang, Format)> {
    Some(match name {
        "report-ja.pdf" => (Lang::Ja, Format::Pdf),
        "report-en.pdf" => (Lang::En, Format::Pdf),
        "report-ja.html" => (Lang::Ja, Format::Html),
        "report-en.html" => (Lang::En, Format::Html),
        _ => return None,
    })
}

async fn report_download(
    State(state): State<AppState>,
    authed: Authed,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    let Some((lang, format)) = report_kind(&name) else {
        return Err(WebError::App(kizon_app::AppError::NotFound {
            what: "report".into(),
        }));
    };
    let account = authed.account.clone();
    let rendered = state
        .with_study(move |study| study.acting(&account).report(lang, format))
        .await?;
    let content_type = match format {
        Format::Pdf => "application/pdf",
        Format::Html => "text/html; charset=utf-8",
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (
                header::HeaderName::from_static("x-kizon-sha256"),
                rendered.sha256.clone(),
            ),
        ],
        Body::from(rendered.bytes),
    )
        .into_response())
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<usize>,
}

async fn audit(
    State(state): State<AppState>,
    authed: Authed,
    Query(query): Query<PageQuery>,
) -> Result<Response, WebError> {
    let account = authed.account.clone();
    let entries = state
        .with_study(move |study| study.acting(&account).audit_log())
        .await?;
    let page = query.page.unwrap_or(1).max(1);
    let total = entries.len();
    let shown: Vec<_> = entries
        .into_iter()
        .rev()
        .skip((page - 1).saturating_mul(AUDIT_PAGE))
        .take(AUDIT_PAGE)
        .collect();
    Ok(with_lang(
        authed.lang,
        pages::audit(&ctx(&authed, "/audit"), &shown, total, page, AUDIT_PAGE),
    ))
}

async fn users(State(state): State<AppState>, authed: Authed) -> Result<Response, WebError> {
    let account = authed.account.clone();
    let (users, readers) = state
        .with_study(move |study| {
            let acting = study.acting(&account);
            Ok((acting.users()?, acting.reader_sessions()?))
        })
        .await?;
    Ok(with_lang(
        authed.lang,
        pages::users(&ctx(&authed, "/users"), &users, &readers),
    ))
}

#[derive(Deserialize)]
struct UserAddForm {
    csrf: String,
    name: String,
    role: String,
    #[serde(default)]
    reader: String,
    password: String,
}

async fn user_add(
    State(state): State<AppState>,
    authed: Authed,
    Form(form): Form<UserAddForm>,
) -> Result<Response, WebError> {
    authed.check_csrf(&form.csrf)?;
    let role: kizon_app::access::Role = form.role.parse().map_err(|_| {
        WebError::BadRequest(format!(
            "`{}` is not a role (admin, data-manager, reader, statistician, auditor)",
            form.role
        ))
    })?;
    let account = authed.account.clone();
    state
        .with_study(move |study| {
            let reader = Some(form.reader.trim()).filter(|r| !r.is_empty());
            study
                .acting(&account)
                .add_user(&form.name, role, reader, &form.password)
        })
        .await?;
    Ok(Redirect::to("/users").into_response())
}

#[derive(Deserialize)]
struct UserPasswordForm {
    csrf: String,
    name: String,
    password: String,
}

async fn user_password(
    State(state): State<AppState>,
    authed: Authed,
    Form(form): Form<UserPasswordForm>,
) -> Result<Response, WebError> {
    authed.check_csrf(&form.csrf)?;
    let account = authed.account.clone();
    state
        .with_study(move |study| {
            study
                .acting(&account)
                .reset_password(&form.name, &form.password)
        })
        .await?;
    Ok(Redirect::to("/users").into_response())
}

#[derive(Deserialize)]
struct UserActiveForm {
    csrf: String,
    name: String,
    /// `true` to activate, `false` to deactivate.
    active: bool,
}

async fn user_active(
    State(state): State<AppState>,
    authed: Authed,
    Form(form): Form<UserActiveForm>,
) -> Result<Response, WebError> {
    authed.check_csrf(&form.csrf)?;
    let account = authed.account.clone();
    state
        .with_study(move |study| {
            study
                .acting(&account)
                .set_user_active(&form.name, form.active)
        })
        .await?;
    Ok(Redirect::to("/users").into_response())
}

#[derive(Deserialize)]
struct AssignForm {
    csrf: String,
    reader: String,
    /// Case ids separated by commas or spaces; empty: every case of the dataset.
    #[serde(default)]
    cases: String,
}

async fn user_assign(
    State(state): State<AppState>,
    authed: Authed,
    Form(form): Form<AssignForm>,
) -> Result<Response, WebError> {
    authed.check_csrf(&form.csrf)?;
    let cases: Vec<String> = form
        .cases
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    let which = if cases.is_empty() {
        kizon_app::access::Assign::Dataset
    } else {
        kizon_app::access::Assign::Cases(cases)
    };
    let account = authed.account.clone();
    state
        .with_study(move |study| study.acting(&account).assign(&form.reader, &which))
        .await?;
    Ok(Redirect::to("/users").into_response())
}

/// The sessions form: `csrf`, `reader` and one `session` per ticked box (repeated keys).
async fn user_sessions(
    State(state): State<AppState>,
    authed: Authed,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    authed.check_csrf(&field("csrf"))?;
    let reader = field("reader");
    let sessions: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "session")
        .map(|(_, v)| v.clone())
        .collect();
    let account = authed.account.clone();
    state
        .with_study(move |study| study.acting(&account).assign_sessions(&reader, &sessions))
        .await?;
    Ok(Redirect::to("/users").into_response())
}

// ---- the JSON API: the same use cases, for scripts ----

/// Errors of the API as JSON: `{"error", "hint"}` with the status.
pub struct ApiError(WebError);

impl From<WebError> for ApiError {
    fn from(error: WebError) -> ApiError {
        ApiError(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self.0 {
            WebError::SignIn => StatusCode::UNAUTHORIZED,
            ref other => other.status(),
        };
        let (error, hint) = self.0.message();
        (status, Json(json!({ "error": error, "hint": hint }))).into_response()
    }
}

type Api = Result<Json<serde_json::Value>, ApiError>;

fn to_json<T: serde::Serialize>(value: T) -> Api {
    serde_json::to_value(value)
        .map(Json)
        .map_err(|_| ApiError(WebError::Internal))
}

/// The session, for the API: a missing session is 401, not a redirect.
async fn api_auth(
    state: &AppState,
    parts: &mut axum::http::request::Parts,
) -> Result<Authed, ApiError> {
    <Authed as axum::extract::FromRequestParts<AppState>>::from_request_parts(parts, state)
        .await
        .map_err(ApiError)
}

macro_rules! api_authed {
    ($state:expr, $request:expr) => {{
        let (mut parts, _) = $request.into_parts();
        api_auth(&$state, &mut parts).await?
    }};
}

async fn api_items(
    State(state): State<AppState>,
    Query(filters): Query<ItemFilters>,
    request: Request,
) -> Api {
    let authed = api_authed!(state, request);
    let query = item_query(&filters)?;
    to_json(
        state
            .with_study(move |study| study.item_page(&authed.account, &query))
            .await?,
    )
}

async fn api_item(State(state): State<AppState>, Path(id): Path<i64>, request: Request) -> Api {
    let authed = api_authed!(state, request);
    to_json(
        state
            .with_study(move |study| study.item(&authed.account, id))
            .await?,
    )
}

async fn api_findings(State(state): State<AppState>, request: Request) -> Api {
    api_view(state, request, |acting| acting.findings()).await
}

/// A state-changing API request: the session, the `X-CSRF-Token` header and the JSON body.
async fn api_write<T: serde::de::DeserializeOwned>(
    state: &AppState,
    request: Request,
) -> Result<(Authed, T), ApiError> {
    let (mut parts, body) = request.into_parts();
    let authed = api_auth(state, &mut parts).await?;
    let sent = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    authed.check_csrf(&sent)?;
    let bytes = axum::body::to_bytes(body, 1 << 16)
        .await
        .map_err(|_| ApiError(WebError::TooLarge(1 << 16)))?;
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
        axum::body::Bytes::from_static(b"{}")
    } else {
        bytes
    };
    let value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError(WebError::BadRequest(format!("the JSON body: {e}"))))?;
    Ok((authed, value))
}

/// The resolution as the API takes it: the form's fields without its CSRF field.
#[derive(Deserialize)]
struct ApiResolve {
    decision: String,
    reason: String,
    #[serde(default)]
    reason_en: String,
    #[serde(default)]
    cases: String,
}

async fn api_resolve(State(state): State<AppState>, Path(id): Path<i64>, request: Request) -> Api {
    let (authed, body): (Authed, ApiResolve) = api_write(&state, request).await?;
    let form = ResolveForm {
        csrf: String::new(),
        decision: body.decision,
        reason: body.reason,
        reason_en: body.reason_en,
        cases: body.cases,
    };
    to_json(resolve_finding(&state, authed.account, id, form).await?)
}

async fn api_worklist(State(state): State<AppState>, request: Request) -> Api {
    let authed = api_authed!(state, request);
    to_json(
        state
            .with_study(move |study| study.worklist(&authed.account))
            .await?,
    )
}

/// A JSON view of the study as the signed-in account may see it.
async fn api_view<T: serde::Serialize + Send + 'static>(
    state: AppState,
    request: Request,
    view: fn(&Acting<'_>) -> Result<T, kizon_app::AppError>,
) -> Api {
    let authed = api_authed!(state, request);
    to_json(
        state
            .with_study(move |study| view(&study.acting(&authed.account)))
            .await?,
    )
}

async fn api_reads(State(state): State<AppState>, request: Request) -> Api {
    api_view(state, request, |acting| acting.reads()).await
}

async fn api_results(State(state): State<AppState>, request: Request) -> Api {
    api_view(state, request, |acting| acting.results()).await
}

async fn api_analysis(State(state): State<AppState>, request: Request) -> Api {
    api_view(state, request, |acting| acting.latest_analysis()).await
}

async fn api_audit(State(state): State<AppState>, request: Request) -> Api {
    api_view(state, request, |acting| acting.audit_log()).await
}

async fn api_session(State(state): State<AppState>, request: Request) -> Api {
    let authed = api_authed!(state, request);
    to_json(
        state
            .with_study(move |study| study.session_status(&authed.account))
            .await?,
    )
}

async fn api_reading_case(
    State(state): State<AppState>,
    Path(case): Path<String>,
    request: Request,
) -> Api {
    let authed = api_authed!(state, request);
    to_json(
        state
            .with_study(move |study| study.open_case(&authed.account, &case))
            .await?,
    )
}

async fn api_add_mark(
    State(state): State<AppState>,
    Path(case): Path<String>,
    request: Request,
) -> Api {
    let (authed, mark): (Authed, kizon_app::reading::MarkInput) =
        api_write(&state, request).await?;
    to_json(
        state
            .with_study(move |study| study.add_mark(&authed.account, &case, mark))
            .await?,
    )
}

async fn api_delete_mark(
    State(state): State<AppState>,
    Path((case, mark)): Path<(String, i64)>,
    request: Request,
) -> Api {
    let (authed, _): (Authed, serde_json::Value) = api_write(&state, request).await?;
    state
        .with_study(move |study| study.delete_mark(&authed.account, &case, mark))
        .await?;
    to_json(json!({ "deleted": mark }))
}

async fn api_submit(
    State(state): State<AppState>,
    Path(case): Path<String>,
    request: Request,
) -> Api {
    let (authed, submission): (Authed, kizon_app::reading::Submission) =
        api_write(&state, request).await?;
    to_json(
        state
            .with_study(move |study| study.submit_read(&authed.account, &case, submission))
            .await?,
    )
}

async fn api_pause(State(state): State<AppState>, request: Request) -> Api {
    let (authed, _): (Authed, serde_json::Value) = api_write(&state, request).await?;
    state
        .with_study(move |study| study.pause_reading(&authed.account))
        .await?;
    to_json(json!({ "paused": true }))
}
