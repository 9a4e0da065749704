//! The study's later steps on the command line: dataset, readers, reads, reference standard,
//! device results and their locks. Each handler calls one use case and renders its answer.

use kizon_app::Study;
use kizon_app::reference::{Label, NewReader};

use crate::cli::{
    DatasetCommand, MarksCommand, ReadersCommand, ReadsCommand, ReferenceCommand, ResultsCommand,
};
pub(crate) use crate::{Failure, print_json};

type Done = Result<(), Failure>;

pub fn dataset(study: Study, command: DatasetCommand) -> Done {
    let DatasetCommand::Show(flag) = command;
    let locked = study.dataset()?;
    let (dataset, blocking, state) = match locked {
        Some(dataset) => (dataset, Vec::new(), "locked / 固定済み"),
        None => {
            let (dataset, blocking) = study.candidate_dataset()?;
            (dataset, blocking, "not locked yet / 未固定")
        }
    };
    if flag.json {
        return print_json(&serde_json::json!({
            "locked": state.starts_with("locked"),
            "dataset": dataset,
            "blocking_findings": blocking,
        }));
    }
    println!("dataset / データセット: {state}");
    println!(
        "  {} cases collected, {} excluded, {} included with {} items / 収集 {}・除外 {}・採用 {} 症例",
        dataset.collected_cases,
        dataset.excluded.len(),
        dataset.cases.len(),
        dataset.items(),
        dataset.collected_cases,
        dataset.excluded.len(),
        dataset.cases.len()
    );
    println!("  Merkle root: {}", dataset.merkle_root);
    for exclusion in &dataset.excluded {
        println!(
            "  excluded / 除外 {}: finding {} ({}, {}): {}",
            exclusion.case_id,
            exclusion.finding_id,
            exclusion.rule,
            exclusion.clause,
            exclusion.reason
        );
    }
    if !blocking.is_empty() {
        println!(
            "  {} blocking findings open: the lock is refused until each is decided / 未解決の重大な疑義があり固定できません",
            blocking.len()
        );
        for finding in &blocking {
            println!(
                "    #{} [{}] {} on {}",
                finding.id,
                finding.clause,
                finding.rule,
                finding.case_ids.join(" ")
            );
        }
    }
    Ok(())
}

pub fn lock_dataset(mut study: Study, actor: &str, json: bool) -> Done {
    let lock = study.lock_dataset(actor)?;
    if json {
        return print_json(&lock);
    }
    println!(
        "dataset locked / データセットを固定しました: {} cases, {} items, {} excluded (ledger entry {})",
        lock.cases, lock.items, lock.excluded, lock.ledger_seq
    );
    println!("  Merkle root: {}", lock.merkle_root);
    Ok(())
}

pub fn amend_dataset(mut study: Study, actor: &str, reason: kizon_app::text::Reason<'_>) -> Done {
    let lock = study.amend_dataset(actor, reason)?;
    println!(
        "dataset amended / データセットを改訂しました: {} → {} ({} cases, ledger entry {})",
        lock.previous_root.as_deref().unwrap_or("-"),
        lock.merkle_root,
        lock.cases,
        lock.ledger_seq
    );
    Ok(())
}

pub fn readers(mut study: Study, actor: &str, command: ReadersCommand) -> Done {
    match command {
        ReadersCommand::Add(args) => {
            let reader = study.add_reader(
                actor,
                &NewReader {
                    code: args.code,
                    qualification: args.qualification,
                    qualification_en: args.qualification_en,
                    specialty: args.specialty,
                    years_experience: args.years,
                    independent: args.independent,
                    declaration: args.declaration,
                },
            )?;
            println!(
                "reader registered / 読影者を登録しました: {} ({}, {}, {} years / 経験 {} 年, {})",
                reader.code,
                reader.qualification,
                reader.specialty,
                reader.years_experience,
                reader.years_experience,
                independence(&reader)
            );
        }
        ReadersCommand::Assign(args) => {
            let which = if args.dataset {
                kizon_app::access::Assign::Dataset
            } else {
                kizon_app::access::Assign::Cases(args.case)
            };
            let new = study.assign(actor, &args.code, &which)?;
            let total = study.assignments(&args.code)?.len();
            println!(
                "{new} cases newly assigned to reader {} ({total} in all) / 読影症例を割り付けました",
                args.code
            );
        }
        ReadersCommand::List(flag) => {
            let readers = study.readers()?;
            if flag.json {
                return print_json(&readers);
            }
            if readers.is_empty() {
                println!("no readers yet / 読影者は未登録です (kizon readers add)");
            }
            for reader in &readers {
                println!(
                    "{:<6} {} | {} | {} years | {}",
                    reader.code,
                    reader.qualification,
                    reader.specialty,
                    reader.years_experience,
                    independence(reader)
                );
            }
        }
    }
    Ok(())
}

