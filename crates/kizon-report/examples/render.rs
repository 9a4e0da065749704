//! Renders a report model to PDF or HTML.
//!
//! ```text
//! cargo run -p kizon-report --example render -- MODEL.json --lang ja --format pdf --out FILE
//! ```

use std::process::ExitCode;
use std::time::Instant;

use kizon_report::{Lang, Report, render_html, render_pdf};

fn usage() -> ExitCode {
    eprintln!("usage: render MODEL.json [--lang ja|en] [--format pdf|html] --out FILE");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut model, mut lang, mut format, mut out) =
        (None, "ja".to_owned(), "pdf".to_owned(), None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--lang" => lang = args.next().unwrap_or_default(),
            "--format" => format = args.next().unwrap_or_default(),
            "--out" => out = args.next(),
            _ if model.is_none() && !arg.starts_with("--") => model = Some(arg),
            _ => return usage(),
        }
    }
    let (Some(model), Some(out)) = (model, out) else {
        return usage();
    };
    let run = || -> Result<(), Box<dyn std::error::Error>> {
        let report: Report =
            serde_json::from_slice(&std::fs::read(&model)?).map_err(|e| format!("{model}: {e}"))?;
        let lang = Lang::parse(&lang)
            .ok_or_else(|| format!("unknown language {lang:?}: expected ja or en"))?;
        let start = Instant::now();
        let bytes = match format.as_str() {
            "pdf" => render_pdf(&report, lang)?,
            "html" => render_html(&report, lang)?.into_bytes(),
            other => return Err(format!("unknown format {other:?}: expected pdf or html").into()),
        };
        let took = start.elapsed();
        std::fs::write(&out, &bytes)?;
        eprintln!(
            "{out}: {} bytes in {:.0} ms",
            bytes.len(),
            took.as_secs_f64() * 1000.0
        );
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
