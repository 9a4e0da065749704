//! The text output of `kizon stats`: one renderer per result, aligned in two languages.

use std::fmt::Write;

use kizon_app::stats::{
    self, BootstrapAuc, CovarianceMethod, Estimate, KappaResult, KappaWeights, MrmcAnalysis,
    ProportionCi,
};

use super::{KappaArgs, MrmcArgs, RocArgs};

pub(super) fn render_kappa(a: &KappaArgs, result: &KappaResult) -> String {
    let mut out = String::new();
    match result {
        KappaResult::Cohen(k) => {
            let weights = match k.weights {
                KappaWeights::Unweighted => "",
                KappaWeights::Linear => ", linear weights / 線形重み",
                KappaWeights::Quadratic => ", quadratic weights / 二次重み",
            };
            let _ = writeln!(
                out,
                "κ係数 / Cohen's kappa{weights}: {} × {} in {}, {} cases, categories {}",
                k.info.raters[0],
                k.info.raters[1],
                a.csv.display(),
                k.info.cases,
                k.info.categories.join(" < ")
            );
            let mut value = interval(&k.kappa, a.level, "Wald", Digits::Fraction);
            if let Some(se) = k.se {
                let _ = write!(value, "  SE {se:.4}");
            }
            row(&mut out, "κ / kappa", &value);
        }
        KappaResult::Fleiss(k) => {
            let _ = writeln!(
                out,
                "Fleiss の κ / Fleiss' kappa: {} in {}, {} cases, {} raters, categories {}",
                k.info.raters.join(", "),
                a.csv.display(),
                k.info.cases,
                k.raters,
                k.info.categories.join(", ")
            );
            let mut value = interval(
                &k.fleiss_kappa,
                a.level,
                "SE under H0: κ = 0",
                Digits::Fraction,
            );
            if let (Some(z), Some(p)) = (k.z, k.p_value) {
                let _ = write!(value, "  z = {z:.3}, {}", p_value(p));
            }
            row(&mut out, "κ / kappa", &value);
        }
    }
    out
}

pub(super) fn render_roc(a: &RocArgs, r: &stats::RocResult) -> String {
    let mut out = String::new();
    let info = &r.info;
    let _ = writeln!(
        out,
        "ROC 解析 / ROC analysis: {}, truth `{}`: positive `{}` {} cases, negative `{}` {} cases",
        a.csv.display(),
        a.truth,
        info.positive,
        r.n_positive,
        info.negative,
        r.n_negative
    );
    let method = |b: &Option<BootstrapAuc>| match b {
        None => "DeLong".to_string(),
        Some(b) => format!(
            "bootstrap percentile, {} {} replicates, seed {}",
            b.replicates, b.resampling, b.seed
        ),
    };
    let auc_row =
        |out: &mut String, name: &str, e: Estimate, se: Option<f64>, b: &Option<BootstrapAuc>| {
            let mut value = interval(&Some(e), a.level, &method(b), Digits::Fraction);
            if let Some(se) = se {
                let _ = write!(value, "  SE {se:.4} (DeLong)");
            }
            row(out, &format!("AUC `{name}`"), &value);
            if let Some(b) = b {
                row(
                    out,
                    "  BCa",
                    &interval(
                        &b.bca,
                        a.level,
                        "bias-corrected and accelerated",
                        Digits::Fraction,
                    ),
                );
                if b.degenerate_replicates > 0 {
                    row(
                        out,
                        "  ",
                        &format!(
                            "{} replicates without both classes were dropped",
                            b.degenerate_replicates
                        ),
                    );
                }
            }
        };
    auc_row(&mut out, &info.scores[0], r.auc, r.se, &r.bootstrap);
    if let Some(auc2) = r.auc2 {
        auc_row(&mut out, &info.scores[1], auc2, info.se2, &r.bootstrap2);
    }
    if let Some(c) = &r.comparison {
        let mut value = interval(&Some(c.difference), a.level, "DeLong", Digits::Fraction);
        match (c.z, c.p_value) {
            (Some(z), Some(p)) => {
                let _ = write!(value, "  z = {z:.3}, {} (DeLong's test)", p_value(p));
            }
            _ => value.push_str("  z: —（推定不能 / not estimable）"),
        }
        row(
            &mut out,
            &format!(
                "差 / difference `{}` − `{}`",
                info.scores[0], info.scores[1]
            ),
            &value,
        );
    }
    if let (Some(cluster), Some(n)) = (&a.cluster, info.clusters) {
        let _ = writeln!(
            out,
            "注 / note: 患者単位のブートストラップ / whole patients resampled: {n} patients in column `{cluster}`"
        );
    }
    if r.auc.estimate < 0.5 || r.auc2.is_some_and(|e| e.estimate < 0.5) {
        let _ = writeln!(
            out,
            "注 / note: AUC < 0.5: lower scores go with positive cases here; kizon does not flip the direction (check --positive)"
        );
    }
    out
}

