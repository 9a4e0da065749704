//! `package verify`: a package checked offline, every path confined to it, every file against the index and the index against the ledger.

use super::*;

/// Checks a package offline. Fails only when the index itself cannot be read. `public_key`: the
/// owner's key from outside the package (the report's title page); `expected_head`: a ledger
/// hash recorded elsewhere that must be an entry of the package's ledger.
pub fn verify_package(
    dir: &Path,
    public_key: Option<&str>,
    expected_head: Option<&str>,
) -> Result<PackageCheck, AppError> {
    let index_path = dir.join(INDEX);
    let bytes = match read_confined(dir, INDEX, MAX_INDEX_BYTES) {
        Ok(bytes) => bytes,
        Err(Confined::Missing) => {
            return Err(AppError::Refused {
                what: format!("{}: no package index here", index_path.display()),
                hint: "give the directory written by `kizon package --out DIR`".into(),
            });
        }
        Err(Confined::Refused(why)) => {
            return Err(AppError::Refused {
                what: format!("{}: {why}", index_path.display()),
                hint: "give the directory written by `kizon package --out DIR`".into(),
            });
        }
    };
    let index: PackageIndex = serde_json::from_slice(&bytes).map_err(|e| AppError::Refused {
        what: format!("{}: not a kizon package index: {e}", index_path.display()),
        hint: "give the directory written by `kizon package --out DIR`".into(),
    })?;
    let mut check = PackageCheck {
        files: index.files.len(),
        ..PackageCheck::default()
    };
    // The ledger chain, whole, from its first entry to the package's own.
    let mut entries: Vec<kizon_store::LedgerEntry> = Vec::new();
    match read_confined(dir, LEDGER_JSON, MAX_LEDGER_BYTES) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(parsed) => entries = parsed,
            Err(e) => check
                .problems
                .push(format!("{LEDGER_JSON}: not a ledger: {e}")),
        },
        Err(Confined::Missing) => check.problems.push(format!(
            "{LEDGER_JSON} is missing: nothing binds the package to the study's ledger"
        )),
        Err(Confined::Refused(why)) => check.problems.push(format!("{LEDGER_JSON}: {why}")),
    }
    let mut prev = kizon_store::ledger::GENESIS_PREV_HASH.to_owned();
    for (i, e) in entries.iter().enumerate() {
        if e.seq != i as i64 + 1 || e.prev_hash != prev || e.computed_hash() != e.hash {
            check.problems.push(format!(
                "{LEDGER_JSON}: the chain breaks at entry {}",
                e.seq
            ));
            break;
        }
        prev = e.hash.clone();
    }
    let index_sha256 = sha256_hex(&bytes);
    let mut index_bound = false;
    match entries.last() {
        None => check.problems.push(format!(
            "{LEDGER_JSON} holds no entry: a package's ledger runs from the study's creation to the package's own entry"
        )),
        Some(last) => {
            let recorded = last.detail_json().get("index_sha256").and_then(Value::as_str).map(str::to_owned);
            index_bound =
                last.command == "package" && recorded.as_deref() == Some(index_sha256.as_str());
            if !index_bound {
                check.problems.push(format!(
                    "index.json (sha256 {}) is not the index the ledger's last entry records{}: the index or the ledger was changed, or the ledger was shortened",
                    &index_sha256[..12],
                    recorded.map(|r| format!(" ({})", r.chars().take(12).collect::<String>())).unwrap_or_default()
                ));
            }
            let before = entries.iter().rev().nth(1).map(|e| (e.seq, e.hash.as_str()));
            if before != Some((index.ledger_head_seq, index.ledger_head_hash.as_str())) {
                check.problems.push(format!(
                    "{LEDGER_JSON}: the entry before the package's is not the index's head {} {}",
                    index.ledger_head_seq, index.ledger_head_hash
                ));
            }
        }
    }
    let signatures: Vec<ExportedSignature> =
        match read_confined(dir, SIGNATURES_JSON, MAX_LEDGER_BYTES) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                check
                    .problems
                    .push(format!("{SIGNATURES_JSON}: not a list of signatures: {e}"));
                Vec::new()
            }),
            Err(Confined::Missing) => Vec::new(),
            Err(Confined::Refused(why)) => {
                check.problems.push(format!("{SIGNATURES_JSON}: {why}"));
                Vec::new()
            }
        };
    let signatures: Vec<(i64, String, String)> = signatures
        .into_iter()
        .map(|s| (s.seq, s.public_key, s.signature))
        .collect();
    let mut problems = Vec::new();
    crate::signing::check_signatures(
        &entries,
        &signatures,
        public_key,
        &mut problems,
        &mut check.notes,
    );
    check.problems.extend(
        problems
            .into_iter()
            .map(|p| format!("{LEDGER_JSON}: {}", p.message)),
    );
    if let Some(recorded) = crate::signing::recorded_public_key(&entries).map(|(_, k)| k)
        && index.owner_public_key.as_deref() != Some(recorded.as_str())
    {
        check
            .problems
            .push("index.json names another owner's key than the ledger records".into());
    }
    if let Some(head) = expected_head
        && !entries.iter().any(|e| e.hash == head)
    {
        check.problems.push(format!(
            "no entry of {LEDGER_JSON} has the hash {head} given with --head"
        ));
    }
    // Each file is hashed as a stream: memory stays flat whatever the index claims. Only the
    // few documents checked against the ledger below are kept. A path listed twice is refused
    // (hashing one file many times over was a way to make verify run for days).
    let mut contents: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for file in &index.files {
        if !seen.insert(file.path.as_str()) {
            check
                .problems
                .push(format!("index.json lists `{}` more than once", file.path));
            continue;
        }
        // Kept only when of a sane size: a sparse "analysis.json" of gigabytes is hashed as a
        // stream like any other file, never held in memory.
        let keep = KEPT_FOR_CHECKS.contains(&file.path.as_str()) && file.size <= MAX_KEPT_BYTES;
        if !index_bound && file.size > UNBOUND_READ_LIMIT {
            check.problems.push(format!(
                "`{}` ({} bytes) not read: the index is not the one the ledger records, so its large files are not worth hashing",
                file.path, file.size
            ));
            continue;
        }
        match hash_confined(dir, &file.path, file.size, keep) {
            Ok((sha256, bytes)) if sha256 == file.sha256 => {
                if let Some(bytes) = bytes {
                    contents.insert(&file.path, bytes);
                }
            }
            Ok(_) => check.altered.push(file.path.clone()),
            Err(Confined::Missing) => check.missing.push(file.path.clone()),
            Err(Confined::Refused(why)) => {
                check
                    .problems
                    .push(format!("index.json names `{}`: {why}", file.path));
            }
        }
    }
    let listed: BTreeSet<&str> = index
        .files
        .iter()
        .map(|f| f.path.as_str())
        .chain([INDEX, INDEX_MD, LEDGER_JSON, SIGNATURES_JSON])
        .collect();
    let mut present = Vec::new();
    walk(dir, dir, &mut present).map_err(io(dir))?;
    check.added = present
        .into_iter()
        .filter(|p| !listed.contains(p.as_str()))
        .collect();

    // A detail that is not JSON is a problem of its own, never read as empty.
    let mut details: Vec<(String, Value)> = Vec::with_capacity(entries.len());
    for e in &entries {
        match serde_json::from_str(&e.detail) {
            Ok(detail) => details.push((e.command.clone(), detail)),
            Err(error) => check.problems.push(format!(
                "{LEDGER_JSON}: entry {} ({}): its detail is not JSON ({error})",
                e.seq, e.command
            )),
        }
    }
    let last_detail = |commands: &[&str], key: &str| -> Option<String> {
        details
            .iter()
            .rev()
            .find(|(c, _)| commands.contains(&c.as_str()))
            .and_then(|(_, d)| d.get(key).and_then(Value::as_str).map(str::to_owned))
    };

    // The dataset: its Merkle root recomputed, and the document the ledger locked.
    if let Some(bytes) = contents.get("dataset/dataset.json") {
        match serde_json::from_slice::<Dataset>(bytes) {
            Ok(dataset) => {
                let root = dataset.computed_root();
                if root != dataset.merkle_root || Some(&root) != index.dataset_root.as_ref() {
                    check.problems.push(format!("dataset/dataset.json: its cases and files give Merkle root {root}, not the recorded one"));
                }
                if last_detail(&["lock dataset", "amend dataset"], "merkle_root")
                    .is_some_and(|r| r != root)
                {
                    check
                        .problems
                        .push("dataset/dataset.json: not the dataset the ledger locked".into());
                }
            }
            Err(e) => check
                .problems
                .push(format!("dataset/dataset.json: not a dataset: {e}")),
        }
    }
    for (path, commands, key) in [
        (
            "dataset/dataset.json",
            &["lock dataset", "amend dataset"][..],
            "dataset_document",
        ),
        (
            "reference/reference.json",
            &["lock reference"][..],
            "reference_sha256",
        ),
        ("analysis/analysis.json", &["analyze"][..], "output_sha256"),
    ] {
        if let (Some(bytes), Some(expected)) = (contents.get(path), last_detail(commands, key))
            && sha256_hex(bytes) != expected
        {
            check.problems.push(format!(
                "{path}: not the document the ledger records ({} {})",
                commands[0],
                expected.chars().take(12).collect::<String>()
            ));
        }
    }
    // The study as `audit verify` found it when packaged: a package of a study that failed is
    // no evidence, whatever its files' hashes say.
    if let Some(bytes) = contents.get(VERIFICATION_JSON) {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(report) => match report.get("problems").and_then(Value::as_array) {
                Some(problems) if problems.is_empty() => {}
                Some(problems) => check.problems.push(format!(
                    "{VERIFICATION_JSON}: the study failed `kizon audit verify` when it was packaged ({} problem{}; first: {})",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" },
                    problems[0].get("message").and_then(Value::as_str).unwrap_or("?")
                )),
                None => check
                    .problems
                    .push(format!("{VERIFICATION_JSON}: it lists no problems field")),
            },
            Err(e) => check
                .problems
                .push(format!("{VERIFICATION_JSON}: not a verification report: {e}")),
        }
    }
    // index.md is the listing people read (titles, hashes, the head, the Merkle root): it must
    // say what index.json says, word for word, since no hash covers it.
    match read_confined(dir, INDEX_MD, MAX_INDEX_BYTES) {
        Ok(bytes) if bytes == build::index_markdown(&index).as_bytes() => {}
        Ok(_) => check.altered.push(INDEX_MD.to_owned()),
        Err(Confined::Missing) => check.missing.push(INDEX_MD.to_owned()),
        Err(Confined::Refused(why)) => check.problems.push(format!("{INDEX_MD}: {why}")),
    }
    Ok(check)
}

