//! Text output for people: the plan, lists, the ledger and the verify report.

use std::fmt::Write;

use kizon_app::plan::PlanView;
use kizon_app::{Evidence, LedgerEntry, Provider, VerifyReport};

use crate::cli::Lang;

/// Writes `ja / en`, `ja` or `en` according to `lang`.
fn both(lang: Lang, ja: &str, en: &str) -> String {
    match lang {
        Lang::Ja => ja.to_owned(),
        Lang::En => en.to_owned(),
        Lang::Both => format!("{ja} / {en}"),
    }
}

pub fn plan(view: &PlanView, lang: Lang) -> String {
    let plan = &view.plan;
    let mut out = String::new();
    let l = |ja: &str, en: &str| both(lang, ja, en);
    let _ = writeln!(
        out,
        "{}",
        l(
            "性能評価試験の規制上の取扱い",
            "Regulatory plan of the performance evaluation test"
        )
    );
    let _ = writeln!(
        out,
        "{}: {} {}",
        l("試験", "Study"),
        view.study_id,
        view.study_title
    );
    let _ = writeln!(out, "{}: {}", l("被験機器", "Device"), view.device);
    let state = match (view.protocol_locked, view.draft) {
        (true, _) => l("固定済み", "locked"),
        (false, true) => l(
            "草案（固定後に変更あり、未改訂）",
            "DRAFT: changed since the lock, not amended",
        ),
        (false, false) => l("未固定", "not locked"),
    };
    let _ = writeln!(
        out,
        "{}: sha256 {} ({state})",
        l("計画書", "Protocol"),
        view.protocol_sha256
    );
    let _ = writeln!(
        out,
        "{}: {} ({} {}; {} {}, {})",
        l("適用したＱ＆Ａ", "Q&A applied"),
        plan.rules_version.id,
        l("施行", "in force from"),
        plan.rules_version.in_force_from,
        l("基準日", "as of"),
        plan.as_of,
        match view.as_of_source {
            "planned_on" => l("計画日 planned_on", "the protocol's planned_on"),
            "--as-of" => l("--as-of で指定", "given with --as-of"),
            _ => l("実行日", "today"),
        }
    );
    let _ = writeln!(out);
    let row = |out: &mut String, label: String, value: &str, clause: &str| {
        let _ = writeln!(out, "  {label}: {value}  [{clause}]");
    };
    row(
        &mut out,
        l("試験区分（課長通知）", "Test type (Director's notice)"),
        plan.test_type.as_str(),
        "Q4",
    );
    row(
        &mut out,
        l("承認申請時の申請区分", "Application category"),
        plan.application_category.unwrap_or(&l(
            "Ｑ＆Ａの対象外（ＰＭＤＡに相談）",
            "outside the Q&A (consult PMDA)",
        )),
        "Q10",
    );
    row(
        &mut out,
        l("試験プロトコルの相談区分", "Protocol consultation"),
        plan.protocol_consultation,
        "Q10",
    );
    row(
        &mut out,
        l("信頼性確保の方法の相談区分", "Reliability consultation"),
        plan.reliability_consultation,
        "Q10",
    );
    row(
        &mut out,
        l("症例一覧表", "Case list"),
        &if plan.case_list_required {
            l("要", "required")
        } else {
            l("不要", "not required")
        },
        "Q10",
    );
    let _ = writeln!(out, "  {}:", l("添付資料", "Attachments"));
    for a in &plan.required_attachments {
        let _ = writeln!(out, "    - {}", l(a.name_ja, a.name_en));
    }

    let _ = writeln!(out, "\n{} (Q6, Q9)", l("根拠資料", "Evidence"));
    if plan.evidence_checklist.is_empty() {
        let _ = writeln!(
            out,
            "  {}",
            l("データ提供元が未登録", "no provider registered")
        );
    }
    for provider in &plan.evidence_checklist {
        let (kind_ja, kind_en) = provider.kind.names();
        let (consent_ja, consent_en) = provider.consent_model.names();
        let _ = writeln!(
            out,
            "  {} ({}, {}): {}",
            provider.provider,
            l(kind_ja, kind_en),
            l(consent_ja, consent_en),
            if provider.complete {
                l("揃っている", "complete")
            } else {
                l("不足あり", "incomplete")
            }
        );
        for item in &provider.items {
            let mark = match item.status {
                "present" => "[x]",
                "missing" => "[ ]",
                "optional" => "[?]",
                _ => "[-]",
            };
            let count = if item.documents > 0 {
                format!(" ({})", item.documents)
            } else {
                String::new()
            };
            let line = format!(
                "    {mark} {}{count} {}",
                l(item.name_ja, item.name_en),
                status_word(item.status, lang)
            );
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }

    let _ = writeln!(out, "\n{}", l("注意事項", "Flags"));
    if plan.flags.is_empty() {
        let _ = writeln!(out, "  {}", l("なし", "none"));
    }
    for flag in &plan.flags {
        write_message(
            &mut out,
            flag.clause,
            flag.code,
            &flag.message_ja,
            &flag.message_en,
            lang,
        );
    }
    if !view.protocol_warnings.is_empty() {
        let _ = writeln!(out, "\n{}", l("計画書の確認事項", "Protocol warnings"));
        for w in &view.protocol_warnings {
            let _ = writeln!(out, "  ! {}", l(&w.message_ja, &w.message_en));
        }
    }
    let _ = writeln!(out, "\n{}", l("判断の理由", "Reasons"));
    for reason in &plan.reasons {
        write_message(
            &mut out,
            reason.clause,
            reason.decision,
            &reason.message_ja,
            &reason.message_en,
            lang,
        );
    }
    out
}

fn status_word(status: &str, lang: Lang) -> String {
    match status {
        "present" => String::new(),
        "missing" => format!("— {}", both(lang, "不足", "missing")),
        "optional" => format!("— {}", both(lang, "任意", "optional")),
        _ => format!("— {}", both(lang, "該当なし", "not applicable")),
    }
}

fn write_message(out: &mut String, clause: &str, code: &str, ja: &str, en: &str, lang: Lang) {
    let _ = writeln!(out, "  [{clause}] {code}");
    if lang != Lang::En {
        let _ = writeln!(out, "      {ja}");
    }
    if lang != Lang::Ja {
        let _ = writeln!(out, "      {en}");
    }
}

pub fn providers(providers: &[Provider]) -> String {
    if providers.is_empty() {
        return "no provider registered / データ提供元は未登録です\n".into();
    }
    let mut out = String::new();
    for p in providers {
        let (kind_ja, kind_en) = kizon_app::names::provider_kind(&p.kind);
        let (consent_ja, consent_en) = kizon_app::names::consent_model(&p.consent_model);
        let _ = writeln!(
            out,
            "{}\t{kind_ja} / {kind_en}\t{consent_ja} / {consent_en}\t同意文書での規制当局の閲覧 / regulator access in consent: {}\t法的根拠 / legal basis: {}",
            p.name, p.regulator_access, p.legal_basis
        );
    }
    out
}

pub fn evidence(evidence: &[Evidence]) -> String {
    if evidence.is_empty() {
        return "no evidence document / 根拠資料は未登録です\n".into();
    }
    let mut out = String::new();
    for e in evidence {
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{} bytes\tsha256 {}{}",
            e.provider,
            e.kind,
            e.file_name,
            e.size,
            e.document,
            e.note
                .as_ref()
                .map(|n| format!("\t{n}"))
                .unwrap_or_default()
        );
    }
    out
}