pub(super) fn render_mrmc(a: &MrmcArgs, r: &stats::MrmcResult) -> String {
    let mut out = String::new();
    let (analysis_ja, analysis_en) = match r.analysis {
        MrmcAnalysis::RandomReadersRandomCases => {
            ("読影者・症例とも変量", "random readers, random cases")
        }
        MrmcAnalysis::FixedReadersRandomCases => {
            ("読影者固定・症例変量", "fixed readers, random cases")
        }
        MrmcAnalysis::RandomReadersFixedCases => {
            ("読影者変量・症例固定", "random readers, fixed cases")
        }
    };
    let cov = match r.covariance {
        CovarianceMethod::DeLong => "DeLong",
        CovarianceMethod::Jackknife => "jackknife",
    };
    let _ = writeln!(
        out,
        "MRMC 解析 / MRMC analysis: {}: {} readers × {} modalities × {} cases (positive `{}` {}, negative `{}` {})",
        a.csv.display(),
        r.readers,
        r.modalities.len(),
        r.cases,
        a.positive.trim(),
        r.positives,
        r.negative,
        r.negatives
    );
    let _ = writeln!(
        out,
        "Obuchowski–Rockette, {analysis_ja} / {analysis_en}; covariance {cov}; empirical AUC"
    );
    for m in &r.modalities {
        let df = match m.df {
            Some(df) => format!("df {df:.2}"),
            None => "normal".into(),
        };
        let e = Estimate {
            estimate: m.auc,
            lower: m.lower,
            upper: m.upper,
        };
        let mut value = interval(&Some(e), a.level, &df, Digits::Fraction);
        let _ = write!(value, "  SE {:.4}", m.se);
        row(&mut out, &format!("AUC `{}`", m.modality), &value);
    }
    let test = match (r.f, r.p_value) {
        (Some(f), Some(p)) => match (r.chi_square, r.df2) {
            (Some(x2), _) => format!("χ²({}) = {x2:.3}, {}", r.df1, p_value(p)),
            (None, Some(df2)) => format!("F({}, {df2:.2}) = {f:.3}, {}", r.df1, p_value(p)),
            (None, None) => format!("F({}, ∞) = {f:.3}, {}", r.df1, p_value(p)),
        },
        _ => "—（推定不能 / not estimable）".into(),
    };
    row(&mut out, "同等性の検定 / test of equal AUCs", &test);
    for d in &r.differences {
        let e = Estimate {
            estimate: d.estimate,
            lower: d.lower,
            upper: d.upper,
        };
        let df = match d.df {
            Some(df) => format!("t, df {df:.2}"),
            None => "z".into(),
        };
        let mut value = interval(&Some(e), a.level, &df, Digits::Fraction);
        if let Some(p) = d.p_value {
            let _ = write!(value, "  {}", p_value(p));
        }
        row(
            &mut out,
            &format!("差 / difference `{}` − `{}`", d.first, d.second),
            &value,
        );
    }
    let _ = writeln!(out, "読影者別 AUC / reader AUCs:");
    for x in &r.reader_aucs {
        let e = Estimate {
            estimate: x.auc,
            lower: x.lower,
            upper: x.upper,
        };
        row(
            &mut out,
            &format!("  reader `{}`, `{}`", x.reader, x.modality),
            &interval(&Some(e), a.level, cov, Digits::Fraction),
        );
    }
    for w in &r.warnings {
        let _ = writeln!(out, "注 / note: {}", w.message_ja);
        let _ = writeln!(out, "           {}", w.message_en);
    }
    out
}

