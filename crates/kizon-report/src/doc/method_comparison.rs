//! The correlation study (相関性試験) section: per pre-specified method comparison, the
//! estimates with their intervals, the bias at the decision points, the acceptance criteria
//! judged, and two figures (device against comparator with the identity and fitted lines; the
//! Bland–Altman plot).

use super::*;
use crate::format::fixed;
use crate::method_svg;

/// Four significant places for the estimates of a regression, whatever the analyte's scale.
fn num(v: f64) -> String {
    fixed(v, 4)
}

/// `lo to hi` in English, `lo 〜 hi` in Japanese (a dash would read as a minus sign).
fn range(b: &Builder, lo: String, hi: String) -> String {
    match b.lang {
        Lang::Ja => format!("{lo} 〜 {hi}"),
        Lang::En => format!("{lo} to {hi}"),
    }
}

/// An estimate with its interval, headed by the comparison's own confidence level.
fn estimate(b: &Builder, ci_head: &str, e: &crate::model::LesionEstimate) -> String {
    match (e.lower, e.upper) {
        (Some(lo), Some(hi)) => format!(
            "{}{}",
            num(e.estimate),
            b.paren(&format!("{ci_head} {}", range(b, num(lo), num(hi))))
        ),
        _ => num(e.estimate),
    }
}

pub(super) fn method_comparisons(b: &mut Builder) -> Option<Section> {
    let comparisons = &b.r.method_comparisons;
    if comparisons.is_empty() {
        return None;
    }
    let l = labels::method_labels(b.lang);
    let mut blocks = vec![Block::Para {
        text: l.note.to_owned(),
    }];
    for m in comparisons.clone() {
        blocks.push(heading(&format!("{}{}{}", m.id, b.sep(), b.t(&m.method))));
        let mut fields = vec![b.field(l.analysed, m.pairs.len().to_string())];
        if !m.not_analysed.is_empty() {
            fields.push(
                b.field(
                    l.not_analysed,
                    m.not_analysed
                        .iter()
                        .map(|t| b.t(t).to_owned())
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
            );
        }
        fields.push(b.field(l.level, format!("{} %", fixed(m.level * 100.0, 1))));
        blocks.push(Block::Fields { rows: fields });

        let ci_head = labels::ci_heading(b.lang, &level_percent(m.level));
        let mut rows = Vec::new();
        for (name, e) in [
            (l.slope, &m.slope),
            (l.intercept, &m.intercept),
            (l.bias, &m.bias),
            (l.pearson, &m.pearson),
            (l.ccc, &m.ccc),
        ] {
            if let Some(e) = e {
                rows.push(vec![Cell::new(name), Cell::new(estimate(b, &ci_head, e))]);
            }
        }
        if let Some([lo, hi]) = m.loa {
            rows.push(vec![
                Cell::new(l.loa),
                Cell::new(range(b, num(lo), num(hi))),
            ]);
        }
        for (level, e) in &m.bias_at {
            rows.push(vec![
                // The decision point as the protocol wrote it.
                Cell::new(format!("{} {level}", l.bias_at)),
                Cell::new(estimate(b, &ci_head, e)),
            ]);
        }
        let caption = b.table_caption(&format!("{}{}", l.table, b.paren(&m.id)));
        blocks.push(Block::Table(Table {
            caption: Some(caption),
            columns: vec![col(l.quantity, "left", 2), col(l.value, "right", 3)],
            rows,
            small: false,
            group: 1,
            keep: false,
        }));

        if !m.criteria.is_empty() {
            let rows = m
                .criteria
                .iter()
                .map(|c| {
                    let judged = if c.on_estimate {
                        format!("{}{}", num(c.judged[0]), b.paren(l.on_estimate))
                    } else {
                        range(b, num(c.judged[0]), num(c.judged[1]))
                    };
                    vec![
                        Cell::new(b.t(&c.quantity)),
                        Cell::new(range(b, c.within[0].to_string(), c.within[1].to_string())),
                        Cell::new(judged),
                        b.verdict_cell(Some(if c.pass { Verdict::Pass } else { Verdict::Fail })),
                    ]
                })
                .collect();
            let caption = b.table_caption(&format!("{}{}", l.criteria, b.paren(&m.id)));
            blocks.push(Block::Table(Table {
                caption: Some(caption),
                columns: vec![
                    col(l.quantity, "left", 2),
                    col(l.within, "right", 2),
                    col(l.judged, "right", 2),
                    col(l.verdict, "center", 1),
                ],
                rows,
                small: false,
                group: 1,
                keep: false,
            }));
            blocks.push(Block::Fields {
                rows: vec![
                    b.field(
                        l.overall,
                        m.verdict
                            .map(|v| labels::verdict(b.lang, v).to_owned())
                            .unwrap_or_else(|| "—".into()),
                    ),
                ],
            });
        }

        let fit = m
            .slope
            .zip(m.intercept)
            .map(|(s, i)| (i.estimate, s.estimate));
        let title = match (fit.is_some(), m.band.is_empty()) {
            (true, false) => l.scatter_band,
            (true, true) => l.scatter,
            (false, _) => l.scatter_identity,
        };
        let caption = b.figure_caption(&format!("{title}{}", b.paren(&m.id)));
        blocks.push(Block::Figure {
            svg: method_svg::scatter(&m.pairs, fit, &m.band, l.comparator, l.device),
            alt: title.to_owned(),
            caption,
        });
        let bland_altman = match (m.bias, m.loa) {
            (Some(bias), Some(loa)) => Some((bias.estimate, loa)),
            _ => None,
        };
        if let Some((bias, loa)) = bland_altman {
            let caption = b.figure_caption(&format!("{}{}", l.bland_altman, b.paren(&m.id)));
            blocks.push(Block::Figure {
                svg: method_svg::bland_altman(&m.pairs, bias, loa, l.mean, l.difference),
                alt: l.bland_altman.to_owned(),
                caption,
            });
        }
    }
    Some(section(l.section, blocks))
}