pub fn ledger(entries: &[LedgerEntry]) -> String {
    let mut out = String::new();
    for e in entries {
        let _ = writeln!(
            out,
            "{:>5}  {}  {:<12}  {:<16}  {}  {}",
            e.seq,
            e.at,
            e.actor,
            e.command,
            &e.hash[..12],
            e.summary()
        );
    }
    if let Some(last) = entries.last() {
        let _ = writeln!(out, "head: {} {}", last.seq, last.hash);
    }
    out
}

pub fn verify(report: &VerifyReport) -> String {
    let mut out = String::new();
    for note in &report.notes {
        let _ = writeln!(out, "note: {note}");
    }
    for p in &report.problems {
        let _ = writeln!(out, "problem: {}", p.message);
    }
    if report.intact() {
        let head = report
            .head
            .as_ref()
            .map(|(seq, hash)| format!("; head {seq} {hash}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "intact / 改ざんなし: {} ledger entries, {} documents{head}",
            report.entries, report.documents
        );
    }
    out
}

pub fn ingest(summary: &kizon_app::ingest::IngestSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "ingested / 取込み: {} files, {} added, {} unchanged and skipped, {} new cases, {} with problems",
        summary.files,
        summary.added,
        summary.skipped_unchanged,
        summary.cases_added,
        summary.problems
    );
    for (kind, n) in &summary.by_kind {
        let _ = writeln!(out, "  {kind}: {n}");
    }
    if !summary.skipped.is_empty() {
        let _ = writeln!(
            out,
            "left out / 対象外: {} (symbolic links and hidden files in the folders given)",
            summary.skipped.len()
        );
        for skipped in summary.skipped.iter().take(20) {
            let _ = writeln!(out, "  {}: {}", skipped.path, skipped.reason);
        }
        if summary.skipped.len() > 20 {
            let _ = writeln!(
                out,
                "  … and {} more (kizon ingest --json lists them all)",
                summary.skipped.len() - 20
            );
        }
    }
    out
}

/// An item as `kizon items --json` shows it: fixed keys, metadata as an object.
pub fn item_json(item: &kizon_app::Item) -> serde_json::Value {
    serde_json::json!({
        "id": item.id,
        "path": item.path,
        "kind": item.kind,
        "sha256": item.sha256,
        "size": item.size,
        "case_id": item.case_id,
        "provider": item.provider,
        "problem": item.problem,
        "metadata": item.metadata,
    })
}

pub fn items(items: &[serde_json::Value]) -> String {
    let mut out = String::new();
    for item in items {
        let text = |key: &str| item[key].as_str().unwrap_or("").to_owned();
        let problem = item["problem"]
            .as_str()
            .map(|p| format!("\tproblem: {p}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}{problem}",
            text("case_id"),
            text("kind"),
            &text("sha256")[..12.min(text("sha256").len())],
            text("path")
        );
    }
    let _ = writeln!(out, "{} items", items.len());
    out
}

pub fn findings(findings: &[kizon_app::check::FindingView]) -> String {
    let mut out = String::new();
    for f in findings {
        let _ = writeln!(
            out,
            "#{} [{}] {} {} ({}) cases: {}",
            f.id,
            f.clause,
            f.severity,
            f.rule,
            f.status,
            f.case_ids.join(", ")
        );
        let _ = writeln!(out, "    {}", f.message_ja);
        let _ = writeln!(out, "    {}", f.message_en);
        if let Some(reason) = &f.reason {
            let _ = writeln!(out, "    reason / 理由: {reason}");
        }
    }
    let _ = writeln!(out, "{} findings", findings.len());
    out
}