pub(super) fn render_froc(r: &kizon_app::lesions::LesionFigures) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "病変単位の評価（FROC） / lesion-level evaluation — {}",
        r.criterion
    );
    row(
        &mut out,
        "症例 / cases",
        &format!(
            "{} ({} normal, {} abnormal)",
            r.cases, r.normal_cases, r.abnormal_cases
        ),
    );
    row(&mut out, "画像 / images", &r.images.to_string());
    row(&mut out, "病変 / lesions", &r.lesions.to_string());
    row(
        &mut out,
        "マーク / marks",
        &format!(
            "{} ({} hits, {} false positives, {} duplicates)",
            r.marks, r.hits, r.nl_marks, r.duplicate_marks
        ),
    );
    let fom = |f: &kizon_app::lesions::FomCi| match (f.lower, f.upper) {
        (Some(l), Some(u)) => format!(
            "{} ({} CI {}–{}, bootstrap {} reps)",
            number(f.estimate, Digits::Fraction),
            level_label(r.level),
            number(l, Digits::Fraction),
            number(u, Digits::Fraction),
            r.replicates
        ),
        _ => number(f.estimate, Digits::Fraction),
    };
    row(&mut out, "JAFROC FOM (AFROC)", &fom(&r.afroc));
    row(&mut out, "wAFROC FOM", &fom(&r.wafroc));
    let _ = writeln!(
        out,
        "動作点 / operating point: {}",
        r.threshold
            .map(|t| format!("rating ≥ {t}"))
            .unwrap_or_else(|| "every mark / 全マーク".into())
    );
    row(
        &mut out,
        "病変単位感度 / lesion sensitivity",
        &interval(
            &r.lesion_sensitivity,
            r.level,
            "clustered by case",
            Digits::Fraction,
        ),
    );
    row(
        &mut out,
        "偽陽性/画像 / FPs per image",
        &interval(&r.fp_per_image, r.level, "clustered by case", Digits::Ratio),
    );
    row(
        &mut out,
        "偽陽性/症例 / FPs per case",
        &interval(&r.fp_per_case, r.level, "clustered by case", Digits::Ratio),
    );
    row(
        &mut out,
        "症例単位感度 / case sensitivity",
        &interval(&r.case_sensitivity, r.level, "Wilson", Digits::Fraction),
    );
    row(
        &mut out,
        "症例単位特異度 / case specificity",
        &interval(&r.case_specificity, r.level, "Wilson", Digits::Fraction),
    );
    if let Some(l) = &r.localisation {
        row(
            &mut out,
            "位置の誤差 / localisation",
            &format!(
                "mean {:.3}, median {:.3}, max {:.3}{}",
                l.mean_distance,
                l.median_distance,
                l.max_distance,
                l.mean_iou
                    .map(|i| format!("; mean IoU {i:.3}"))
                    .unwrap_or_default()
            ),
        );
    }
    out
}

/// How many digits a value needs.
#[derive(Clone, Copy)]
pub(super) enum Digits {
    /// Proportions, kappa, AUC: 4 decimals.
    Fraction,
    /// Likelihood and odds ratios: 3 decimals (1 from 100 up).
    Ratio,
}

pub(super) fn number(x: f64, digits: Digits) -> String {
    match digits {
        Digits::Fraction => format!("{x:.4}"),
        Digits::Ratio if x.abs() >= 100.0 => format!("{x:.1}"),
        Digits::Ratio => format!("{x:.3}"),
    }
}

