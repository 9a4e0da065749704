//! Attacks on the study's evidence, performed on the real binary: rows slipped into the
//! database behind kizon's back, a rebuilt table, concurrent commands racing for the ledger's
//! anchor. Each was found to get through once; each must now be caught or refused.

mod common;

use std::path::Path;

use common::*;

/// A row put into a covered table with the sequence number of the next entry used to be sealed
/// into that entry by whatever command ran next, and `audit verify` then called it intact.
#[test]
fn a_row_inserted_ahead_of_the_next_entry_is_refused_not_sealed() {
    let (_tmp, root) = study_with_provider();
    let next = head_seq(&root) + 1;
    sql(
        &root,
        &format!(
            "INSERT INTO providers (name, kind, consent_model, legal_basis, regulator_access, ledger_seq)
             VALUES ('Planted', 'hospital', 'opt-out', 'x', 'yes', {next})"
        ),
    );
    let run = add_provider(&root, "Second").failed();
    assert!(
        run.error_line().contains("`providers` row")
            && run.error_line().contains(&format!("ledger entry {next}")),
        "{}",
        run.stderr
    );
    assert_eq!(head_seq(&root), next - 1, "nothing was appended");
    let verify = kizon(&root, &["audit", "verify"]).failed();
    assert!(
        verify.stdout.contains("`providers`") && verify.stdout.contains("no ledger entry"),
        "{}",
        verify.stdout
    );
}

/// A covered table rebuilt without `NOT NULL` on `ledger_seq` let a row with no sequence number
/// hide from every check (`NOT IN` is never true for NULL).
#[test]
fn a_rebuilt_table_and_its_null_rows_are_found() {
    let (_tmp, root) = study_with_provider();
    sql(
        &root,
        "PRAGMA foreign_keys = OFF;
         ALTER TABLE providers RENAME TO providers_old;
         CREATE TABLE providers (
             id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
             consent_model TEXT NOT NULL, legal_basis TEXT NOT NULL,
             regulator_access TEXT NOT NULL, ledger_seq INTEGER) STRICT;
         INSERT INTO providers SELECT * FROM providers_old;
         DROP TABLE providers_old;
         INSERT INTO providers (name, kind, consent_model, legal_basis, regulator_access, ledger_seq)
             VALUES ('Hidden', 'hospital', 'opt-out', 'x', 'yes', NULL);",
    );
    let verify = kizon(&root, &["audit", "verify"]).failed();
    assert!(
        verify
            .stdout
            .contains("`providers`: 1 rows belong to no ledger entry"),
        "{}",
        verify.stdout
    );
    assert!(
        verify
            .stdout
            .contains("the table `providers` is defined otherwise"),
        "{}",
        verify.stdout
    );
    // And no command seals the hidden row.
    let run = add_provider(&root, "Second").failed();
    assert!(
        run.error_line().contains("no ledger entry (NULL)"),
        "{}",
        run.stderr
    );
}

/// Dropping the append-only triggers, or adding one that rewrites rows, is itself tampering.
#[test]
fn a_dropped_or_added_trigger_is_found() {
    let (_tmp, root) = study_with_provider();
    kizon(&root, &["audit", "verify"]).ok();
    sql(
        &root,
        "DROP TRIGGER resolutions_append_only_delete;
         CREATE TRIGGER quietly AFTER INSERT ON providers BEGIN SELECT 1; END;",
    );
    let verify = kizon(&root, &["audit", "verify"]).failed();
    assert!(
        verify
            .stdout
            .contains("lacks the trigger `resolutions_append_only_delete`"),
        "{}",
        verify.stdout
    );
    assert!(
        verify
            .stdout
            .contains("trigger `quietly` that kizon does not create"),
        "{}",
        verify.stdout
    );
}

