//! Sessions and CSRF at the edge: the cookie carries a random token whose SHA-256 the store
//! keeps (see kizon-app's `access`); every state-changing form echoes the session's CSRF
//! token, and the login form a pre-login token bound to a cookie (login CSRF).
//!
//! Cookies are `HttpOnly; SameSite=Strict; Path=/` and `Secure` (browsers accept Secure
//! cookies from http://127.0.0.1 and http://localhost, which they treat as secure contexts).
//! A login always issues a new token, whatever cookie came with it (no session fixation).

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use kizon_app::access::Account;

use crate::error::WebError;
use crate::state::AppState;
use kizon_app::Lang;

pub const SESSION_COOKIE: &str = "kizon_session";
pub const LOGIN_COOKIE: &str = "kizon_login";
pub const LANG_COOKIE: &str = "kizon_lang";

/// A request from a signed-in user.
#[derive(Debug, Clone)]
pub struct Authed {
    pub account: Account,
    pub csrf: String,
    pub token: String,
    pub lang: Lang,
}

impl Authed {
    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), WebError> {
        if constant_time_eq(sent.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }
}

/// Compares without an early exit, so timing does not tell how much of a token was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A cookie's value from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// A `Set-Cookie` value; `max_age` 0 deletes the cookie.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> String {
    let secure = if state.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict{secure}; Max-Age={max_age}")
}

/// The page language of a request.
pub fn lang_of(parts: &Parts) -> Lang {
    let from_query = parts.uri.query().and_then(|q| {
        q.split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == "lang")
            .and_then(|(_, value)| Lang::parse(value))
    });
    from_query
        .or_else(|| cookie(&parts.headers, LANG_COOKIE).and_then(|c| Lang::parse(&c)))
        .unwrap_or(Lang::Ja)
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Authed, WebError> {
        let lang = lang_of(parts);
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE).filter(|t| t.len() == 64) else {
            return Err(WebError::SignIn);
        };
        let lookup = token.clone();
        let session = state
            .with_study(move |study| study.session(&lookup))
            .await?;
        let Some((account, csrf)) = session else {
            return Err(WebError::SignIn);
        };
        Ok(Authed {
            account,
            csrf,
            token,
            lang,
        })
    }
}

impl OptionalFromRequestParts<AppState> for Authed {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Authed>, WebError> {
        match <Authed as FromRequestParts<AppState>>::from_request_parts(parts, state).await {
            Ok(authed) => Ok(Some(authed)),
            Err(WebError::SignIn) => Ok(None),
            Err(other) => Err(other),
        }
    }
}

/// The language alone (pages before login).
pub struct PageLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for PageLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<PageLang, Self::Rejection> {
        Ok(PageLang(lang_of(parts)))
    }
}