/// `0.9054 (95% CI 0.8825–0.9245, Wilson)`, or the not-estimable mark.
pub(super) fn interval(e: &Option<Estimate>, level: f64, method: &str, digits: Digits) -> String {
    let Some(e) = e else {
        return "—（推定不能 / not estimable）".into();
    };
    let (lower, upper) = (number(e.lower, digits), number(e.upper, digits));
    // An en dash between negative bounds reads as a minus sign: use "to" then.
    let range = if e.lower < 0.0 || e.upper < 0.0 {
        format!("{lower} to {upper}")
    } else {
        format!("{lower}–{upper}")
    };
    format!(
        "{} ({} CI {range}, {method})",
        number(e.estimate, digits),
        level_label(level)
    )
}

/// `95%`, `97.5%`.
pub(super) fn level_label(level: f64) -> String {
    let text = format!("{:.4}", level * 100.0);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}%")
}

pub(super) fn ci_name(ci: ProportionCi) -> &'static str {
    match ci {
        ProportionCi::Wilson => "Wilson",
        ProportionCi::ClopperPearson => "Clopper–Pearson",
        ProportionCi::AgrestiCoull => "Agresti–Coull",
        ProportionCi::Jeffreys => "Jeffreys",
    }
}

pub(super) fn p_value(p: f64) -> String {
    if p < 0.0001 {
        "p < 0.0001".into()
    } else {
        format!("p = {p:.4}")
    }
}

/// Column where values start, in terminal cells.
pub(super) const LABEL_WIDTH: usize = 34;

/// `  label<padding>value`, padding by display width (CJK characters take two cells).
pub(super) fn row(out: &mut String, label: &str, value: &str) {
    let width = display_width(label);
    let pad = LABEL_WIDTH.saturating_sub(width).max(2);
    let _ = writeln!(out, "  {label}{}{value}", " ".repeat(pad));
}

pub(super) fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6 => 2,
            _ => 1,
        })
        .sum()
}

/// A bound pair as text, or "not estimable".
fn bounds(pair: Option<[f64; 2]>) -> String {
    match pair {
        Some([lower, upper]) => format!("{lower:.4} to {upper:.4}"),
        None => "—（推定不能 / not estimable）".into(),
    }
}

