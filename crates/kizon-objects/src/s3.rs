//! Documents in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW): keys
//! `PREFIX/sha256/ab/abcdef…`, one PUT per new object (S3 makes an object visible whole or not
//! at all), each checked on read against its name.
//!
//! Requests are signed by `rusty-s3` (AWS Signature Version 4, presigned for five minutes) and
//! sent by `ureq`. The credentials come from the environment as every S3 tool reads them
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optionally `AWS_SESSION_TOKEN`); they are
//! never written into the study folder. A bucket behind a hospital's own certificate authority
//! is reached with `AWS_CA_BUNDLE` naming a PEM file of that authority's certificates.
//!
//! A PUT carries the object's SHA-256 (`x-amz-checksum-sha256`), so a store that checks it
//! refuses an upload damaged on the way instead of keeping it under the name.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use url::Url;

use crate::{ObjectsError, StoredObject, sha256_hex};

/// How long a signed request stays valid: long enough for a slow upload to start.
const SIGNED_FOR: Duration = Duration::from_secs(300);
/// The largest object read back (a document, not an image series).
const LARGEST_OBJECT: u64 = 8 << 30;
const DEFAULT_REGION: &str = "us-east-1";
/// The object that marks a prefix as one study's.
const CLAIM: &str = "kizon-study";
/// Keys per listing request (S3's largest; small in this crate's tests, to page).
const LIST_PAGE: usize = if cfg!(test) { 3 } else { 1000 };

/// Where a study's objects are: `s3://BUCKET/PREFIX?endpoint=URL&region=R`.
///
/// Without `endpoint` the bucket is AWS S3's in `region` (virtual-host addressing); with it,
/// the bucket is addressed by path, as MinIO and most S3-compatible stores expect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Empty, or ends with `/`.
    pub prefix: String,
    pub endpoint: Option<Url>,
    pub region: String,
}

impl S3Location {
    /// Parses an `s3://` URL. The environment's `AWS_ENDPOINT_URL` and `AWS_REGION` (or
    /// `AWS_DEFAULT_REGION`) fill what the URL leaves out; [`S3Location::to_url`] then writes
    /// them out, so every machine of a study reaches the same bucket.
    pub fn parse(text: &str) -> Result<S3Location, ObjectsError> {
        let bad = |why: &str| {
            ObjectsError::Config(format!(
                "`{text}`: {why}; write s3://BUCKET/PREFIX?endpoint=http://HOST:PORT&region=REGION"
            ))
        };
        // Checked before parsing: the URL parser would quietly resolve `a/../b` to `b`.
        let path_part = text.split(['?', '#']).next().unwrap_or_default();
        if path_part
            .split('/')
            .skip(3)
            .any(|part| part == ".." || part == ".")
        {
            return Err(bad("`.` and `..` are not allowed in the prefix"));
        }
        let url = Url::parse(text.trim()).map_err(|e| bad(&e.to_string()))?;
        if url.scheme() != "s3" {
            return Err(bad("not an s3:// URL"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "credentials do not belong in the URL (it is kept in the study folder); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead",
            ));
        }
        let bucket = url
            .host_str()
            .filter(|b| !b.is_empty())
            .ok_or_else(|| bad("no bucket"))?
            .to_owned();
        let mut prefix = url.path().trim_matches('/').to_owned();
        if !prefix.is_empty() {
            prefix.push('/');
        }
        let mut endpoint = None;
        let mut region = None;
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "endpoint" => endpoint = Some(value.into_owned()),
                "region" => region = Some(value.into_owned()),
                other => return Err(bad(&format!("unknown parameter `{other}`"))),
            }
        }
        let from_env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let endpoint = endpoint.or_else(|| from_env("AWS_ENDPOINT_URL"));
        let endpoint = match endpoint {
            None => None,
            Some(text) => {
                let parsed =
                    Url::parse(&text).map_err(|e| bad(&format!("endpoint `{text}`: {e}")))?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                    return Err(bad(&format!("endpoint `{text}` is not an http(s) URL")));
                }
                if !parsed.username().is_empty() || parsed.password().is_some() {
                    return Err(bad(
                        "credentials do not belong in the endpoint (it is kept in the study folder); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead",
                    ));
                }
                Some(parsed)
            }
        };
        let region = region
            .or_else(|| from_env("AWS_REGION"))
            .or_else(|| from_env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| DEFAULT_REGION.to_owned());
        if region.is_empty()
            || !region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(bad(&format!("region `{region}` is not a region's name")));
        }
        Ok(S3Location {
            bucket,
            prefix,
            endpoint,
            region,
        })
    }

    /// The URL that names this location completely (endpoint and region written out).
    pub fn to_url(&self) -> String {
        let mut url = format!(
            "s3://{}/{}?",
            self.bucket,
            self.prefix.trim_end_matches('/')
        );
        if let Some(endpoint) = &self.endpoint {
            url.push_str("endpoint=");
            // Readable: only what would end or change the parameter is escaped.
            for c in endpoint.as_str().chars() {
                match c {
                    '%' => url.push_str("%25"),
                    '&' => url.push_str("%26"),
                    '#' => url.push_str("%23"),
                    '+' => url.push_str("%2B"),
                    ' ' => url.push_str("%20"),
                    c => url.push(c),
                }
            }
            url.push('&');
        }
        url.push_str("region=");
        url.push_str(&self.region);
        url
    }
}