/// Forty commands committing at once: each used to rename the others' fixed temporary file
/// away (`ledger.head: No such file or directory`, exit 1 after its commit).
#[test]
fn concurrent_commands_all_succeed_and_the_anchor_ends_at_the_last_entry() {
    let (_tmp, root) = new_study();
    let children: Vec<_> = (0..40)
        .map(|i| {
            command(
                &root,
                &[
                    "provider",
                    "add",
                    &format!("H{i}"),
                    "--kind",
                    "hospital",
                    "--consent",
                    "opt-out",
                    "--legal-basis",
                    "x",
                ],
            )
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for child in children {
        output(child.wait_with_output().unwrap()).ok();
    }
    let head = std::fs::read_to_string(root.join("ledger.head")).unwrap();
    assert!(head.starts_with(&format!("{} ", head_seq(&root))), "{head}");
    let verify = kizon(&root, &["audit", "verify"]).ok();
    assert!(!verify.stdout.contains("interrupted"), "{}", verify.stdout);
    let leftovers: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Recomputes the whole chain after a change to the rows, as a forger with the file (and the
/// format's documentation) would: every entry's row digests and hash, then `ledger.head`.
fn reseal(root: &Path) {
    drop_triggers(root);
    reseal_rows(root);
    restore_triggers(root);
}

fn reseal_rows(root: &Path) {
    let conn =
        kizon_store::db::Db::Sqlite(rusqlite::Connection::open(root.join("kizon.sqlite")).unwrap());
    let entries = kizon_store::ledger::read_all(&conn).unwrap();
    let mut prev = kizon_store::ledger::GENESIS_PREV_HASH.to_owned();
    for entry in entries {
        let mut detail: serde_json::Value = serde_json::from_str(&entry.detail).unwrap();
        detail["rows"] =
            serde_json::Value::Object(kizon_store::ledger::rows_record(&conn, entry.seq).unwrap());
        let detail = detail.to_string();
        let hash = kizon_store::ledger::entry_hash(
            entry.seq,
            &entry.at,
            &entry.actor,
            &entry.command,
            &detail,
            &prev,
        );
        conn.sqlite()
            .unwrap()
            .execute(
                "UPDATE ledger SET detail = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
                rusqlite::params![detail, prev, hash, entry.seq],
            )
            .unwrap();
        std::fs::write(root.join("ledger.head"), format!("{} {hash}\n", entry.seq)).unwrap();
        prev = hash;
    }
}

fn restore_triggers(root: &Path) {
    // The forger puts the append-only triggers back, so the schema check finds nothing.
    let fresh = tempfile::tempdir().unwrap();
    kizon(fresh.path(), &["init", "s"]).ok();
    let source = rusqlite::Connection::open(fresh.path().join("s/kizon.sqlite")).unwrap();
    let sql: Vec<String> = source
        .prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let conn = rusqlite::Connection::open(root.join("kizon.sqlite")).unwrap();
    for statement in sql {
        conn.execute_batch(&format!("{statement};")).unwrap();
    }
}

/// Re-sealing the whole chain after changing a device result used to pass `audit verify`:
/// nothing outside the database vouched for it. The owner's signatures of the locks and the
/// analysis now fail, and the key given from outside catches a wholesale re-keying too.
#[test]
fn a_resealed_chain_fails_the_owners_signatures() {
    let (_tmp, root) = demo_study();
    let public = kizon(&root, &["owner-key", "show", "--json"]).ok().json()["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    kizon(&root, &["audit", "verify", "--public-key", &public]).ok();
    drop_triggers(&root);
    sql(
        &root,
        "UPDATE results SET label = CASE label WHEN 'positive' THEN 'negative' ELSE 'positive' END WHERE id = 1",
    );
    restore_triggers(&root);
    reseal(&root);
    let verify = kizon(&root, &["audit", "verify"]).failed();
    assert!(
        !verify.stdout.contains("rows it created"),
        "{}",
        verify.stdout
    );
    assert!(
        verify
            .stdout
            .contains("the owner's signature does not match the entry"),
        "{}",
        verify.stdout
    );
    // Without the key, the forger cannot sign again; re-keying the study shows against the
    // key from the report's title page.
    let with_key = kizon(&root, &["audit", "verify", "--public-key", &public]).failed();
    assert!(
        with_key.stdout.contains("does not match"),
        "{}",
        with_key.stdout
    );
}

/// Dropping the last entries and rewriting `ledger.head` used to pass; the signature of the
/// dropped package entry is left behind, and a head recorded elsewhere is not in the chain.
#[test]
fn a_truncated_ledger_is_found_by_its_signatures_and_by_head() {
    let (_tmp, root) = demo_study();
    let log = kizon(&root, &["audit", "log", "--json"]).ok().json();
    let last = log.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["command"], "package");
    let seq = last["seq"].as_i64().unwrap();
    drop_triggers(&root);
    sql(&root, &format!("DELETE FROM ledger WHERE seq = {seq}"));
    restore_triggers(&root);
    let before = &log[(seq - 2) as usize];
    std::fs::write(
        root.join("ledger.head"),
        format!("{} {}\n", before["seq"], before["hash"].as_str().unwrap()),
    )
    .unwrap();
    let verify = kizon(&root, &["audit", "verify"]).failed();
    assert!(
        verify.stdout.contains("signed entries were removed"),
        "{}",
        verify.stdout
    );
    let head = last["hash"].as_str().unwrap();
    let verify = kizon(&root, &["audit", "verify", "--head", head]).failed();
    assert!(
        verify.stdout.contains("given with --head"),
        "{}",
        verify.stdout
    );
}

/// A poisoned decode cache used to hide a same-pixels duplicate from the next `check`.
#[test]
fn a_poisoned_decode_cache_is_found() {
    let (_tmp, root) = demo_study();
    drop_triggers(&root);
    sql(
        &root,
        &format!(
            "UPDATE decoded SET pixel_sha256 = '{}' WHERE rowid = (SELECT min(rowid) FROM decoded WHERE pixel_sha256 IS NOT NULL)",
            "0".repeat(64)
        ),
    );
    restore_triggers(&root);
    let verify = kizon(&root, &["audit", "verify"]).failed();
    assert!(
        verify
            .stdout
            .contains("the `decoded` rows it created were altered"),
        "{}",
        verify.stdout
    );
    // Even re-sealed (needing the key to pass the signatures), --deep decodes again.
    reseal(&root);
    let deep = kizon(&root, &["audit", "verify", "--deep"]).failed();
    assert!(
        deep.stdout.contains("decode cache: file"),
        "{}",
        deep.stdout
    );
    assert!(
        deep.stdout.contains("the cache was altered"),
        "{}",
        deep.stdout
    );
}

#[test]
fn a_wrong_passphrase_or_missing_key_refuses_to_sign_and_writes_nothing() {
    let (_tmp, root) = study_with_provider();
    let before = head_seq(&root);
    let run = output(
        command(&root, &["lock", "protocol"])
            .env("KIZON_PASSPHRASE", "not the passphrase")
            .output()
            .unwrap(),
    )
    .failed();
    assert!(run.error_line().contains("does not open"), "{}", run.stderr);
    let run = output(
        command(&root, &["lock", "protocol"])
            .env("KIZON_OWNER_KEY", root.join("no-such.key"))
            .output()
            .unwrap(),
    )
    .failed();
    assert!(
        run.error_line().contains("cannot be read"),
        "{}",
        run.stderr
    );
    assert_eq!(head_seq(&root), before);
    kizon(&root, &["lock", "protocol"]).ok();
    kizon(&root, &["audit", "verify"]).ok();
}

fn ingest_manifest(root: &Path, manifest: &Path) -> Run {
    kizon(
        root,
        &[
            "ingest",
            "--provider",
            "H",
            "--manifest",
            manifest.to_str().unwrap(),
        ],
    )
}

fn item_count(root: &Path) -> usize {
    kizon(root, &["items", "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .len()
}

/// A folder and a file inside it in two rows used to be settled silently by row order.
#[test]
fn overlapping_manifest_rows_are_refused_naming_both_lines() {
    let (tmp, root) = study_with_provider();
    let data = tmp.path().join("d");
    copy_as(
        &data.join("ct"),
        &[
            ("dicom/pydicom/CT_small.dcm", "a.dcm"),
            ("dicom/pydicom/MR_small.dcm", "b.dcm"),
        ],
    );
    let manifest = data.join("m.csv");
    std::fs::write(&manifest, "case_id,path\nC-1,ct\nC-2,ct/b.dcm\n").unwrap();
    let run = ingest_manifest(&root, &manifest).failed();
    assert!(
        run.error_line().contains("m.csv:3: rows overlap")
            && run.error_line().contains("(line 3, case C-2)")
            && run.error_line().contains("(line 2, case C-1)"),
        "{}",
        run.stderr
    );
    assert_eq!(item_count(&root), 0);
}

/// Impossible and future dates used to be accepted by the manifest and the reference import.
#[test]
fn impossible_and_future_dates_are_refused() {
    let (tmp, root) = study_with_provider();
    let data = tmp.path().join("d");
    copy_as(&data, &[("dicom/pydicom/CT_small.dcm", "a.dcm")]);
    let manifest = data.join("m.csv");
    for (date, expected) in [
        ("2023-02-30", "is not a calendar date"),
        ("2023-13-45", "is not a calendar date"),
        ("0000-00-00", "is not a calendar date"),
        ("2099-01-01", "is in the future"),
    ] {
        std::fs::write(
            &manifest,
            format!("case_id,path,diagnosis_date\nC-1,a.dcm,{date}\n"),
        )
        .unwrap();
        let run = ingest_manifest(&root, &manifest).failed();
        assert!(
            run.error_line().contains("m.csv:2: `diagnosis_date`")
                && run.error_line().contains(expected),
            "{date}: {}",
            run.stderr
        );
    }
    assert_eq!(item_count(&root), 0);
}

/// A newline or an escape sequence in a case id used to be stored and printed.
#[test]
fn control_characters_in_case_ids_are_refused_with_the_line() {
    let (tmp, root) = study_with_provider();
    let data = tmp.path().join("d");
    copy_as(&data, &[("dicom/pydicom/CT_small.dcm", "a.dcm")]);
    let manifest = data.join("m.csv");
    std::fs::write(&manifest, "case_id,path\n\"C-1\nC-2\",a.dcm\n").unwrap();
    let run = ingest_manifest(&root, &manifest).failed();
    assert!(
        run.error_line().contains("m.csv:2: `case_id`") && run.error_line().contains("U+000A"),
        "{}",
        run.stderr
    );
    std::fs::write(&manifest, "case_id,path\nC-1\u{1b}[31m,a.dcm\n").unwrap();
    let run = ingest_manifest(&root, &manifest).failed();
    assert!(run.error_line().contains("U+001B"), "{}", run.stderr);
    assert_eq!(item_count(&root), 0);
}

/// Symbolic links and dot-files used to vanish from a folder's count without a word.
#[test]
fn links_and_hidden_files_left_out_are_named() {
    let (tmp, root) = study_with_provider();
    let data = tmp.path().join("d");
    copy_as(
        &data,
        &[
            ("dicom/pydicom/CT_small.dcm", "a.dcm"),
            ("dicom/pydicom/MR_small.dcm", "b.dcm"),
            ("dicom/pydicom/CT_small.dcm", ".hidden.dcm"),
        ],
    );
    std::os::unix::fs::symlink(data.join("b.dcm"), data.join("link.dcm")).unwrap();
    let run = kizon(
        &root,
        &["ingest", "--provider", "H", data.to_str().unwrap()],
    )
    .ok();
    assert!(run.stdout.contains("2 files"), "{}", run.stdout);
    assert!(
        run.stdout.contains("left out / 対象外: 2"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("link.dcm: symbolic link, not followed"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(".hidden.dcm: hidden"), "{}", run.stdout);
    // An empty folder is an error, not "0 files".
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let run = kizon(
        &root,
        &["ingest", "--provider", "H", empty.to_str().unwrap()],
    )
    .failed();
    assert!(
        run.error_line().contains("no files to ingest"),
        "{}",
        run.stderr
    );
}

/// A 20 MB reason used to be stored (twice) and served on every findings page.
#[test]
fn free_text_is_bounded_for_every_command() {
    let (_tmp, root) = study_with_provider();
    let long = "理".repeat(kizon_app_reason_limit() + 1);
    let run = add_provider(&root, &"H".repeat(201)).failed();
    assert!(
        run.error_line().contains("more than the 200 allowed"),
        "{}",
        run.stderr
    );
    kizon(&root, &["lock", "protocol"]).ok();
    std::fs::write(
        root.join("study.toml"),
        std::fs::read_to_string(root.join("study.toml")).unwrap() + "\n# edited\n",
    )
    .unwrap();
    let before = head_seq(&root);
    let run = kizon(&root, &["amend", "--reason", &long]).failed();
    assert!(
        run.error_line().contains("more than the 4000 allowed"),
        "{}",
        run.stderr
    );
    assert_eq!(head_seq(&root), before);
}

fn kizon_app_reason_limit() -> usize {
    4_000
}

/// The owner's public key is printed on the report's title page, so a reviewer holding the
/// report can check the study's and the package's signatures against it.
#[test]
fn the_report_prints_the_owners_public_key() {
    let (_tmp, root) = demo_study();
    let public = kizon(&root, &["owner-key", "show", "--json"]).ok().json()["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    for lang in ["ja", "en"] {
        let html = report_html(&root, lang);
        assert!(html.contains(&public), "{lang}");
    }
}

/// A 1 MB deflated data set claiming far more (a decompression bomb) used to cost 1 GiB per
/// worker, and under a memory limit its recorded problem became "out of memory": what was
/// recorded depended on the machine. Now the bound is fixed and the problem the same everywhere.
#[test]
fn a_deflate_bomb_is_a_fixed_problem_on_every_machine() {
    use std::io::Write;
    let (tmp, root) = study_with_provider();
    let original = std::fs::read(shared("dicom/pydicom/image_dfl.dcm")).unwrap();
    assert_eq!(&original[128..132], b"DICM");
    let meta_length = u32::from_le_bytes(original[140..144].try_into().unwrap()) as usize;
    let data_start = 144 + meta_length;
    let mut bomb = original[..data_start].to_vec();
    let mut deflater = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..300 {
        deflater.write_all(&zeros).unwrap();
    }
    bomb.extend(deflater.finish().unwrap());
    assert!(bomb.len() < 2 << 20, "{} bytes", bomb.len());
    let path = tmp.path().join("bomb.dcm");
    std::fs::write(&path, &bomb).unwrap();
    kizon(
        &root,
        &["ingest", "--provider", "H", path.to_str().unwrap()],
    )
    .ok();
    let items = kizon(&root, &["items", "--json"]).ok().json();
    let problem = items[0]["problem"].as_str().unwrap_or_default().to_owned();
    assert!(problem.contains("inflates to more than 256 MiB"), "{items}");
}

/// An MP4 box: size, type, content.
fn mp4_box(kind: &[u8; 4], content: &[u8]) -> Vec<u8> {
    let mut b = ((content.len() + 8) as u32).to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(content);
    b
}

/// Two sparse 2 GB MP4s (media first, metadata after it) used to be read whole, once per
/// worker: 4.2 GB at peak, and under a 3 GB limit the whole ingest failed with "out of memory".
/// They are now hashed by streaming and inspected from a bounded view, within 1.5 GB of address
/// space, their structure read as from the whole file.
#[test]
fn huge_files_are_ingested_within_bounded_memory() {
    use std::io::{Seek, SeekFrom, Write};
    let (tmp, root) = study_with_provider();
    let data = tmp.path().join("videos");
    std::fs::create_dir_all(&data).unwrap();
    const MEDIA: u64 = 2 << 30;
    for name in ["a.mp4", "b.mp4"] {
        let mut file = std::fs::File::create(data.join(name)).unwrap();
        file.write_all(&mp4_box(b"ftyp", b"isom\0\0\x02\0isomiso2mp41"))
            .unwrap();
        // mdat with a 64-bit size, its content a hole.
        file.write_all(&1u32.to_be_bytes()).unwrap();
        file.write_all(b"mdat").unwrap();
        file.write_all(&(MEDIA + 16).to_be_bytes()).unwrap();
        file.seek(SeekFrom::Current(MEDIA as i64)).unwrap();
        let title = mp4_box(
            b"\xa9nam",
            &mp4_box(b"data", b"\0\0\0\x01\0\0\0\0ward round"),
        );
        file.write_all(&mp4_box(b"moov", &mp4_box(b"udta", &title)))
            .unwrap();
    }
    let run = output(
        std::process::Command::new("sh")
            .current_dir(&root)
            .env("KIZON_HOME", key_home())
            .env("KIZON_PASSPHRASE", PASSPHRASE)
            .arg("-c")
            .arg(format!(
                "ulimit -v 1500000 && exec {KIZON} ingest --provider H {}",
                data.display()
            ))
            .output()
            .unwrap(),
    )
    .ok();
    assert!(run.stdout.contains("2 files"), "{}", run.stdout);
    let size = std::fs::metadata(data.join("a.mp4")).unwrap().len();
    assert!(size > MEDIA);
    let items = kizon(&root, &["items", "--json"]).ok().json();
    for item in items.as_array().unwrap() {
        assert_eq!(item["kind"], "video", "{item}");
        assert_eq!(item["size"].as_u64(), Some(size), "{item}");
        // `moov` lies after 2 GB of media: a prefix would have reported a box overrunning it.
        assert!(item["problem"].is_null(), "{item}");
        assert_eq!(item["metadata"]["tags"]["brand"], "isom", "{item}");
    }
}

/// An analysis row sealed by an appended entry calling itself `report` (a command that is not
/// signed) used to pass verify, and `report` then showed the forged figures: an entry that
/// creates a lock, an amendment or an analysis must be signed whatever its command.
#[test]
fn an_unsigned_entry_that_creates_an_analysis_is_caught() {
    let (_tmp, root) = demo_study();
    let public = kizon(&root, &["owner-key", "show", "--json"]).ok().json()["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let next = head_seq(&root) + 1;
    drop_triggers(&root);
    sql(
        &root,
        &format!(
            "INSERT INTO analyses (inputs_sha256, output, ledger_seq)
               SELECT '{}', output, {next} FROM analyses LIMIT 1;
             INSERT INTO ledger (seq, at, actor, command, detail, prev_hash, hash)
               VALUES ({next}, '2026-12-01T00:00:00.000000Z', 'tester', 'report', '{{\"summary\":\"report\"}}', '', 'x{next}');",
            "ab".repeat(32)
        ),
    );
    reseal_rows(&root);
    restore_triggers(&root);
    let verify = kizon(&root, &["audit", "verify", "--public-key", &public]).failed();
    assert!(
        verify.stdout.contains(&format!(
            "entry {next} (`report`) is not signed by the owner"
        )),
        "{}",
        verify.stdout
    );
}

/// A row hidden from the `ledger_seq` index (an expression index that keys it as TEXT, its SQL
/// then restored) passed `quick_check` and every digest; the full integrity check finds it.
#[test]
fn a_row_hidden_by_a_doctored_index_is_found() {
    let (_tmp, root) = demo_study();
    let conn = rusqlite::Connection::open(root.join("kizon.sqlite")).unwrap();
    let index_sql: String = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'resolutions_ledger_seq'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let seq: i64 = conn
        .query_row("SELECT max(ledger_seq) FROM resolutions", [], |r| r.get(0))
        .unwrap();
    drop(conn);
    sql(
        &root,
        &format!(
            "INSERT INTO resolutions (id, finding_id, decision, reason, ledger_seq)
               VALUES (999, 1, 'accept', 'forged', {seq});
             DROP INDEX resolutions_ledger_seq;
             CREATE INDEX resolutions_ledger_seq ON resolutions(CASE WHEN id = 999 THEN CAST(ledger_seq AS TEXT) ELSE ledger_seq END);
             PRAGMA writable_schema = ON;
             UPDATE sqlite_master SET sql = '{index_sql}' WHERE name = 'resolutions_ledger_seq';
             PRAGMA writable_schema = OFF;"
        ),
    );
    let verify = kizon(&root, &["audit", "verify"]).failed();
    assert!(
        verify.stdout.contains("an index altered"),
        "{}",
        verify.stdout
    );
}

/// A trigger named to slip past `LIKE 'sqlite_stat%'` sealed a forged decision into the
/// owner's next command; it is reported, and no command runs on a schema kizon did not make.
#[test]
fn a_trigger_disguised_as_sqlite_statistics_is_found_and_stops_commands() {
    let (_tmp, root) = demo_study();
    sql(
        &root,
        "CREATE TRIGGER sqlitexstat_seal AFTER INSERT ON documents BEGIN
           INSERT INTO resolutions (finding_id, decision, reason, ledger_seq)
             VALUES (2, 'accept', 'forged', NEW.ledger_seq);
         END;",
    );
    let verify = kizon(&root, &["audit", "verify"]).failed();
    assert!(
        verify.stdout.contains("trigger `sqlitexstat_seal`"),
        "{}",
        verify.stdout
    );
    let before = head_seq(&root);
    let run = add_provider(&root, "Another").failed();
    assert!(
        run.error_line().contains("sqlitexstat_seal"),
        "{}",
        run.stderr
    );
    assert_eq!(head_seq(&root), before);
}

/// `report --out` into a folder that does not exist used to fail after its ledger entry had
/// committed; `package --out X.kizon-partial` failed after the signed package entry.
#[test]
fn commands_that_fail_record_nothing_and_odd_output_names_work() {
    let (tmp, root) = demo_study();
    let before = head_seq(&root);
    let missing = tmp.path().join("no/such/dir/r.html");
    let run = kizon(
        &root,
        &[
            "report",
            "--lang",
            "en",
            "--format",
            "html",
            "--out",
            missing.to_str().unwrap(),
        ],
    )
    .failed();
    assert!(
        run.error_line().contains("no/such/dir/r.html"),
        "{}",
        run.stderr
    );
    assert_eq!(head_seq(&root), before, "nothing recorded");
    let odd = tmp.path().join("pkg.kizon-partial");
    kizon(&root, &["package", "--out", odd.to_str().unwrap()]).ok();
    kizon(tmp.path(), &["package", "verify", odd.to_str().unwrap()]).ok();
}

/// A trigger given the very name of SQLite's statistics table (`sqlite_stat1`), possible with
/// `writable_schema`, hid from a check that skipped objects of that name whatever their type.
#[test]
fn a_trigger_named_like_a_statistics_table_is_found() {
    let (_tmp, root) = study_with_provider();
    let conn = rusqlite::Connection::open(root.join("kizon.sqlite")).unwrap();
    let created = conn.execute_batch(
        "PRAGMA writable_schema = ON;
         CREATE TRIGGER sqlite_stat1 AFTER INSERT ON documents BEGIN SELECT 1; END;
         PRAGMA writable_schema = OFF;",
    );
    drop(conn);
    if created.is_err() {
        // This SQLite refuses the name even so: nothing to hide behind.
        return;
    }
    let verify = kizon(&root, &["audit", "verify"]).failed();
    assert!(
        verify.stdout.contains("trigger `sqlite_stat1`"),
        "{}",
        verify.stdout
    );
    add_provider(&root, "Another").failed();
}

/// A stored value that kizon did not write — a device result's label, an item's metadata —
/// was read as "no label" or as empty metadata, and the case silently changed its part in the
/// analysis. Now the command stops, naming what does not parse (issue 14.1: no silent skipping
/// of an unparsable stored value).
#[test]
fn a_stored_value_that_does_not_parse_stops_the_command() {
    let (_tmp, root) = demo_study();
    drop_triggers(&root);
    sql(
        &root,
        "UPDATE results SET label = 'maybe' WHERE case_id = 'C-020';",
    );
    let run = kizon(&root, &["analyze"]).failed();
    assert!(
        run.error_line().contains("results row")
            && run.error_line().contains("label `maybe` is none of"),
        "{}",
        run.stderr
    );
    sql(
        &root,
        "UPDATE results SET label = 'positive' WHERE case_id = 'C-020';
         UPDATE items SET metadata = '{not json' WHERE id = (SELECT min(id) FROM items);",
    );
    let run = kizon(&root, &["check"]).failed();
    assert!(
        run.error_line().contains("not metadata as kizon writes it"),
        "{}",
        run.stderr
    );
    // An item kind, a finding's severity: each a closed vocabulary.
    sql(
        &root,
        "UPDATE items SET metadata = '{}' WHERE id = (SELECT min(id) FROM items);
         UPDATE items SET kind = 'pdf' WHERE id = (SELECT max(id) FROM items);",
    );
    let run = kizon(&root, &["items"]).failed();
    assert!(
        run.error_line().contains("items row") && run.error_line().contains("kind `pdf`"),
        "{}",
        run.stderr
    );
    sql(
        &root,
        "UPDATE items SET kind = 'dicom' WHERE id = (SELECT max(id) FROM items);
         UPDATE findings SET severity = 'minor' WHERE id = (SELECT min(id) FROM findings);",
    );
    let run = kizon(&root, &["findings"]).failed();
    assert!(
        run.error_line().contains("severity `minor`"),
        "{}",
        run.stderr
    );
    // A provider whose kind is not one was left out of the report's provider table in silence.
    sql(
        &root,
        "UPDATE findings SET severity = 'warning' WHERE id = (SELECT min(id) FROM findings);
         UPDATE providers SET kind = 'clinic' WHERE id = (SELECT min(id) FROM providers);",
    );
    let out = root.join("report.html");
    let run = kizon(
        &root,
        &[
            "report",
            "--lang",
            "en",
            "--format",
            "html",
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .failed();
    assert!(
        run.error_line().contains("providers row") && run.error_line().contains("kind `clinic`"),
        "{}",
        run.stderr
    );
    kizon(&root, &["provider", "list"]).failed();
}

/// A device result flipped in place (its trigger dropped, the row updated, the trigger put back
/// word for word) passes the check every write makes, and `kizon analyze`, `report` and
/// `package` used to sign and ship the flipped figures: `package verify` then said intact, since
/// a package holds no rows. Each now refuses a study that fails `audit verify`, records nothing
/// and writes no package.
#[test]
fn a_study_that_fails_verify_is_never_analysed_reported_or_packaged() {
    let (tmp, root) = demo_study();
    drop_triggers(&root);
    sql(
        &root,
        "UPDATE results SET label = CASE label WHEN 'positive' THEN 'negative' ELSE 'positive' END WHERE id = 1",
    );
    restore_triggers(&root);
    kizon(&root, &["audit", "verify"]).failed();
    let before = head_seq(&root);
    let pkg = tmp.path().join("pkg");
    let html = tmp.path().join("report.html");
    for args in [
        &["analyze"][..],
        &[
            "report",
            "--lang",
            "en",
            "--format",
            "html",
            "--out",
            html.to_str().unwrap(),
        ][..],
        &["package", "--out", pkg.to_str().unwrap()][..],
    ] {
        let run = kizon(&root, args).failed();
        assert!(
            run.error_line().contains("fails `kizon audit verify`")
                && run
                    .error_line()
                    .contains("`results` rows it created were altered"),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert_eq!(head_seq(&root), before, "nothing recorded");
    assert!(
        !pkg.exists() && !html.exists(),
        "no package or report written"
    );
}

/// `index.md`, the listing a reviewer reads (titles, SHA-256 column, ledger head, Merkle root),
/// lies outside the index's hashes and used to be taken as it stood: an edited one passed
/// `package verify`. It must now say what `index.json` says.
#[test]
fn an_edited_package_listing_is_found() {
    let (tmp, root) = demo_study();
    let pkg = tmp.path().join("pkg");
    kizon(&root, &["package", "--out", pkg.to_str().unwrap()]).ok();
    kizon(tmp.path(), &["package", "verify", pkg.to_str().unwrap()]).ok();
    let listing = pkg.join("index.md");
    let text = std::fs::read_to_string(&listing).unwrap();
    let forged = text.replacen("| 解析結果", "| 解析結果（最終版）", 1);
    assert_ne!(forged, text);
    std::fs::write(&listing, forged).unwrap();
    let run = kizon(tmp.path(), &["package", "verify", pkg.to_str().unwrap()]).failed();
    assert!(
        run.stdout.contains("altered / 改変: index.md"),
        "{}",
        run.stdout
    );
    std::fs::remove_file(&listing).unwrap();
    let run = kizon(tmp.path(), &["package", "verify", pkg.to_str().unwrap()]).failed();
    assert!(run.stdout.contains("index.md"), "{}", run.stdout);
}

/// Stripping the owner's key from the first entry and deleting every signature, then sealing
/// the chain again, needs no key at all; `audit verify` used to call such a ledger intact with
/// a note, and the owner's next lock or analysis went on unsigned without a word.
#[test]
fn a_ledger_stripped_of_its_owners_key_fails_verify_and_signs_nothing() {
    let (_tmp, root) = demo_study();
    drop_triggers(&root);
    sql(
        &root,
        "UPDATE ledger SET detail = json_remove(detail, '$.owner_public_key') WHERE seq = 1;
         DELETE FROM signatures;",
    );
    reseal_rows(&root);
    restore_triggers(&root);
    let verify = kizon(&root, &["audit", "verify"]).failed();
    assert!(
        verify.stdout.contains("the study records no owner's key"),
        "{}",
        verify.stdout
    );
    let before = head_seq(&root);
    let pkg = root.join("pkg");
    let run = kizon(&root, &["package", "--out", pkg.to_str().unwrap()]).failed();
    assert!(
        run.error_line().contains("records no owner's key"),
        "{}",
        run.stderr
    );
    assert_eq!(head_seq(&root), before);
}
