//! `kizon report`: the 性能評価試験報告書 (filled in when the report crate lands).

use kizon_app::Study;

use crate::Failure;

/// Every rendering of the report for the evidence package: (file name, bytes, title ja, title en).
pub fn all_reports(_study: &Study) -> Result<Vec<(String, Vec<u8>, String, String)>, Failure> {
    Ok(Vec::new())
}