impl fmt::Display for S3Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)?;
        if let Some(endpoint) = &self.endpoint {
            write!(f, " at {endpoint}")?;
        }
        Ok(())
    }
}

/// A connection to one bucket and prefix.
pub struct S3Store {
    location: S3Location,
    pub(crate) bucket: Bucket,
    pub(crate) credentials: Credentials,
    pub(crate) agent: ureq::Agent,
}

impl S3Store {
    /// Prepares requests to `location` with the environment's credentials (no request is sent).
    pub fn connect(location: S3Location) -> Result<S3Store, ObjectsError> {
        let credentials = Credentials::from_env().ok_or_else(|| {
            ObjectsError::Config(format!(
                "{location}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials) to reach the study's object store"
            ))
        })?;
        S3Store::connect_with(location, credentials)
    }

    /// As [`S3Store::connect`], with these credentials.
    pub fn connect_with(
        location: S3Location,
        credentials: Credentials,
    ) -> Result<S3Store, ObjectsError> {
        let (endpoint, style) = match &location.endpoint {
            Some(endpoint) => (endpoint.clone(), UrlStyle::Path),
            None => (
                Url::parse(&format!("https://s3.{}.amazonaws.com", location.region)).map_err(
                    |e| ObjectsError::Config(format!("region `{}`: {e}", location.region)),
                )?,
                UrlStyle::VirtualHost,
            ),
        };
        let bucket = Bucket::new(
            endpoint,
            style,
            location.bucket.clone(),
            location.region.clone(),
        )
        .map_err(|e| ObjectsError::Config(format!("{location}: {e:?}")))?;
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(600)));
        if let Some(bundle) = std::env::var_os("AWS_CA_BUNDLE").filter(|v| !v.is_empty()) {
            let pem = std::fs::read(&bundle)
                .map_err(|e| ObjectsError::io(std::path::Path::new(&bundle), e))?;
            let certificates = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
                    Ok(_) => None,
                    Err(e) => Some(Err(e)),
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    ObjectsError::Config(format!("AWS_CA_BUNDLE {}: {e}", bundle.to_string_lossy()))
                })?;
            if certificates.is_empty() {
                return Err(ObjectsError::Config(format!(
                    "AWS_CA_BUNDLE {}: no certificate in it (a PEM file of the certificate authority is expected)",
                    bundle.to_string_lossy()
                )));
            }
            config = config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::Specific(Arc::new(certificates)))
                    .build(),
            );
        }
        Ok(S3Store {
            location,
            bucket,
            credentials,
            agent: config.build().into(),
        })
    }

    pub fn location(&self) -> &S3Location {
        &self.location
    }

    fn key_of(&self, sha256: &str) -> String {
        format!(
            "{}sha256/{}/{sha256}",
            self.location.prefix,
            sha256.get(..2).unwrap_or_default()
        )
    }

    /// `s3://bucket/key` of the object named `sha256`.
    pub fn url_of(&self, sha256: &str) -> String {
        format!("s3://{}/{}", self.location.bucket, self.key_of(sha256))
    }

    /// Stores `bytes` under their SHA-256 unless an intact object is there already.
    pub fn put(&self, bytes: &[u8]) -> Result<StoredObject, ObjectsError> {
        let sha256 = sha256_hex(bytes);
        let stored = StoredObject {
            sha256: sha256.clone(),
            size: bytes.len() as u64,
        };
        match self.get(&sha256)? {
            Some(existing) if sha256_hex(&existing) == sha256 => return Ok(stored),
            Some(_) => {
                return Err(ObjectsError::Tampered(format!(
                    "stored document {} does not match its name",
                    self.url_of(&sha256)
                )));
            }
            None => {}
        }
        let key = self.key_of(&sha256);
        let checksum = base64::engine::general_purpose::STANDARD
            .encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
        let mut action = self.bucket.put_object(Some(&self.credentials), &key);
        action
            .headers_mut()
            .insert("x-amz-checksum-sha256", checksum.clone());
        let url = action.sign(SIGNED_FOR);
        let response = self
            .agent
            .put(url.as_str())
            .header("x-amz-checksum-sha256", &checksum)
            .send(bytes)
            .map_err(|e| self.unreachable("PUT", &sha256, &e))?;
        self.expect_success("PUT", &sha256, response)?;
        Ok(stored)
    }

    /// The object named `sha256`, or `None` when the bucket has no such key. Not checked here
    /// ([`crate::Objects::get`] checks).
    pub fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>, ObjectsError> {
        self.get_key(&self.key_of(sha256), sha256)
    }

    /// The object at `key`, or `None` when the bucket has no such key; `sha256` names it in
    /// messages (empty for the claim).
    fn get_key(&self, key: &str, sha256: &str) -> Result<Option<Vec<u8>>, ObjectsError> {
        let url = self
            .bucket
            .get_object(Some(&self.credentials), key)
            .sign(SIGNED_FOR);
        let mut response = self
            .agent
            .get(url.as_str())
            .call()
            .map_err(|e| self.unreachable("GET", sha256, &e))?;
        if !response.status().is_success() {
            let refused = self.refused("GET", sha256, &mut response);
            // A missing key is a missing document; a missing bucket is a wrong objects.url.
            if response.status().as_u16() == 404 && !refused.to_string().contains("NoSuchBucket") {
                return Ok(None);
            }
            return Err(refused);
        }
        response
            .body_mut()
            .with_config()
            .limit(LARGEST_OBJECT)
            .read_to_vec()
            .map(Some)
            .map_err(|e| self.unreachable("GET", sha256, &e))
    }

    /// Deletes the object named `sha256`.
    pub fn delete(&self, sha256: &str) -> Result<(), ObjectsError> {
        let url = self
            .bucket
            .delete_object(Some(&self.credentials), &self.key_of(sha256))
            .sign(SIGNED_FOR);
        let response = self
            .agent
            .delete(url.as_str())
            .call()
            .map_err(|e| self.unreachable("DELETE", sha256, &e))?;
        self.expect_success("DELETE", sha256, response)
    }

    /// Every object whose key starts with `prefix`, as (last part of the key, `s3://` URL),
    /// sorted; `limit` stops early (a probe asks for one).
    fn list_keys(&self, prefix: &str, limit: usize) -> Result<Vec<(String, String)>, ObjectsError> {
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut action = self.bucket.list_objects_v2(Some(&self.credentials));
            action.with_prefix(prefix);
            action.with_max_keys(limit.min(LIST_PAGE));
            if let Some(token) = &token {
                action.with_continuation_token(token.clone());
            }
            let url = action.sign(SIGNED_FOR);
            let mut response = self
                .agent
                .get(url.as_str())
                .call()
                .map_err(|e| self.unreachable("LIST", "", &e))?;
            if !response.status().is_success() {
                return Err(self.refused("LIST", "", &mut response));
            }
            let body = response
                .body_mut()
                .with_config()
                .limit(64 << 20)
                .read_to_string()
                .map_err(|e| self.unreachable("LIST", "", &e))?;
            let page = rusty_s3::actions::ListObjectsV2::parse_response(&body).map_err(|e| {
                ObjectsError::Remote(format!("{}: listing not understood: {e}", self.location))
            })?;
            for object in page.contents {
                let name = object.key.rsplit('/').next().unwrap_or_default().to_owned();
                let url = format!("s3://{}/{}", self.location.bucket, object.key);
                found.push((name, url));
            }
            token = page.next_continuation_token;
            if token.is_none() || found.len() >= limit {
                break;
            }
        }
        found.sort();
        Ok(found)
    }

    pub fn list(&self) -> Result<Vec<(String, String)>, ObjectsError> {
        self.list_keys(&format!("{}sha256/", self.location.prefix), usize::MAX)
    }

    /// Whether the bucket is reachable with these credentials and holds nothing under the
    /// prefix yet, not even another study's claim (a new study must not share its prefix).
    pub fn probe_empty(&self) -> Result<bool, ObjectsError> {
        Ok(self.list_keys(&self.location.prefix, 1)?.is_empty())
    }

    /// Marks the prefix as one study's (`PREFIX/kizon-study`, holding `text`), so that a second
    /// `init` on it is refused even before the first has stored a document. Only if nothing
    /// claims it yet (a conditional write, `If-None-Match: *`, which AWS S3 and MinIO honour):
    /// `Ok(false)` when another claim got there first, even at the same moment. A store that
    /// ignores the condition writes the claim regardless, as before.
    pub fn claim(&self, text: &str) -> Result<bool, ObjectsError> {
        let key = format!("{}{CLAIM}", self.location.prefix);
        let mut action = self.bucket.put_object(Some(&self.credentials), &key);
        action.headers_mut().insert("if-none-match", "*");
        let url = action.sign(SIGNED_FOR);
        let response = self
            .agent
            .put(url.as_str())
            .header("if-none-match", "*")
            .send(text.as_bytes())
            .map_err(|e| self.unreachable("PUT", "", &e))?;
        if response.status().as_u16() == 412 {
            return Ok(false);
        }
        self.expect_success("PUT", "", response).map(|()| true)
    }

    /// What the prefix's claim says (see [`S3Store::claim`]), or `None` when nothing claims it.
    pub fn read_claim(&self) -> Result<Option<String>, ObjectsError> {
        let key = format!("{}{CLAIM}", self.location.prefix);
        Ok(self
            .get_key(&key, "")?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// Creates the bucket (for a local test store or a first set-up; AWS S3 buckets are
    /// usually made by their administrators).
    pub fn create_bucket(&self) -> Result<(), ObjectsError> {
        let url = self
            .bucket
            .create_bucket(&self.credentials)
            .sign(SIGNED_FOR);
        let response = self
            .agent
            .put(url.as_str())
            .send_empty()
            .map_err(|e| self.unreachable("CREATE BUCKET", "", &e))?;
        self.expect_success("CREATE BUCKET", "", response)
    }

    pub(crate) fn expect_success(
        &self,
        verb: &str,
        sha256: &str,
        mut response: ureq::http::Response<ureq::Body>,
    ) -> Result<(), ObjectsError> {
        if response.status().is_success() {
            Ok(())
        } else {
            Err(self.refused(verb, sha256, &mut response))
        }
    }

    fn what(&self, sha256: &str) -> String {
        if sha256.is_empty() {
            self.location.to_string()
        } else {
            self.url_of(sha256)
        }
    }

    fn unreachable(&self, verb: &str, sha256: &str, error: &ureq::Error) -> ObjectsError {
        ObjectsError::Remote(format!(
            "{}: {verb} failed: {error}; is the object store running and reachable from here?",
            self.what(sha256)
        ))
    }

    /// The store's own words for a refusal: S3 answers with `<Code>` and `<Message>`.
    fn refused(
        &self,
        verb: &str,
        sha256: &str,
        response: &mut ureq::http::Response<ureq::Body>,
    ) -> ObjectsError {
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(1 << 16)
            .read_to_string()
            .unwrap_or_default();
        let element = |name: &str| {
            let open = format!("<{name}>");
            let start = body.find(&open)? + open.len();
            let end = body[start..].find(&format!("</{name}>"))? + start;
            Some(body[start..end].to_owned())
        };
        let code = element("Code").unwrap_or_default();
        let message = element("Message").unwrap_or_default();
        let hint = match status {
            401 | 403 => "; check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the bucket's policy",
            404 if code == "NoSuchBucket" => {
                "; create the bucket first, or correct the s3:// URL (objects.url)"
            }
            _ => "",
        };
        ObjectsError::Remote(format!(
            "{}: {verb} refused: HTTP {status} {code} {message}{hint}",
            self.what(sha256)
        ))
    }
}