/// `kizon stats method-comparison` as text.
pub(super) fn render_method_comparison(
    result: &kizon_app::stats::MethodComparison,
    x: &str,
    y: &str,
) -> String {
    use kizon_app::stats::Comparison;
    let mut out = String::new();
    match &result.comparison {
        Comparison::Regression(r) => {
            let name = match r.method {
                "passing-bablok" => "Passing–Bablok 回帰 / regression",
                "deming" => "Deming 回帰 / regression",
                "weighted-deming" => "重み付き Deming 回帰 / weighted Deming regression",
                _ => "最小二乗法 / ordinary least squares",
            };
            let _ = writeln!(
                out,
                "{name}: {y} (device / 被験) on {x} (comparator / 対照), n = {}",
                r.n
            );
            let level = level_label(r.level);
            row(&mut out, "傾き / slope", &format!("{:.4}", r.slope));
            row(
                &mut out,
                &format!("傾き {level} CI / slope CI"),
                &bounds(r.slope_ci),
            );
            row(&mut out, "切片 / intercept", &format!("{:.4}", r.intercept));
            row(
                &mut out,
                &format!("切片 {level} CI / intercept CI"),
                &bounds(r.intercept_ci),
            );
            if let Some(ratio) = r.error_ratio {
                row(&mut out, "誤差比 / error ratio", &format!("{ratio}"));
            }
            if let Some(c) = &r.cusum {
                row(
                    &mut out,
                    "直線性 Cusum / linearity",
                    &format!(
                        "max {:.3} vs {:.3}: {}",
                        c.max_cusum,
                        c.critical,
                        if c.linear {
                            "直線性の逸脱なし / no deviation from linearity"
                        } else {
                            "直線でない / not linear"
                        }
                    ),
                );
            }
            row(&mut out, "区間の方法 / interval", r.ci_method);
        }
        Comparison::BlandAltman(b) => {
            let _ = writeln!(
                out,
                "Bland–Altman: {y} (device / 被験) − {x} (comparator / 対照), n = {}",
                b.n
            );
            let level = level_label(b.level);
            let a = &b.absolute;
            row(&mut out, "平均差 / bias", &format!("{:.4}", a.bias));
            row(
                &mut out,
                &format!("平均差 {level} CI / bias CI"),
                &bounds(Some(a.bias_ci)),
            );
            row(&mut out, "差の標準偏差 / SD", &format!("{:.4}", a.sd));
            row(
                &mut out,
                "一致限界 / limits of agreement",
                &bounds(Some(a.loa)),
            );
            row(
                &mut out,
                "下限の CI / lower limit CI",
                &bounds(Some(a.loa_lower_ci)),
            );
            row(
                &mut out,
                "上限の CI / upper limit CI",
                &bounds(Some(a.loa_upper_ci)),
            );
            if let Some(r) = &b.relative {
                row(
                    &mut out,
                    "相対平均差 / relative bias (%)",
                    &format!("{:.3}", r.bias),
                );
                row(
                    &mut out,
                    "相対一致限界 / relative limits (%)",
                    &bounds(Some(r.loa)),
                );
            }
            row(&mut out, "限界の CI / limits' CI", b.loa_ci_method);
        }
    }
    let c = &result.correlation;
    let estimate = |e: &Option<Estimate>| match e {
        Some(e) => format!("{:.4} ({:.4} to {:.4})", e.estimate, e.lower, e.upper),
        None => "—（推定不能 / not estimable）".into(),
    };
    row(&mut out, "Pearson r", &estimate(&c.pearson));
    row(
        &mut out,
        "Spearman ρ",
        &c.spearman
            .map_or("—（推定不能 / not estimable）".into(), |r| {
                format!("{r:.4}")
            }),
    );
    row(&mut out, "一致相関係数 / Lin's CCC", &estimate(&c.ccc));
    if let Some(q) = &result.qualitative {
        let a = &q.agreement;
        let _ = writeln!(
            out,
            "判定の一致（カットオフ {}）/ agreement at the cut-off {} (CLSI EP12): both + {}, device only {}, comparator only {}, both − {}",
            a.cutoff, a.cutoff, a.both_positive, a.device_only, a.comparator_only, a.both_negative
        );
        let level = result.level();
        row(
            &mut out,
            "陽性一致率 / PPA",
            &interval(&a.agreement.ppa, level, "Wilson", Digits::Fraction),
        );
        row(
            &mut out,
            "陰性一致率 / NPA",
            &interval(&a.agreement.npa, level, "Wilson", Digits::Fraction),
        );
        row(
            &mut out,
            "全体一致率 / OPA",
            &interval(&a.agreement.opa, level, "Wilson", Digits::Fraction),
        );
        let _ = writeln!(
            out,
            "  カットオフ付近（±{:.0}%）/ near the cut-off: {}",
            a.near_fraction * 100.0,
            q.near_cutoff.len()
        );
        for specimen in &q.near_cutoff {
            let _ = writeln!(
                out,
                "    line {} {}: comparator {}, device {}",
                specimen.line,
                specimen.id.as_deref().unwrap_or(""),
                specimen.comparator,
                specimen.device
            );
        }
    }
    for b in &result.bias_at {
        let percent = b.percent.map_or(String::new(), |p| format!(" ({p:.2}%)"));
        row(
            &mut out,
            &format!("x = {} の偏り / bias", b.level),
            &format!("{:.4}{percent}, CI {}", b.bias, bounds(b.bias_ci)),
        );
    }
    out
}
