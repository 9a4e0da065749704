//! Pulling the cases from the hospital's PACS over DICOMweb (PS3.18): QIDO-RS finds the studies
//! of each accession number or patient ID on the list, WADO-RS retrieves them. The files land in
//! a private temporary folder beside the hand-over, are de-identified from there, and the folder
//! is removed whatever happens, so identifiable files never stay on the disk.
//!
//! Plain HTTP inside the hospital network (a PACS's DICOMweb port); `https://` is refused with a
//! hint. The list is a text file: one accession number per line, or `patient:ID` for all the
//! studies of a patient; `#` starts a comment.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::AppError;
use crate::error::io;

/// One query of the list: by accession number, or by patient ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    Accession(String),
    Patient(String),
}

/// Reads the list of accession numbers and patient IDs.
pub fn read_list(path: &Path) -> Result<Vec<Query>, AppError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let query = match line.strip_prefix("patient:") {
            Some(id) => Query::Patient(id.trim().to_owned()),
            None => Query::Accession(line.to_owned()),
        };
        let value = match &query {
            Query::Accession(v) | Query::Patient(v) => v,
        };
        if value.is_empty()
            || value.len() > 64
            || value.contains(['*', '?', '\\', '&', '=', ' ', '%', '+', '/'])
        {
            return Err(AppError::Refused {
                what: format!(
                    "{}:{}: `{line}` is not an accession number or `patient:ID`",
                    path.display(),
                    n + 1
                ),
                hint: "one accession number per line, or patient:ID; no wildcards".into(),
            });
        }
        out.push(query);
    }
    if out.is_empty() {
        return Err(AppError::Refused {
            what: format!(
                "{}: no accession number or patient ID in it",
                path.display()
            ),
            hint: "one accession number per line, or patient:ID".into(),
        });
    }
    Ok(out)
}

/// The base of a DICOMweb service: `http://host:port/path`.
struct Base {
    host: String,
    port: u16,
    path: String,
}

fn base(url: &str) -> Result<Base, AppError> {
    let refused = |why: &str| {
        AppError::Refused {
        what: format!("--from-dicomweb {url}: {why}"),
        hint: "give the PACS's DICOMweb root over plain HTTP inside the hospital network, e.g. http://pacs.local:8042/dicom-web".into(),
    }
    };
    if url.starts_with("https://") {
        return Err(refused("HTTPS is not supported by this kizon"));
    }
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| refused("not an http:// URL"))?;
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .map_err(|_| refused("the port is not a number"))?,
        ),
        None => (authority, 80),
    };
    if host.is_empty() {
        return Err(refused("no host"));
    }
    Ok(Base {
        host: host.to_owned(),
        port,
        path: format!("/{}", path.trim_end_matches('/')),
    })
}

/// One HTTP/1.1 GET; the status, the Content-Type and the body.
fn get(base: &Base, path_and_query: &str, accept: &str) -> Result<(u16, String, Vec<u8>), String> {
    let address = format!("{}:{}", base.host, base.port);
    let mut stream = TcpStream::connect(&address).map_err(|e| format!("{address}: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(120))).ok();
    stream.set_write_timeout(Some(Duration::from_secs(30))).ok();
    let request = format!(
        "GET {path_and_query} HTTP/1.1\r\nHost: {address}\r\nAccept: {accept}\r\nConnection: close\r\nUser-Agent: kizon/{}\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let head = match response.parse(&raw).map_err(|e| e.to_string())? {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => return Err("the response ended inside its headers".into()),
    };
    let status = response.code.unwrap_or(0);
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).into_owned())
    };
    let content_type = header("content-type").unwrap_or_default();
    let chunked =
        header("transfer-encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
    let mut body = raw[head..].to_vec();
    if chunked {
        body = dechunk(&body)?;
    } else if let Some(length) =
        header("content-length").and_then(|l| l.trim().parse::<usize>().ok())
    {
        if body.len() < length {
            return Err(format!(
                "the response ended after {} of {length} bytes",
                body.len()
            ));
        }
        body.truncate(length);
    }
    Ok((status, content_type, body))
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a chunk size line is cut off")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| format!("a chunk size `{size_text}` is not hexadecimal"))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = data.get(..size).ok_or("a chunk is cut off")?;
        out.extend_from_slice(chunk);
        data = data.get(size + 2..).ok_or("a chunk is cut off")?;
    }
}

/// The Study Instance UIDs a QIDO-RS answer lists.
fn study_uids(json: &[u8]) -> Result<Vec<String>, String> {
    let value: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| format!("not DICOM JSON: {e}"))?;
    let studies = value.as_array().ok_or("not a list of studies")?;
    Ok(studies
        .iter()
        .filter_map(|s| s["0020000D"]["Value"][0].as_str().map(str::to_owned))
        .collect())
}

