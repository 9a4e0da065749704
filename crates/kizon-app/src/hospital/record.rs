//! The de-identification record (匿名加工記録 / 仮名加工記録): a page in Japanese and English that
//! the hospital can file with its ethics committee. It says what was applied and how much was
//! removed, from the manifest alone: attribute names and counts, never a value or a file name.

use super::manifest::Manifest;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

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

/// The record as a complete HTML page (no script, no external resource).
pub fn html(manifest: &Manifest) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">");
    out.push_str("<title>仮名加工記録 / De-identification record</title>");
    out.push_str("<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.5}table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .6em;text-align:left}td.n{text-align:right}</style>");
    out.push_str("</head><body>\n<h1>仮名加工記録 / De-identification record</h1>\n");
    out.push_str("<p>この記録は kizon deidentify が医療機関内で作成した提供データの仮名加工の内容を示します。対応表は医療機関内に保管され、提供データには含まれません（Q&amp;A Q1, Q5）。<br>");
    out.push_str("This record states how kizon deidentify de-identified the data handed over. The correspondence table stays in the hospital and is not part of the hand-over (Q&amp;A Q1, Q5).</p>\n");
    out.push_str("<table>\n");
    let rows = [
        ("作成日時 / Made at (UTC)", escape(&manifest.created_at)),
        ("kizon", escape(&manifest.kizon_version)),
        (
            "署名鍵（公開鍵） / Signing key (public)",
            escape(&manifest.public_key),
        ),
        (
            "プロファイル SHA-256 / Profile SHA-256",
            escape(&manifest.profile.sha256),
        ),
        (
            "適用した手法 / Methods applied",
            format!(
                "DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile (113100){}",
                manifest
                    .profile
                    .options
                    .iter()
                    .map(|o| format!(", {}", escape(o)))
                    .collect::<String>()
            ),
        ),
        (
            "提供ファイル数 / Files handed over",
            manifest.files.len().to_string(),
        ),
        (
            "患者数（仮名の数） / Patients (pseudonyms)",
            manifest.patients.to_string(),
        ),
        (
            "隔離したファイル数 / Files kept back in quarantine",
            manifest.quarantined.to_string(),
        ),
        (
            "OCR（焼き込み文字の再確認） / OCR (burned-in text read again)",
            manifest
                .ocr
                .as_deref()
                .map_or("利用不可 / not available".to_owned(), escape),
        ),
    ];
    for (label, value) in rows {
        out.push_str(&format!("<tr><th>{label}</th><td>{value}</td></tr>\n"));
    }
    out.push_str("</table>\n<h2>種類別 / By kind</h2>\n<table>\n");
    for (kind, n) in &manifest.counts_by_kind {
        out.push_str(&format!(
            "<tr><td>{}</td><td class=\"n\">{n}</td></tr>\n",
            escape(kind)
        ));
    }
    out.push_str("</table>\n");
    if !manifest.quarantine_reasons.is_empty() {
        out.push_str("<h2>隔離の理由 / Why files were kept back</h2>\n<p>隔離されたファイルは提供されず、医療機関内で担当者が確認します（kizon deidentify review）。<br>Files kept back are not handed over; a person at the hospital reviews them (kizon deidentify review).</p>\n<table>\n");
        for (reason, n) in &manifest.quarantine_reasons {
            out.push_str(&format!(
                "<tr><td>{}</td><td class=\"n\">{n}</td></tr>\n",
                escape(reason)
            ));
        }
        out.push_str("</table>\n");
    }
    out.push_str("<h2>属性ごとの処理 / What was done, per attribute</h2>\n<p>属性名と件数のみを記載し、値は記載しません。<br>Attribute names and counts only, never values.</p>\n<table>\n<tr><th>処理 / Action</th><th>属性 / Attribute</th><th>件数 / Count</th></tr>\n");
    for removal in &manifest.removed {
        let (ja, en) = action_words(&removal.action);
        out.push_str(&format!(
            "<tr><td>{ja} / {en}</td><td>{}</td><td class=\"n\">{}</td></tr>\n",
            escape(&removal.attribute),
            removal.count
        ));
    }
    out.push_str("</table>\n</body></html>\n");
    out
}
