//! Errors at the web edge: one status, one bilingual line, no detail that identifies a patient.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kizon_app::AppError;
use kizon_app::ErrorKind;

#[derive(Debug)]
pub enum WebError {
    App(AppError),
    /// No live session: go to the login page.
    SignIn,
    /// A form without the session's CSRF token.
    Csrf,
    TooManyLogins(u64),
    BadRequest(String),
    TooLarge(usize),
    Internal,
}

impl From<AppError> for WebError {
    fn from(error: AppError) -> WebError {
        WebError::App(error)
    }
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::App(AppError::Forbidden { .. }) => StatusCode::FORBIDDEN,
            WebError::App(AppError::NotFound { .. }) => StatusCode::NOT_FOUND,
            WebError::App(e) if e.kind() == ErrorKind::Conflict => StatusCode::CONFLICT,
            WebError::App(_) | WebError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            WebError::SignIn => StatusCode::SEE_OTHER,
            WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::TooManyLogins(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }

    /// The message and hint shown to the user. A server-side failure (the store, a file) says
    /// only that it happened: its text names server paths, which a client is never shown.
    pub fn message(&self) -> (String, String) {
        match self {
            WebError::App(error) if self.status() == StatusCode::INTERNAL_SERVER_ERROR => {
                eprintln!("internal error: {}", internal_kind(error));
                (
                    "内部エラー / internal error".into(),
                    "try again; if it persists, the server's operator finds the cause with `kizon audit verify`".into(),
                )
            }
            WebError::App(error) => (
                redact_paths(&error.to_string()),
                redact_paths(&error.hint()),
            ),
            WebError::SignIn => ("ログインしてください / please sign in".into(), String::new()),
            WebError::Csrf => (
                "フォームの有効期限が切れたか、不正な送信です / the form is stale or was not sent from this site".into(),
                "reload the page and send it again".into(),
            ),
            WebError::TooManyLogins(seconds) => (
                format!("ログインの失敗が続いたため {seconds} 秒間ログインできません / too many failed logins: wait {seconds} s"),
                "ask the study's admin if you forgot your password".into(),
            ),
            WebError::BadRequest(what) => (what.clone(), "check the form's fields".into()),
            WebError::TooLarge(limit) => (
                format!("ファイルが大きすぎます（上限 {} MiB）/ the upload is larger than {} MiB", limit >> 20, limit >> 20),
                "split the document, or ask the admin to raise `kizon serve --upload-limit-mib`".into(),
            ),
            WebError::Internal => ("内部エラー / internal error".into(), "see the server's log".into()),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if matches!(self, WebError::SignIn) {
            return Redirect::to("/login").into_response();
        }
        let status = self.status();
        let (message, hint) = self.message();
        let mut response =
            (status, crate::pages::error_page(status, &message, &hint)).into_response();
        if let WebError::TooManyLogins(seconds) = self
            && let Ok(value) = seconds.to_string().parse()
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, value);
        }
        response
    }
}

/// What kind of server-side failure, for the server's log: never the error's text, which may
/// name a source path (and a path may carry a patient's name).
fn internal_kind(error: &AppError) -> &'static str {
    match error.kind() {
        ErrorKind::Database => "database",
        ErrorKind::File => "file",
        ErrorKind::Tampered => "the study fails its integrity check",
        ErrorKind::Conflict | ErrorKind::Internal => "application",
    }
}

/// A message as a client may see it: every absolute path cut to its last component, so that no
/// page or API error names where the server keeps the study or the source data.
pub fn redact_paths(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            let bare = word.trim_start_matches(['(', '`', '"', '\'']);
            if bare.starts_with('/') && bare[1..].contains('/') {
                let prefix = &word[..word.len() - bare.len()];
                let last = bare.rsplit('/').next().unwrap_or_default();
                format!("{prefix}…/{last}")
            } else {
                word.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_are_cut_to_their_last_component() {
        assert_eq!(
            super::redact_paths("/tmp/study/demo-sources/images/c005.dcm: gone (see `/var/x/y`)"),
            "…/c005.dcm: gone (see `…/y`)"
        );
        assert_eq!(
            super::redact_paths("frame 3 of 2 / フレーム"),
            "frame 3 of 2 / フレーム"
        );
    }
}