/// The largest index `package verify` reads: far beyond a million files' entries.
pub(super) const MAX_INDEX_BYTES: u64 = 1 << 30;

/// Files larger than this are not hashed when the index is not the one the ledger records.
pub(super) const UNBOUND_READ_LIMIT: u64 = 256 << 20;

/// The largest document `package verify` keeps in memory to check against the ledger.
pub(super) const MAX_KEPT_BYTES: u64 = 256 << 20;

/// The documents `package verify` keeps in memory, to check them against the ledger.
pub(super) const KEPT_FOR_CHECKS: &[&str] = &[
    "dataset/dataset.json",
    "reference/reference.json",
    "analysis/analysis.json",
    VERIFICATION_JSON,
];

/// Hashes the file `relative` of the package as a stream, confined as [`read_confined`] is; a
/// file whose size is not the `declared` one is altered, and is not read at all. With `keep`,
/// its bytes are returned too.
pub(super) fn hash_confined(
    root: &Path,
    relative: &str,
    declared: u64,
    keep: bool,
) -> Result<(String, Option<Vec<u8>>), Confined> {
    use sha2::Digest;
    use std::io::Read;
    let (mut file, size) = open_confined(root, relative)?;
    if size != declared {
        return Ok((String::new(), None));
    }
    let mut hasher = sha2::Sha256::new();
    let mut kept = keep.then(|| Vec::with_capacity(size.min(MAX_KEPT_BYTES) as usize));
    let mut buffer = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(|_| Confined::Missing)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > declared {
            return Ok((String::new(), None));
        }
        hasher.update(&buffer[..n]);
        if let Some(kept) = kept.as_mut() {
            kept.extend_from_slice(&buffer[..n]);
        }
    }
    Ok((kizon_store::ledger::hex(&hasher.finalize()), kept))
}

