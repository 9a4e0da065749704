//! 計画からの逸脱 in the report: the deviations recorded and those kizon finds in the study.

use kizon_report::model::{self as m, Methods, Text};

use super::words::written;
use crate::analyze::Analysis;
use crate::{AppError, Study};

impl Study {
    /// 計画からの逸脱: what the study team recorded (`kizon deviation add`), then what kizon
    /// finds in the study's own data: results of another device version than the protocol's,
    /// dataset cases without a device result, fewer analysed cases than the sample-size
    /// rationale needs, amendments made after the results were in.
    pub(super) fn deviation_rows(
        &self,
        protocol: &kizon_protocol::Protocol,
        analysis: &Analysis,
        methods: &Methods,
        amendments: &[m::Amendment],
        analyze_seq: i64,
    ) -> Result<Vec<m::DeviationRow>, AppError> {
        // Those the analysis saw (its inputs hash them): the report is bound to its analysis.
        let mut rows: Vec<m::DeviationRow> = self
            .deviations()?
            .into_iter()
            .filter(|d| d.ledger_seq <= analyze_seq)
            .map(|d| m::DeviationRow {
                description: written(&d.description, d.description_en.as_deref()),
                case_ids: d.case_ids,
                ledger_seq: Some(d.ledger_seq as u64),
            })
            .collect();
        let found = |ja: String, en: String, case_ids: Vec<String>| m::DeviationRow {
            description: Text::new(ja, en),
            case_ids,
            ledger_seq: None,
        };
        let analysed_version = &analysis.inputs.device_version;
        if let Some(planned) = &protocol.device.version
            && planned != analysed_version
        {
            rows.push(found(
                format!("解析した被験機器の版（{analysed_version}）が計画書の版（{planned}）と異なる。"),
                format!("The device version analysed ({analysed_version}) is not the protocol's ({planned})."),
                Vec::new(),
            ));
        }
        let missing = &analysis.flow.no_result;
        if !missing.is_empty() {
            rows.push(found(
                format!(
                    "固定データセットの {} 例に被験機器の結果がない。",
                    missing.len()
                ),
                format!(
                    "{} cases of the locked dataset have no device result.",
                    missing.len()
                ),
                missing.clone(),
            ));
        }
        if let Some(s) = &methods.sample_size
            && let Some(needed) = s.class_cases
            && s.analysed_class_cases < needed
        {
            let (ja, en) = if s.positive_class {
                ("参照標準陽性例", "reference-positive cases")
            } else {
                ("参照標準陰性例", "reference-negative cases")
            };
            rows.push(found(
                format!(
                    "解析対象の{ja}（{} 例）が症例数の設定根拠の必要数（{needed} 例）に満たない。",
                    s.analysed_class_cases
                ),
                format!(
                    "The analysis had {} {en}, fewer than the {needed} the sample-size rationale needs.",
                    s.analysed_class_cases
                ),
                Vec::new(),
            ));
        }
        for a in amendments.iter().filter(|a| !a.before_unblinding) {
            rows.push(found(
                format!("被験機器の結果の取込み後に計画を変更した（改訂 {}、台帳番号 {}）。", a.seq, a.ledger_seq),
                format!(
                    "The protocol was amended after the device's results were imported (amendment {}, ledger entry {}).",
                    a.seq, a.ledger_seq
                ),
                Vec::new(),
            ));
        }
        Ok(rows)
    }
}