fn independence(reader: &kizon_app::reference::Reader) -> String {
    if reader.independent {
        "independent of the applicant / 申請者から独立".into()
    } else {
        format!(
            "declared tie / 申告: {}",
            reader.declaration.as_deref().unwrap_or("-")
        )
    }
}

fn print_import(summary: &kizon_app::reference::ImportSummary, what: &str, json: bool) -> Done {
    if json {
        return print_json(summary);
    }
    println!(
        "{what}: {} rows, {} new, {} already recorded (file sha256 {}{})",
        summary.rows,
        summary.new,
        summary.unchanged,
        &summary.document[..12],
        summary
            .ledger_seq
            .map(|s| format!(", ledger entry {s}"))
            .unwrap_or_default()
    );
    Ok(())
}

pub fn reads(mut study: Study, actor: &str, command: ReadsCommand) -> Done {
    match command {
        ReadsCommand::Import(args) => {
            study.set_csv_encoding(args.csv.encoding);
            let summary = match &args.modality {
                Some(modality) => study.import_reader_study(actor, &args.file, modality)?,
                None => study.import_reads(actor, &args.file, args.role)?,
            };
            print_import(
                &summary,
                "reads imported / 読影結果を取り込みました",
                args.json,
            )
        }
        ReadsCommand::List(flag) => {
            let reads = study.reads()?;
            if flag.json {
                return print_json(&reads);
            }
            for read in &reads {
                println!(
                    "{:<10} {:<6} {:<11} {:<13} {}",
                    read.case_id,
                    read.reader,
                    read.role.to_string(),
                    read.label.map_or("-", |l| l.as_str()),
                    read.score.map(|s| s.to_string()).unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}

pub fn reference(mut study: Study, actor: &str, command: ReferenceCommand) -> Done {
    match command {
        ReferenceCommand::Import(args) => {
            study.set_csv_encoding(args.csv.encoding);
            let summary = study.import_reference(actor, &args.file)?;
            print_import(
                &summary,
                "reference records imported / 参照標準を取り込みました",
                args.json,
            )
        }
        ReferenceCommand::Show(flag) => {
            let (doc, locked) = study.reference_standard()?;
            if flag.json {
                return print_json(
                    &serde_json::json!({ "locked_sha256": locked, "reference": doc }),
                );
            }
            println!(
                "reference standard / 参照標準: {} ({})",
                doc.kind,
                match &locked {
                    Some(sha) => format!("locked / 固定済み, sha256 {sha}"),
                    None => "not locked yet / 未固定".into(),
                }
            );
            if let Some(rule) = &doc.rule {
                println!(
                    "  consensus rule / 合議規則: {}{}, at least {} panel reads; {} readers, {} reads",
                    rule.consensus,
                    rule.k.map(|k| format!(" (k = {k})")).unwrap_or_default(),
                    rule.minimum_reads,
                    doc.readers.len(),
                    doc.reads
                );
            }
            let count = |label| doc.count(label);
            println!(
                "  {} cases: {} positive / 陽性, {} negative / 陰性, {} indeterminate / 判定不能, {} undecided / 未確定",
                doc.cases.len(),
                count(Label::Positive),
                count(Label::Negative),
                count(Label::Indeterminate),
                doc.cases.len() - doc.decided()
            );
            for case in doc.cases.iter().filter(|c| c.label.is_none()) {
                println!(
                    "    undecided {}: {}",
                    case.case_id,
                    case.note.as_deref().unwrap_or("-")
                );
            }
            if let Some(l) = &doc.lesions {
                println!(
                    "  lesions / 病変: {} in {} cases from {} marks (k = {}{}); {} clusters below k not admitted",
                    l.lesions.len(),
                    l.cases_with_lesions(),
                    l.marks,
                    l.k,
                    if l.adjudication {
                        ", or the adjudicator"
                    } else {
                        ""
                    },
                    l.rejected.len()
                );
                for lesion in &l.lesions {
                    println!(
                        "    {} {} {} {} readers {} ({})",
                        lesion.id,
                        lesion.case_id,
                        lesion.image,
                        lesion.lesion_type.as_deref().unwrap_or("-"),
                        lesion.readers.join(","),
                        match lesion.basis {
                            kizon_app::lesions::LesionBasis::Panel => "panel / 合議",
                            kizon_app::lesions::LesionBasis::Adjudicator => "adjudicator / 判定者",
                            kizon_app::lesions::LesionBasis::Rejected => "rejected / 不採用",
                        }
                    );
                }
            }
            if let Some(agreement) = &doc.agreement {
                if let Some(fleiss) = &agreement.fleiss {
                    println!(
                        "  Fleiss' kappa / 読影者間一致: {:.3} (95% CI {:.3}–{:.3}; {} readers, {} cases)",
                        fleiss.kappa.estimate,
                        fleiss.kappa.lower,
                        fleiss.kappa.upper,
                        fleiss.readers,
                        fleiss.cases
                    );
                }
                for pair in &agreement.pairwise {
                    match &pair.kappa {
                        Some(k) => println!(
                            "  Cohen's kappa {}–{}: {:.3} (95% CI {:.3}–{:.3}; {} cases)",
                            pair.reader_a, pair.reader_b, k.estimate, k.lower, k.upper, pair.cases
                        ),
                        None => println!(
                            "  Cohen's kappa {}–{}: not estimable ({} cases)",
                            pair.reader_a, pair.reader_b, pair.cases
                        ),
                    }
                }
            }
            Ok(())
        }
    }
}

pub fn lock_reference(mut study: Study, actor: &str, json: bool) -> Done {
    let lock = study.lock_reference(actor)?;
    if json {
        return print_json(&lock);
    }
    println!(
        "reference standard locked / 参照標準を固定しました: {} of {} cases decided ({} positive, {} negative), sha256 {} (ledger entry {})",
        lock.decided, lock.cases, lock.positive, lock.negative, lock.sha256, lock.ledger_seq
    );
    Ok(())
}

pub fn results(mut study: Study, actor: &str, command: ResultsCommand) -> Done {
    match command {
        ResultsCommand::Import(args) => {
            study.set_csv_encoding(args.csv.encoding);
            let summary = study.import_results(
                actor,
                &args.file,
                &args.device_version,
                args.device_file.as_deref(),
            )?;
            if args.json {
                return print_json(&summary);
            }
            println!(
                "device results imported / 機器の結果を取り込みました: version {}, {} rows, {} new, {} already recorded{}",
                summary.device_version,
                summary.rows,
                summary.new,
                summary.unchanged,
                summary
                    .ledger_seq
                    .map(|s| format!(" (ledger entry {s})"))
                    .unwrap_or_default()
            );
            if !summary.outside_dataset.is_empty() {
                println!(
                    "  {} rows not imported: their cases are not in the locked dataset / 固定データセット外の症例のため取り込みません: {}",
                    summary.outside_dataset.len(),
                    summary.outside_dataset.join(" ")
                );
            }
            if !summary.missing.is_empty() {
                println!(
                    "  {} of the locked dataset's cases have no result of version {} / 機器の結果がない症例: {}{}",
                    summary.missing.len(),
                    summary.device_version,
                    summary
                        .missing
                        .iter()
                        .take(20)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(" "),
                    if summary.missing.len() > 20 {
                        " …"
                    } else {
                        ""
                    }
                );
            }
            if let Some(planned) = &summary.protocol_version {
                println!(
                    "  version {} differs from the protocol's {planned}: raised as a finding to decide / 計画書の版と異なるため疑義として記録しました (kizon findings --open)",
                    summary.device_version
                );
            }
            if summary.changed > 0 {
                println!(
                    "  {} results differ from those imported before: not changed, raised as findings / 変更された結果を疑義として記録しました (kizon findings --open)",
                    summary.changed
                );
            }
            Ok(())
        }
        ResultsCommand::List(flag) => {
            let results = study.results()?;
            if flag.json {
                return print_json(&results);
            }
            for r in &results {
                println!(
                    "{:<10} {:<10} {:<13} {}",
                    r.case_id,
                    r.device_version,
                    r.label.map_or("-", |l| l.as_str()),
                    r.score.map(|s| s.to_string()).unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}

pub fn analyze(mut study: Study, actor: &str, args: crate::cli::AnalyzeArgs) -> Done {
    let outcome = study.analyze(actor, args.device_version.as_deref())?;
    if args.json {
        use std::io::Write;
        let _ = std::io::stdout().write_all(&kizon_app::analyze::analysis_bytes(&outcome.analysis));
        return Ok(());
    }
    let a = &outcome.analysis;
    println!(
        "analysis / 解析: device {} on {} cases (output sha256 {}, {})",
        a.inputs.device_version,
        a.flow.analysed,
        &outcome.output_sha256[..12],
        match outcome.ledger_seq {
            Some(seq) => format!("ledger entry {seq}"),
            None => "same inputs as before: nothing new recorded / 同一入力の解析は記録済み".into(),
        }
    );
    println!(
        "  flow / 症例の流れ: collected {} → excluded {} → included {} → analysed {} (no reference {}, no result {}, indeterminate {})",
        a.flow.collected,
        a.flow.excluded.iter().map(|g| g.cases.len()).sum::<usize>(),
        a.flow.included,
        a.flow.analysed,
        a.flow.no_reference.len() + a.flow.reference_indeterminate.len(),
        a.flow.no_result.len(),
        a.flow.device_indeterminate.len()
    );
    for e in &a.endpoints {
        let estimate = match &e.estimate {
            Some(x) => format!(
                "{:.3} ({:.0}% CI {:.3}–{:.3}, {})",
                x.estimate,
                e.level * 100.0,
                x.lower,
                x.upper,
                e.ci_method
            ),
            None => "not estimable / 推定不能".into(),
        };
        let table = e
            .table
            .map(|t| format!(" TP {} FP {} FN {} TN {};", t.tp, t.fp, t.fn_, t.tn))
            .unwrap_or_default();
        let verdict = match e.pass {
            Some(true) => " PASS / 適合",
            Some(false) => " FAIL / 不適合",
            None => "",
        };
        println!(
            "  {}{} {} / {}:{table} {estimate}{verdict}",
            e.id,
            if e.primary { " (primary / 主要)" } else { "" },
            e.name_en,
            e.name_ja
        );
        if let Some(criterion) = &e.criterion_en {
            println!("      criterion / 判定基準: {criterion}");
        }
        if let Some(c) = &e.clustered {
            println!(
                "      clustered by patient / 患者単位クラスター: {:.3}–{:.3}",
                c.lower, c.upper
            );
        }
    }
    if let Some(roc) = &a.roc {
        println!(
            "  ROC: AUC {:.3} (95% CI {:.3}–{:.3}, DeLong; {} positive, {} negative)",
            roc.auc.estimate, roc.auc.lower, roc.auc.upper, roc.positives, roc.negatives
        );
    }
    if let Some(l) = &a.lesions {
        let f = &l.figures;
        println!(
            "  lesions / 病変単位 ({}): JAFROC FOM {:.3}{}, {} of {} lesions detected, {} false-positive marks",
            f.criterion,
            f.afroc.estimate,
            match (f.afroc.lower, f.afroc.upper) {
                (Some(lo), Some(hi)) => format!(" (95% CI {lo:.3}–{hi:.3}, bootstrap)"),
                _ => String::new(),
            },
            f.hits,
            f.lesions,
            f.nl_marks
        );
    }
    if let Some(s) = &a.reader_study {
        let p = s
            .p_value
            .map(|p| format!(", p = {p:.4}"))
            .unwrap_or_default();
        println!(
            "  reader study / 読影試験 (MRMC, {} readers, {} cases): {}{}",
            s.readers.len(),
            s.cases,
            s.modality_aucs
                .iter()
                .map(|m| format!("{} AUC {:.3}", m.modality, m.auc.estimate))
                .collect::<Vec<_>>()
                .join(", "),
            s.f.map(|f| format!("; F = {f:.3}{p}")).unwrap_or_default()
        );
    }
    println!("next: kizon report --lang ja --format pdf --out report.pdf");
    Ok(())
}

pub fn package(study_dir: &std::path::Path, actor: &str, args: crate::cli::PackageArgs) -> Done {
    if let Some(crate::cli::PackageCommand::Verify {
        dir,
        public_key,
        head,
        json,
    }) = args.command
    {
        let public_key = public_key
            .as_deref()
            .map(kizon_app::owner_key::read_public_key)
            .transpose()?;
        let check =
            kizon_app::package::verify_package(&dir, public_key.as_deref(), head.as_deref())?;
        if json {
            print_json(&check)?;
        } else {
            println!(
                "package / 資料一式: {} ({} files listed)",
                dir.display(),
                check.files
            );
            for path in &check.altered {
                println!("  altered / 改変: {path}");
            }
            for path in &check.missing {
                println!("  missing / 欠落: {path}");
            }
            for path in &check.added {
                println!("  added / 追加: {path}");
            }
            for problem in &check.problems {
                println!("  problem / 問題: {problem}");
            }
            for note in &check.notes {
                println!("  note: {note}");
            }
            if check.intact() {
                println!(
                    "intact: every hash, the ledger chain, the owner's signatures and the Merkle root match / 改変なし"
                );
            }
        }
        if !check.intact() {
            return Err(Failure {
                what: format!(
                    "{}: {} altered, {} missing, {} added files, {} other problems",
                    dir.display(),
                    check.altered.len(),
                    check.missing.len(),
                    check.added.len(),
                    check.problems.len()
                ),
                hint: "the package differs from what kizon wrote: ask for a fresh copy, or compare with the study".into(),
            });
        }
        return Ok(());
    }
    let Some(out) = args.out else {
        return Err(Failure {
            what: "no output directory".into(),
            hint: "kizon package --out DIR, or kizon package verify DIR".into(),
        });
    };
    let mut study = Study::open(study_dir)?;
    let reports = crate::report_cmd::all_reports(&mut study, actor)?;
    let outcome = study.package(actor, &out, reports)?;
    if args.json {
        return print_json(&outcome);
    }
    println!(
        "evidence package written / 信頼性調査用資料を作成しました: {} ({} files, {} bytes, index sha256 {}, ledger entry {})",
        outcome.dir.display(),
        outcome.files,
        outcome.bytes,
        outcome.index_sha256,
        outcome.ledger_seq
    );
    println!("  index: {}/index.md", outcome.dir.display());
    println!("next: kizon package verify {}", outcome.dir.display());
    Ok(())
}

pub fn marks(mut study: Study, actor: &str, command: MarksCommand) -> Done {
    use kizon_app::lesions::MarksBy;
    match command {
        MarksCommand::Import(args) => {
            study.set_csv_encoding(args.csv.encoding);
            let by = match args.device_version {
                Some(version) => MarksBy::Device { version },
                None => MarksBy::Reader {
                    code: args.reader,
                    role: args.role,
                },
            };
            let summary = study.import_marks(actor, &args.file, &by)?;
            if args.json {
                return print_json(&summary);
            }
            println!(
                "lesion marks imported / 病変マークを取り込みました: {} marks in {} sets ({}), {} new, {} already recorded{}",
                summary.marks,
                summary.sets,
                summary
                    .device_version
                    .as_deref()
                    .map(|v| format!("device {v}"))
                    .unwrap_or_else(|| "readers".into()),
                summary.new,
                summary.unchanged,
                summary
                    .ledger_seq
                    .map(|s| format!(" (ledger entry {s})"))
                    .unwrap_or_default()
            );
            if !summary.outside_dataset.is_empty() {
                println!(
                    "  not imported: cases outside the locked dataset / 固定データセット外の症例: {}",
                    summary.outside_dataset.join(" ")
                );
            }
            if summary.changed > 0 {
                println!(
                    "  {} cases' marks differ from those imported before: not changed, raised as findings / 変更されたマークを疑義として記録しました (kizon findings --open)",
                    summary.changed
                );
            }
            Ok(())
        }
        MarksCommand::List(flag) => {
            let marks = study.marks()?;
            if flag.json {
                return print_json(&marks);
            }
            for m in &marks {
                println!(
                    "{:<10} {:<8} {:<16} {} {}",
                    m.case_id,
                    m.image,
                    m.reader
                        .as_deref()
                        .map(|r| {
                            format!(
                                "{r}/{}",
                                m.role
                                    .as_ref()
                                    .map(|role| role.to_string())
                                    .unwrap_or_default()
                            )
                        })
                        .or_else(|| m.device_version.as_deref().map(|v| format!("device {v}")))
                        .unwrap_or_default(),
                    m.shape,
                    m.rating.map(|r| r.to_string()).unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}
