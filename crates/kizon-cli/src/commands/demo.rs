//! `kizon demo`: a complete example study from generated data.

use std::path::PathBuf;

use clap::Args;
use kizon_app::demo;

use crate::cli::Lang;
use crate::commands::{Context, Done, print_json};

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Where to build it
    #[arg(default_value = "kizon-demo")]
    pub dir: PathBuf,
    /// Replace a demo study already there (never anything else)
    #[arg(long)]
    pub force: bool,
    /// Which study: chest CT images from a hospital and a biobank (default), or residual
    /// specimens measured by an HbA1c analyser and its comparator
    #[arg(long, value_enum, default_value = "image")]
    pub kind: DemoKind,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
    /// Reader study only: the number of cases (default 24)
    #[arg(long, value_name = "N")]
    pub cases: Option<usize>,
    /// Reader study only: every case a CT series of M single-frame 512×512 slices (RLE) instead
    /// of one multi-frame image (--cases 400 --slices 250: a 100,000-item study for benchmarks)
    #[arg(long, value_name = "M")]
    pub slices: Option<usize>,
    /// Keep the demo study's database in PostgreSQL (an empty database: postgres://USER@HOST/DB)
    /// instead of a SQLite file
    #[arg(long, env = "KIZON_DATABASE_URL", value_name = "URL")]
    pub database: Option<String>,
    /// Keep the demo study's documents in an S3-compatible bucket
    /// (s3://BUCKET/PREFIX?endpoint=URL&region=R; credentials from AWS_ACCESS_KEY_ID and
    /// AWS_SECRET_ACCESS_KEY) instead of DIR/documents
    #[arg(long, env = "KIZON_OBJECTS_URL", value_name = "URL")]
    pub objects: Option<String>,
}

/// The demo studies.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoKind {
    Image,
    Specimen,
    /// a reader study ready for reading in the browser: two sessions (unaided, aided) with a washout
    ReaderStudy,
}

pub fn run(ctx: &Context, args: DemoArgs) -> Done {
    if args.kind != DemoKind::ReaderStudy && (args.cases.is_some() || args.slices.is_some()) {
        return Err(kizon_app::AppError::Refused {
            what: "--cases and --slices size the reader-study demo only".into(),
            hint: "kizon demo DIR --kind reader-study --cases 400 --slices 250".into(),
        }
        .into());
    }
    let placement = kizon_app::init::Placement {
        database: args.database.clone(),
        objects: args.objects.clone(),
    };
    let outcome = match args.kind {
        DemoKind::Image => demo::demo_on(
            &args.dir,
            ctx.actor(),
            args.force,
            demo::DemoStop::Complete,
            &kizon_app::owner_key::key_ring(),
            &placement,
        )?,
        DemoKind::ReaderStudy => demo::reader_study_demo_shaped(
            &args.dir,
            ctx.actor(),
            args.force,
            &kizon_app::owner_key::key_ring(),
            demo::ReaderStudyShape {
                cases: args
                    .cases
                    .unwrap_or(demo::ReaderStudyShape::default().cases),
                slices: args.slices,
            },
            &placement,
        )?,
        DemoKind::Specimen => demo::specimen_demo(
            &args.dir,
            ctx.actor(),
            args.force,
            &kizon_app::owner_key::key_ring(),
            &placement,
        )?,
    };
    if args.json {
        print_json(&outcome)?;
    } else {
        println!("kizon demo: an example performance evaluation test / 性能評価試験のデモ");
        for (i, step) in outcome.steps.iter().enumerate() {
            println!("  {}. {step}", i + 1);
        }
        if !outcome.planted.is_empty() || !outcome.findings.is_empty() {
            println!();
            println!(
                "problems planted in the generated data, and what `kizon check` found / 仕込んだ疑義と検出結果:"
            );
        }
        for planted in &outcome.planted {
            println!("  - planted: {planted}");
        }
        for f in &outcome.findings {
            println!(
                "  - found #{} [{}] {} {}: {}",
                f.id, f.clause, f.severity, f.rule, f.message_en
            );
        }
        println!();
        print!("{}", super::plan::render(&outcome.plan, Lang::Both));
        println!();
        println!("study: {} / 試験ディレクトリ", outcome.dir.display());
        for report in &outcome.reports {
            println!("report: {} / 報告書", report.display());
        }
        if !outcome.package.as_os_str().is_empty() {
            println!(
                "package: {} / 信頼性調査用資料 (kizon package verify {})",
                outcome.package.display(),
                outcome.package.display()
            );
        }
        println!(
            "next: kizon --study {} plan | audit log | audit verify",
            outcome.dir.display()
        );
        if args.kind == DemoKind::ReaderStudy {
            println!(
                "reading / 読影: kizon --study {0} user add reader1 --role reader --reader R1 < password.txt && kizon --study {0} serve",
                outcome.dir.display()
            );
        } else {
            println!(
                "web / Web作業画面: kizon --study {0} user add admin --role admin < password.txt && kizon --study {0} serve",
                outcome.dir.display()
            );
        }
    }
    Ok(())
}
