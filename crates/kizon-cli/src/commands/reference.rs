//! `kizon reference`: confirmed diagnoses or comparator results imported; the reference standard shown.

use clap::Subcommand;
use kizon_app::reference::Label;

use crate::cli::{FileArgs, JsonFlag};
use crate::commands::{Context, Done, print_import, print_json};

#[derive(Subcommand, Debug)]
pub enum ReferenceCommand {
    /// Import confirmed diagnoses (2(2)) or comparator results, one per case
    #[command(
        after_help = "Columns: case_id,label and, for a confirmed diagnosis, source_document,source_location\n(where the provider keeps the record, for source data verification); optional diagnosis,\ndiagnosis_date, source_date.\n\nExample:\n  kizon reference import pathology.csv"
    )]
    Import(FileArgs),
    /// The reference standard per case (locked, or as a lock would fix it) and reader agreement
    Show(JsonFlag),
}

pub fn run(ctx: &Context, command: ReferenceCommand) -> Done {
    let mut study = ctx.open()?;
    let actor = ctx.actor();
    match command {
        ReferenceCommand::Import(args) => {
            study.set_csv_encoding(args.csv.encoding);
            let summary = study.import_reference(actor, &args.file)?;
            print_import(
                &summary,
                "reference records imported / 参照標準を取り込みました",
                args.json,
            )
        }
        ReferenceCommand::Show(flag) => {
            let (doc, locked) = study.reference_standard()?;
            if flag.json {
                return print_json(
                    &serde_json::json!({ "locked_sha256": locked, "reference": doc }),
                );
            }
            println!(
                "reference standard / 参照標準: {} ({})",
                doc.kind,
                match &locked {
                    Some(sha) => format!("locked / 固定済み, sha256 {sha}"),
                    None => "not locked yet / 未固定".into(),
                }
            );
            if let Some(rule) = &doc.rule {
                println!(
                    "  consensus rule / 合議規則: {}{}, at least {} panel reads; {} readers, {} reads",
                    rule.consensus,
                    rule.k.map(|k| format!(" (k = {k})")).unwrap_or_default(),
                    rule.minimum_reads,
                    doc.readers.len(),
                    doc.reads
                );
            }
            let count = |label| doc.count(label);
            println!(
                "  {} cases: {} positive / 陽性, {} negative / 陰性, {} indeterminate / 判定不能, {} undecided / 未確定",
                doc.cases.len(),
                count(Label::Positive),
                count(Label::Negative),
                count(Label::Indeterminate),
                doc.cases.len() - doc.decided()
            );
            for case in doc.cases.iter().filter(|c| c.label.is_none()) {
                println!(
                    "    undecided {}: {}",
                    case.case_id,
                    case.note.as_deref().unwrap_or("-")
                );
            }
            if let Some(l) = &doc.lesions {
                println!(
                    "  lesions / 病変: {} in {} cases from {} marks (k = {}{}); {} clusters below k not admitted",
                    l.lesions.len(),
                    l.cases_with_lesions(),
                    l.marks,
                    l.k,
                    if l.adjudication {
                        ", or the adjudicator"
                    } else {
                        ""
                    },
                    l.rejected.len()
                );
                for lesion in &l.lesions {
                    println!(
                        "    {} {} {} {} readers {} ({})",
                        lesion.id,
                        lesion.case_id,
                        lesion.image,
                        lesion.lesion_type.as_deref().unwrap_or("-"),
                        lesion.readers.join(","),
                        match lesion.basis {
                            kizon_app::lesions::LesionBasis::Panel => "panel / 合議",
                            kizon_app::lesions::LesionBasis::Adjudicator => "adjudicator / 判定者",
                            kizon_app::lesions::LesionBasis::Rejected => "rejected / 不採用",
                        }
                    );
                }
            }
            if let Some(agreement) = &doc.agreement {
                if let Some(fleiss) = &agreement.fleiss {
                    println!(
                        "  Fleiss' kappa / 読影者間一致: {:.3} (95% CI {:.3}–{:.3}; {} readers, {} cases)",
                        fleiss.kappa.estimate,
                        fleiss.kappa.lower,
                        fleiss.kappa.upper,
                        fleiss.readers,
                        fleiss.cases
                    );
                }
                for pair in &agreement.pairwise {
                    match &pair.kappa {
                        Some(k) => println!(
                            "  Cohen's kappa {}–{}: {:.3} (95% CI {:.3}–{:.3}; {} cases)",
                            pair.reader_a, pair.reader_b, k.estimate, k.lower, k.upper, pair.cases
                        ),
                        None => println!(
                            "  Cohen's kappa {}–{}: not estimable ({} cases)",
                            pair.reader_a, pair.reader_b, pair.cases
                        ),
                    }
                }
            }
            Ok(())
        }
    }
}