/// The parts of a `multipart/related` body.
fn parts(content_type: &str, body: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()
        .ok_or("the answer is not multipart (no boundary)")?
        .trim_matches('"');
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut out = Vec::new();
    let positions: Vec<usize> = body
        .windows(delimiter.len())
        .enumerate()
        .filter(|(_, w)| *w == delimiter)
        .map(|(i, _)| i)
        .collect();
    for pair in positions.windows(2) {
        let part = &body[pair[0] + delimiter.len()..pair[1]];
        let start = part
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or("a part has no headers")?
            + 4;
        let end = part.len() - usize::from(part.ends_with(b"\r\n")) * 2;
        out.push(part[start..end].to_vec());
    }
    Ok(out)
}

/// What was pulled.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Pulled {
    pub queries: usize,
    pub studies: usize,
    pub files: usize,
    /// Queries that found no study (by their place on the list: 1, 2, …).
    pub not_found: Vec<usize>,
}

/// Pulls the studies of `queries` from the DICOMweb service at `url` into `into` (a private
/// folder the caller removes).
pub fn pull(url: &str, queries: &[Query], into: &Path) -> Result<Pulled, AppError> {
    let base = base(url)?;
    let failed = |what: String| {
        AppError::Refused {
        what: format!("{url}: {what}"),
        hint: "check that the PACS's DICOMweb service answers at this URL (QIDO-RS /studies, WADO-RS /studies/UID)".into(),
    }
    };
    let mut pulled = Pulled {
        queries: queries.len(),
        ..Pulled::default()
    };
    let mut seen = std::collections::BTreeSet::new();
    for (n, query) in queries.iter().enumerate() {
        let filter = match query {
            Query::Accession(a) => format!("AccessionNumber={a}"),
            Query::Patient(p) => format!("PatientID={p}"),
        };
        let (status, _, body) = get(
            &base,
            &format!("{}/studies?{filter}", base.path),
            "application/dicom+json",
        )
        .map_err(|e| failed(format!("QIDO-RS for line {}: {e}", n + 1)))?;
        let uids = match status {
            200 => {
                study_uids(&body).map_err(|e| failed(format!("QIDO-RS for line {}: {e}", n + 1)))?
            }
            204 => Vec::new(),
            other => {
                return Err(failed(format!(
                    "QIDO-RS for line {} answered HTTP {other}",
                    n + 1
                )));
            }
        };
        if uids.is_empty() {
            pulled.not_found.push(n + 1);
        }
        for uid in uids {
            if !seen.insert(uid.clone()) {
                continue;
            }
            let (status, content_type, body) = get(
                &base,
                &format!("{}/studies/{uid}", base.path),
                "multipart/related; type=\"application/dicom\"",
            )
            .map_err(|e| failed(format!("WADO-RS of a study of line {}: {e}", n + 1)))?;
            if status != 200 {
                return Err(failed(format!(
                    "WADO-RS of a study of line {} answered HTTP {status}",
                    n + 1
                )));
            }
            let files = parts(&content_type, &body).map_err(|e| failed(format!("WADO-RS: {e}")))?;
            pulled.studies += 1;
            let folder = into.join(format!("study-{:04}", pulled.studies));
            std::fs::create_dir_all(&folder).map_err(io(&folder))?;
            for (i, file) in files.iter().enumerate() {
                let path = folder.join(format!("{:05}.dcm", i + 1));
                std::fs::write(&path, file).map_err(io(&path))?;
                pulled.files += 1;
            }
        }
    }
    Ok(pulled)
}

/// A private folder (owner-only) for the pulled files beside `out`, removed when dropped.
pub struct PullFolder(pub PathBuf);

impl PullFolder {
    pub fn beside(out: &Path) -> Result<PullFolder, AppError> {
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = out
            .file_name()
            .map_or("handover".into(), |n| n.to_string_lossy().into_owned());
        let folder = parent.join(format!(".{name}.pulled-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).map_err(io(&folder))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o700))
                .map_err(io(&folder))?;
        }
        Ok(PullFolder(folder))
    }
}

impl Drop for PullFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_parts_and_chunks_are_read() {
        let body = b"--b1\r\nContent-Type: application/dicom\r\n\r\nAAA\r\n--b1\r\nContent-Type: application/dicom\r\n\r\nBB\r\n--b1--\r\n";
        let got = parts(
            "multipart/related; type=\"application/dicom\"; boundary=b1",
            body,
        )
        .unwrap();
        assert_eq!(got, vec![b"AAA".to_vec(), b"BB".to_vec()]);
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap(),
            b"abcde"
        );
    }

    #[test]
    fn urls_and_lists_are_checked() {
        assert!(base("https://pacs/dicom-web").is_err());
        let b = base("http://127.0.0.1:8042/dicom-web/").unwrap();
        assert_eq!(
            (b.host.as_str(), b.port, b.path.as_str()),
            ("127.0.0.1", 8042, "/dicom-web")
        );
    }
}
