//! `kizon export`: the 症例一覧表 (Q10), reads or device results as xlsx or CSV.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::commands::{Context, Done, Failure};

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// The case list a 2(1) application attaches (Q10): one row per case collected
    #[command(
        after_help = "Examples:\n  kizon export case-list --out case-list.xlsx\n  kizon export case-list --out case-list.csv\n  kizon export case-list --out case-list.csv --encoding cp932\n\nColumns (Japanese headers): 症例ID, データ提供元, データの種類, 撮影日, 採否, 除外理由, 参照標準,\n被験機器の結果, 一致. An Excel workbook (.xlsx), or CSV in UTF-8 with a byte-order mark (default)\nor CP932 (Shift_JIS)."
    )]
    CaseList(ExportArgs),
    /// Every individual read (reader, case, role, label, score, time, ledger entry)
    Reads(ExportArgs),
    /// Every device result per case and version (with its source file's hash and ledger entry)
    Results(ExportArgs),
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The file to write (replaced whole, never left half-written)
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// csv or xlsx (default: xlsx for a FILE ending in .xlsx, else csv)
    #[arg(long, value_parser = ["csv", "xlsx"])]
    pub format: Option<String>,
    /// The CSV's encoding: utf-8 (with a byte-order mark) or cp932
    #[arg(long, default_value = "utf-8", value_parser = ["utf-8", "cp932"])]
    pub encoding: String,
}

pub fn run(ctx: &Context, command: ExportCommand) -> Done {
    use kizon_app::export::{self, CsvEncoding, ExportFormat};
    let study = ctx.open()?;
    // The 症例一覧表 is an attachment of the application (Q10), the reads and results its
    // evidence: never exported from a study that fails `audit verify`.
    study.refuse_unless_intact("kizon export")?;
    let format_of = |args: &ExportArgs| {
        let xlsx = match args.format.as_deref() {
            Some(format) => format == "xlsx",
            None => args
                .out
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("xlsx")),
        };
        match (xlsx, args.encoding.as_str()) {
            (true, _) => ExportFormat::Xlsx,
            (false, "cp932") => ExportFormat::Csv(CsvEncoding::Cp932),
            (false, _) => ExportFormat::Csv(CsvEncoding::Utf8Bom),
        }
    };
    let (args, sheet, headers, rows, what) = match command {
        ExportCommand::CaseList(args) => {
            let rows: Vec<Vec<String>> = study
                .case_list()?
                .iter()
                .map(|r| r.cells_ja().to_vec())
                .collect();
            (
                args,
                "症例一覧表",
                &export::CASE_LIST_HEADERS[..],
                rows,
                "case list / 症例一覧表",
            )
        }
        ExportCommand::Reads(args) => (
            args,
            "読影結果",
            &export::READ_HEADERS[..],
            study.read_rows()?,
            "reads / 読影結果",
        ),
        ExportCommand::Results(args) => (
            args,
            "被験機器の結果",
            &export::RESULT_HEADERS[..],
            study.result_rows()?,
            "device results / 被験機器の結果",
        ),
    };
    let bytes = export::table_bytes(sheet, headers, &rows, format_of(&args));
    let rows = rows.len();
    let out = args.out;
    // Written beside the target and renamed over it: an interrupted export leaves the
    // old file or the new one, never half of one.
    let partial = out.with_extension("partial");
    std::fs::write(&partial, bytes)
        .and_then(|()| std::fs::rename(&partial, &out))
        .map_err(|e| {
            let _ = std::fs::remove_file(&partial);
            Failure {
                what: format!("{}: {e}", out.display()),
                hint: "check that the folder exists and is writable".into(),
            }
        })?;
    println!(
        "{what} written / 出力しました: {} ({rows} rows)",
        out.display()
    );
    Ok(())
}
