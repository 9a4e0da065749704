//! `kizon analyze`: every endpoint evaluated, stored by the hash of its inputs.

use clap::Args;

use crate::commands::{Context, Done};

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// The device version to analyse (default: the only one imported)
    #[arg(long)]
    pub device_version: Option<String>,
    /// Print the whole analysis document (JSON)
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: AnalyzeArgs) -> Done {
    let mut study = ctx.open()?;
    let actor = ctx.actor();
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
    for m in &a.method_comparisons {
        let number = |key: &str| m.statistics[key].as_f64();
        let interval =
            |key: &str| match (m.statistics[key][0].as_f64(), m.statistics[key][1].as_f64()) {
                (Some(lo), Some(hi)) => format!(" [{lo:.4}, {hi:.4}]"),
                _ => String::new(),
            };
        let figures = match (number("slope"), number("intercept"), number("bias")) {
            (Some(slope), Some(intercept), _) => format!(
                "slope {slope:.4}{}, intercept {intercept:.4}{}",
                interval("slope_ci"),
                interval("intercept_ci")
            ),
            (_, _, Some(bias)) => format!("bias {bias:.4}{}", interval("bias_ci")),
            _ => String::new(),
        };
        let verdict = match m.pass {
            Some(true) => " PASS / 適合",
            Some(false) => " FAIL / 不適合",
            None => "",
        };
        println!(
            "  method comparison / 相関性試験 {} ({}, n = {}, {} not analysed): {figures}{verdict}",
            m.id,
            m.method,
            m.n,
            m.not_analysed.len()
        );
        for c in &m.criteria {
            println!(
                "      {} {:.4}–{:.4} within [{}, {}] ({}): {}",
                c.quantity,
                c.judged[0],
                c.judged[1],
                c.within[0],
                c.within[1],
                c.judged_on,
                if c.pass { "pass" } else { "fail" }
            );
        }
    }
    println!("next: kizon report --lang ja --format pdf --out report.pdf");
    Ok(())
}
