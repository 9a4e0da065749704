//! `kizon plan`: the regulatory plan the protocol gives (test type, application category, consultations, evidence, flags).

use std::fmt::Write;

use clap::Args;
use kizon_app::plan::{PlanOptions, PlanView};

use crate::cli::{Lang, parse_date};
use crate::commands::{Context, Done, print_json};

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
    /// Apply the Q&A revision in force on this date (YYYY-MM-DD) instead of `planned_on`
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub as_of: Option<time::Date>,
    /// Use study.toml as edited, even if it differs from the locked protocol
    #[arg(long)]
    pub draft: bool,
    /// Language of the text output
    #[arg(long, value_enum, default_value_t = Lang::Both)]
    pub lang: Lang,
}

pub fn run(ctx: &Context, args: PlanArgs) -> Done {
    let study = ctx.open()?;
    let view = study.plan(PlanOptions {
        as_of: args.as_of,
        draft: args.draft,
    })?;
    if args.json {
        print_json(&view)?;
    } else {
        print!("{}", render(&view, args.lang));
    }
    Ok(())
}

/// Writes `ja / en`, `ja` or `en` according to `lang`.
fn both(lang: Lang, ja: &str, en: &str) -> String {
    match lang {
        Lang::Ja => ja.to_owned(),
        Lang::En => en.to_owned(),
        Lang::Both => format!("{ja} / {en}"),
    }
}

pub fn render(view: &PlanView, lang: Lang) -> String {
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
