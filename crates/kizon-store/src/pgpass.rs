//! The PostgreSQL password file, as libpq reads it (PostgreSQL documentation, "The Password
//! File"): `PGPASSFILE`, else `~/.pgpass`; lines `hostname:port:database:username:password`,
//! the first four fields matching exactly or `*`, `\:` and `\\` escaping; the first line that
//! matches gives the password; `#` starts a comment. Operations teams keep passwords there
//! rather than in a URL or in `PGPASSWORD`, which other processes of the user can see.
//!
//! One difference from libpq: a file that group or others may read is an error naming it,
//! where libpq warns and ignores the file (the connection would then fail for want of a
//! password, which says nothing about why).

use std::path::{Path, PathBuf};

/// The connection a password is looked up for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wanted<'a> {
    /// The host as the URL names it; a Unix socket in a default folder counts as `localhost`,
    /// as in libpq (any other socket folder is matched by its path).
    pub host: &'a str,
    pub port: u16,
    pub database: &'a str,
    pub user: &'a str,
}

/// The password file to read: `PGPASSFILE`, else `.pgpass` in the home folder.
pub(crate) fn file() -> Option<PathBuf> {
    match std::env::var_os("PGPASSFILE").filter(|p| !p.is_empty()) {
        Some(path) => Some(PathBuf::from(path)),
        None => std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|home| Path::new(&home).join(".pgpass")),
    }
}

/// The password for `wanted` in the file at `path`: `Ok(None)` when there is no such file or no
/// line matches; an error (one line, naming the file) when it cannot be read or others may
/// read it.
pub(crate) fn lookup(path: &Path, wanted: Wanted<'_>) -> Result<Option<String>, String> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    if !meta.is_file() {
        return Err(format!(
            "{}: the password file is not a file",
            path.display()
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(format!(
                "{}: the password file may be read by others; make it its owner's alone (chmod 600 {})",
                path.display(),
                path.display()
            ));
        }
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(find(&text, wanted))
}

/// The password the first matching line of a password file's `text` gives.
pub(crate) fn find(text: &str, wanted: Wanted<'_>) -> Option<String> {
    let port = wanted.port.to_string();
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(fields)
        .find(|fields| {
            let [host, port_field, database, user, _] = fields;
            matches(host, wanted.host)
                && matches(port_field, &port)
                && matches(database, wanted.database)
                && matches(user, wanted.user)
        })
        .map(|[_, _, _, _, password]| password)
}

fn matches(field: &str, value: &str) -> bool {
    field == "*" || field == value
}

/// A line's five fields with their escapes undone, or `None` for a line that has fewer.
/// As in libpq, the password ends at its first unescaped `:` (whatever follows is ignored).
fn fields(line: &str) -> Option<[String; 5]> {
    let mut out: Vec<String> = Vec::with_capacity(5);
    let mut field = String::new();
    let mut chars = line.trim_end_matches('\r').chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => field.push(chars.next().unwrap_or('\\')),
            ':' if out.len() == 4 => break,
            ':' => out.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    if out.len() < 4 {
        return None;
    }
    out.push(field);
    out.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const WANTED: Wanted<'static> = Wanted {
        host: "db.example",
        port: 5432,
        database: "study1",
        user: "kizon",
    };

    #[test]
    fn the_first_matching_line_gives_the_password() {
        let text = "# the study's servers\n\
                    db.example:5433:*:kizon:wrong-port\n\
                    other:5432:*:kizon:wrong-host\n\
                    db.example:5432:study1:clerk:wrong-user\n\
                    *:*:study1:kizon:first\n\
                    db.example:5432:study1:kizon:second\n";
        assert_eq!(find(text, WANTED).as_deref(), Some("first"));
        assert_eq!(find("db.example:5432:study2:kizon:x\n", WANTED), None);
        assert_eq!(find("", WANTED), None);
    }

    #[test]
    fn escapes_and_colons_in_the_password_read_as_libpq_reads_them() {
        let text = "db\\:example:5432:study1:kizon:x\n\
                    db.example:5432:study1:kizon:pa\\:ss\\\\:ignored\n";
        assert_eq!(find(text, WANTED).as_deref(), Some("pa:ss\\"));
        let escaped_host = Wanted {
            host: "db:example",
            ..WANTED
        };
        assert_eq!(find(text, escaped_host).as_deref(), Some("x"));
    }

    #[test]
    fn short_lines_comments_and_crlf_are_skipped_or_trimmed() {
        let text = "db.example:5432:study1\r\n  # db.example:5432:study1:kizon:commented\r\n\
                    db.example:5432:study1:kizon:crlf\r\n";
        assert_eq!(find(text, WANTED).as_deref(), Some("crlf"));
    }

    #[cfg(unix)]
    #[test]
    fn a_file_others_may_read_is_refused_by_name_and_a_missing_one_is_none() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pgpass");
        assert_eq!(lookup(&path, WANTED), Ok(None));
        std::fs::write(&path, "*:*:*:*:secret\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = lookup(&path, WANTED).unwrap_err();
        assert!(refused.contains("chmod 600"), "{refused}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(lookup(&path, WANTED), Ok(Some("secret".into())));
    }
}
