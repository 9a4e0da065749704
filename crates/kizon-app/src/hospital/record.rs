//! The de-identification record (仮名加工記録): what the hospital files with its ethics
//! committee, in Japanese and English, as HTML and as PDF (through kizon-report's Typst world).
//! It says what was applied and how much was removed, from the manifest alone: attribute names
//! and counts, never a value or a file name. Both forms are built from one [`content`].

use kizon_report::{Fact, Record, Section};

use super::manifest::Manifest;

/// The action's words in Japanese and English.
fn action_words(action: &str) -> (&'static str, &'static str) {
    match action {
        "removed" => ("削除", "removed"),
        "emptied" => ("空値に置換", "emptied"),
        "replaced" => ("ダミー値に置換", "replaced with a dummy"),
        "uid-replaced" => ("UIDを置換", "UID replaced"),
        "date-shifted" => ("日付をずらした", "date shifted"),
        "cleaned" => ("クリーニング", "cleaned"),
        "kept-by-option" => ("オプションにより保持", "kept by an option"),
        "private-removed" => ("プライベート属性を削除", "private attribute removed"),
        "pseudonym-written" => ("仮名を記入", "pseudonym written"),
        "age-derived" => ("生年月日から年齢を記入", "age written from the birth date"),
        "pixels-blanked" => (
            "画素の矩形を消去（焼き込み文字）",
            "pixel rectangles blanked (burned-in text)",
        ),
        _ => ("その他", "other"),
    }
}

/// The record's content, once for both forms.
pub fn content(manifest: &Manifest) -> Record {
    let methods = std::iter::once(
        "DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile (113100)".to_owned(),
    )
    .chain(manifest.profile.options.iter().cloned())
    .collect::<Vec<_>>()
    .join(", ");
    let fact = |label: &str, value: String, mono: bool| Fact {
        label: label.to_owned(),
        value,
        mono,
    };
    let mut sections = vec![Section {
        title: "種類別 / By kind".into(),
        note: None,
        header: vec!["種類 / Kind".into(), "ファイル数 / Files".into()],
        rows: manifest
            .counts_by_kind
            .iter()
            .map(|(kind, n)| vec![kind.clone(), n.to_string()])
            .collect(),
    }];
    if !manifest.quarantine_reasons.is_empty() {
        sections.push(Section {
            title: "隔離の理由 / Why files were kept back".into(),
            note: Some("隔離されたファイルは提供されず、医療機関内で担当者が確認します（kizon deidentify review）。 Files kept back are not handed over; a person at the hospital reviews them (kizon deidentify review).".into()),
            header: vec!["理由 / Reason".into(), "ファイル数 / Files".into()],
            rows: manifest
                .quarantine_reasons
                .iter()
                .map(|(reason, n)| vec![reason.clone(), n.to_string()])
                .collect(),
        });
    }
    sections.push(Section {
        title: "属性ごとの処理 / What was done, per attribute".into(),
        note: Some("属性名と件数のみを記載し、値は記載しません。 Attribute names and counts only, never values.".into()),
        header: vec![
            "処理 / Action".into(),
            "属性 / Attribute".into(),
            "件数 / Count".into(),
        ],
        rows: manifest
            .removed
            .iter()
            .map(|r| {
                let (ja, en) = action_words(&r.action);
                vec![format!("{ja} / {en}"), r.attribute.clone(), r.count.to_string()]
            })
            .collect(),
    });
    Record {
        title: "仮名加工記録 / De-identification record".into(),
        intro: vec![
            "この記録は kizon deidentify が医療機関内で作成した提供データの仮名加工の内容を示します。対応表は医療機関内に保管され、提供データには含まれません（Q&A Q1, Q5）。".into(),
            "This record states how kizon deidentify de-identified the data handed over. The correspondence table stays in the hospital and is not part of the hand-over (Q&A Q1, Q5).".into(),
        ],
        facts: vec![
            fact("作成日時 / Made at (UTC)", manifest.created_at.clone(), false),
            fact("kizon", manifest.kizon_version.clone(), false),
            fact("署名鍵（公開鍵） / Signing key (public)", manifest.public_key.clone(), true),
            fact("プロファイル SHA-256 / Profile SHA-256", manifest.profile.sha256.clone(), true),
            fact("適用した手法 / Methods applied", methods, false),
            fact("提供ファイル数 / Files handed over", manifest.files.len().to_string(), false),
            fact("患者数（仮名の数） / Patients (pseudonyms)", manifest.patients.to_string(), false),
            fact("隔離したファイル数 / Files kept back in quarantine", manifest.quarantined.to_string(), false),
            fact(
                "OCR（焼き込み文字の再確認） / OCR (burned-in text read again)",
                manifest.ocr.clone().unwrap_or_else(|| "利用不可 / not available".into()),
                false,
            ),
        ],
        sections,
        footer: format!("kizon {} · {}", manifest.kizon_version, manifest.created_at),
        ident: format!("kizon-deidentification-record-{}", manifest.created_at),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The record as a complete HTML page (no script, no external resource).
pub fn html(manifest: &Manifest) -> String {
    let record = content(manifest);
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">");
    out.push_str(&format!("<title>{}</title>", escape(&record.title)));
    out.push_str("<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.5}table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .6em;text-align:left}</style>");
    out.push_str(&format!(
        "</head><body>\n<h1>{}</h1>\n",
        escape(&record.title)
    ));
    for paragraph in &record.intro {
        out.push_str(&format!("<p>{}</p>\n", escape(paragraph)));
    }
    out.push_str("<table>\n");
    for fact in &record.facts {
        out.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>\n",
            escape(&fact.label),
            escape(&fact.value)
        ));
    }
    out.push_str("</table>\n");
    for section in &record.sections {
        out.push_str(&format!("<h2>{}</h2>\n", escape(&section.title)));
        if let Some(note) = &section.note {
            out.push_str(&format!("<p>{}</p>\n", escape(note)));
        }
        out.push_str("<table>\n<tr>");
        for h in &section.header {
            out.push_str(&format!("<th>{}</th>", escape(h)));
        }
        out.push_str("</tr>\n");
        for row in &section.rows {
            out.push_str("<tr>");
            for cell in row {
                out.push_str(&format!("<td>{}</td>", escape(cell)));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
    }
    out.push_str("</body></html>\n");
    out
}

/// The record as PDF.
pub fn pdf(manifest: &Manifest) -> Result<Vec<u8>, crate::AppError> {
    kizon_report::render_record_pdf(&content(manifest)).map_err(|e| crate::AppError::Refused {
        what: format!("the de-identification record could not be rendered as PDF: {e}"),
        hint: "a text of the profile or a reason holds a character the embedded Japanese font lacks; the HTML record is complete".into(),
    })
}
