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
