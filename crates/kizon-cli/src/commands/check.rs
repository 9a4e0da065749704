//! `kizon check`: the data doubts PMDA looks for (Q1, Q2, Q7), recorded as findings.

use crate::cli::JsonFlag;
use crate::commands::{Context, Done, print_json};

pub fn run(ctx: &Context, flag: JsonFlag) -> Done {
    let summary = ctx.open()?.check(ctx.actor())?;
    if flag.json {
        print_json(&summary)?;
    } else {
        println!(
            "checked / 確認: {} items, {} findings ({} new), {} blocking findings open / 未解決の重大な疑義",
            summary.items, summary.findings, summary.new_findings, summary.open_blocking
        );
        match &summary.ocr {
            Some(engine) => println!(
                "burned-in text / 画素の焼き込み文字: {} images read by OCR ({engine})",
                summary.ocr_images
            ),
            None => println!(
                "note: OCR is not available, so burned-in text in pixels was not looked for / OCR が利用できないため画素の焼き込み文字は確認していません (install tesseract-ocr and tesseract-ocr-jpn)"
            ),
        }
        println!("next: kizon findings --open");
    }
    Ok(())
}
