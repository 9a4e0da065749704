//! The reader study (MRMC): reader-by-reader AUCs per reading condition and the Obuchowski–Rockette F test.

use super::*;

/// The MRMC analysis of the reader-study reads over the cases with a positive or negative
/// reference that every reader rated in every modality; `None` with fewer than two modalities
/// or readers.
pub(super) fn reader_study(
    rows: &[Row],
    reads: &[kizon_store::Read],
) -> Result<Option<ReaderStudy>, AppError> {
    let mut modalities: Vec<String> = Vec::new();
    let mut readers: Vec<String> = Vec::new();
    for r in reads {
        if let Some(m) = r.role.modality()
            && !modalities.iter().any(|x| x == m)
        {
            modalities.push(m.to_owned());
        }
        if !readers.contains(&r.reader) {
            readers.push(r.reader.clone());
        }
    }
    let (t, nr) = (modalities.len(), readers.len());
    if t < 2 || nr < 2 {
        return Ok(None);
    }
    let mut score: BTreeMap<(usize, usize, &str), f64> = BTreeMap::new();
    for r in reads {
        let m = r.role.modality().expect("reader-study reads only");
        let i = modalities.iter().position(|x| x == m).expect("collected");
        let j = readers
            .iter()
            .position(|x| *x == r.reader)
            .expect("collected");
        if let Some(s) = r.score {
            score.insert((i, j, r.case_id.as_str()), s);
        }
    }
    let binary: Vec<&Row> = rows.iter().filter(|r| is_binary(r.reference)).collect();
    let complete = |c: &str| (0..t).all(|i| (0..nr).all(|j| score.contains_key(&(i, j, c))));
    let cases: Vec<&Row> = binary
        .iter()
        .copied()
        .filter(|r| complete(&r.case_id))
        .collect();
    let incomplete_cases: Vec<String> = binary
        .iter()
        .filter(|r| !complete(&r.case_id))
        .map(|r| r.case_id.clone())
        .collect();
    let truth: Vec<bool> = cases
        .iter()
        .map(|r| r.reference == Some(Label::Positive))
        .collect();
    let n = cases.len();
    let mut scores = vec![0.0; t * nr * n];
    for i in 0..t {
        for j in 0..nr {
            for (c, row) in cases.iter().enumerate() {
                scores[(i * nr + j) * n + c] = score[&(i, j, row.case_id.as_str())];
            }
        }
    }
    let level = 0.95;
    let result = kizon_stats::obuchowski_rockette(
        &kizon_stats::MrmcRatings {
            modalities: t,
            readers: nr,
            truth: &truth,
            scores: &scores,
        },
        kizon_stats::CovarianceMethod::DeLong,
        level,
    )?;
    let test = &result.random_readers_random_cases;
    let relabel = |message: &str| {
        let mut out = message.to_owned();
        for (i, name) in modalities.iter().enumerate().rev() {
            out = out.replace(&format!("#{}", i + 1), &format!("`{name}`"));
        }
        out
    };
    Ok(Some(ReaderStudy {
        modalities: modalities.clone(),
        readers: readers.clone(),
        cases: n,
        positives: result.positives,
        negatives: result.negatives,
        incomplete_cases,
        level,
        modality_aucs: test
            .modalities
            .iter()
            .map(|m| ReaderStudyAuc {
                reader: None,
                modality: modalities[m.modality].clone(),
                auc: m.auc,
                se: m.se,
            })
            .collect(),
        reader_aucs: result
            .reader_aucs
            .iter()
            .map(|a| ReaderStudyAuc {
                reader: Some(readers[a.reader].clone()),
                modality: modalities[a.modality].clone(),
                auc: a.auc,
                se: a.se,
            })
            .collect(),
        f: test.f,
        df1: test.df1,
        df2: test.df2,
        p_value: test.p_value,
        differences: test
            .differences
            .iter()
            .map(|d| ReaderStudyDifference {
                first: modalities[d.first].clone(),
                second: modalities[d.second].clone(),
                difference: d.difference,
                se: d.se,
                df: d.df,
                p_value: d.p_value,
            })
            .collect(),
        warnings: result
            .warnings
            .iter()
            .map(|w| ReaderStudyWarning {
                code: w.code.to_owned(),
                message_en: relabel(&w.message_en),
                message_ja: relabel(&w.message_ja),
            })
            .collect(),
    }))
}

/// Reading time per reader and condition, then per condition over every reader: the count,
/// mean, median and total of the submitted reads' times, in the order conditions and readers
/// first appear.
pub(super) fn reading_time_summaries(
    times: &[crate::reading::ReadingTime],
) -> Vec<ReadingTimeSummary> {
    let summary = |modality: &str, reader: Option<&str>, values: &[f64]| {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        let total: f64 = sorted.iter().sum();
        ReadingTimeSummary {
            modality: modality.to_owned(),
            reader: reader.map(str::to_owned),
            reads: n,
            mean_seconds: total / n as f64,
            median_seconds: median,
            total_seconds: total,
        }
    };
    let mut modalities: Vec<&str> = Vec::new();
    let mut readers: Vec<&str> = Vec::new();
    for t in times {
        let m = t.modality.as_deref().unwrap_or_default();
        if !modalities.contains(&m) {
            modalities.push(m);
        }
        if !readers.contains(&t.reader.as_str()) {
            readers.push(&t.reader);
        }
    }
    let mut out = Vec::new();
    for m in &modalities {
        let of = |reader: Option<&str>| -> Vec<f64> {
            times
                .iter()
                .filter(|t| t.modality.as_deref() == Some(*m))
                .filter(|t| reader.is_none_or(|r| t.reader == r))
                .map(|t| t.seconds)
                .collect()
        };
        for r in &readers {
            let values = of(Some(r));
            if !values.is_empty() {
                out.push(summary(m, Some(r), &values));
            }
        }
        out.push(summary(m, None, &of(None)));
    }
    out
}

#[cfg(test)]
mod reading_time_tests {
    use super::reading_time_summaries;
    use crate::reading::ReadingTime;

    fn time(reader: &str, modality: &str, seconds: f64) -> ReadingTime {
        ReadingTime {
            reader: reader.into(),
            session: modality.into(),
            modality: Some(modality.into()),
            case_id: "C".into(),
            seconds,
            submitted: true,
        }
    }

    #[test]
    fn reading_time_is_summarised_per_reader_and_condition() {
        let times = [
            time("R1", "unaided", 30.0),
            time("R1", "unaided", 50.0),
            time("R2", "unaided", 10.0),
            time("R1", "aided", 20.0),
        ];
        let s = reading_time_summaries(&times);
        let got: Vec<(&str, Option<&str>, usize, f64, f64)> = s
            .iter()
            .map(|x| {
                (
                    x.modality.as_str(),
                    x.reader.as_deref(),
                    x.reads,
                    x.mean_seconds,
                    x.median_seconds,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("unaided", Some("R1"), 2, 40.0, 40.0),
                ("unaided", Some("R2"), 1, 10.0, 10.0),
                ("unaided", None, 3, 30.0, 30.0),
                ("aided", Some("R1"), 1, 20.0, 20.0),
                ("aided", None, 1, 20.0, 20.0),
            ]
        );
    }
}