/// Why a path named by an index was not read.
pub(super) enum Confined {
    /// Nothing (or nothing regular) is there.
    Missing,
    /// The path leaves the package or is not a plain file: never read.
    Refused(String),
}

/// Reads the whole file `relative` of the package (the index, the ledger, the signatures),
/// confined as [`open_confined`] says, and refused unread when larger than `limit`.
pub(super) fn read_confined(root: &Path, relative: &str, limit: u64) -> Result<Vec<u8>, Confined> {
    use std::io::Read;
    let (file, size) = open_confined(root, relative)?;
    if size > limit {
        return Err(Confined::Refused(format!(
            "{size} bytes, more than the {limit} a package's `{relative}` can hold"
        )));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(|_| Confined::Missing)?;
    Ok(bytes)
}

/// Opens the file `relative` of the package in `root`, refusing whatever a hostile index could
/// use to read outside the package or to hang: an absolute path, `..`, `.` or an empty
/// component, a backslash or drive prefix, a symbolic link anywhere on the way, anything but a
/// regular file (a FIFO, a device). Returns the file and its size.
pub(super) fn open_confined(root: &Path, relative: &str) -> Result<(fs::File, u64), Confined> {
    let refused = |why: &str| Err(Confined::Refused(why.to_owned()));
    if relative.is_empty()
        || relative.starts_with('/')
        || relative.contains('\\')
        || relative.contains(':')
        || relative.contains('\0')
    {
        return refused("not a relative path inside the package (absolute, a drive, a backslash)");
    }
    let mut path = root.to_path_buf();
    for component in relative.split('/') {
        if component.is_empty() || component == "." || component == ".." {
            return refused("not a path inside the package (`..`, `.` or an empty component)");
        }
        path.push(component);
        match fs::symlink_metadata(&path) {
            Err(_) => return Err(Confined::Missing),
            Ok(meta) if meta.file_type().is_symlink() => {
                return refused("a symbolic link: a package holds plain files only");
            }
            Ok(_) => {}
        }
    }
    let meta = fs::symlink_metadata(&path).map_err(|_| Confined::Missing)?;
    if !meta.file_type().is_file() {
        return refused("not a regular file (a folder, a FIFO or a device)");
    }
    let file = fs::File::open(&path).map_err(|_| Confined::Missing)?;
    Ok((file, meta.len()))
}

pub(super) fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        // `file_type` does not follow links: a link to a folder is listed (as added), not entered.
        if entry.file_type()?.is_dir() {
            walk(root, &path, out)?;
        } else {
            let relative = path.strip_prefix(root).expect("inside the package");
            out.push(
                relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
        }
    }
    Ok(())
}
