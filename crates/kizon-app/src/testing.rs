//! Scenario fixtures for tests, in process: a study built from the demo's generated data (a
//! real SQLite file, real DICOM and WFDB files), with readers, accounts and assignments, at the
//! step a test starts from. Compiled for kizon-app's own tests and, with the `testing` feature,
//! for the shells' test suites; never part of the binary.

use std::path::{Path, PathBuf};

use crate::access::{Assign, Role};
use crate::demo::{self, DemoStop};
use crate::{AppError, NewReader, Study};

/// The password of every account a [`StudyBuilder`] adds.
pub const PASSWORD: &str = "correct horse battery";

/// The actor that builds the fixture, as the ledger records it.
pub const BUILDER: &str = "tester";

/// A study at a chosen step, built in steps as a study team would.
#[derive(Debug, Clone)]
pub struct StudyBuilder {
    complete: bool,
    readers: Vec<String>,
    users: Vec<(String, Role, Option<String>)>,
    assignments: Vec<(String, Vec<String>)>,
}

impl StudyBuilder {
    /// The demo stopped after `check`: findings open, only the protocol locked.
    pub fn checked() -> StudyBuilder {
        StudyBuilder {
            complete: false,
            readers: Vec::new(),
            users: Vec::new(),
            assignments: Vec::new(),
        }
    }

    /// The demo through the analysis: findings decided, dataset and reference standard locked,
    /// results imported and analysed (after the readers, accounts and assignments are added).
    pub fn analysed() -> StudyBuilder {
        StudyBuilder {
            complete: true,
            ..StudyBuilder::checked()
        }
    }

    /// A panel reader, registered as independent with twelve years of experience.
    pub fn reader(mut self, code: &str) -> StudyBuilder {
        self.readers.push(code.to_owned());
        self
    }

    /// A web account with [`PASSWORD`]; a reader account names its reader code.
    pub fn user(mut self, name: &str, role: Role, reader: Option<&str>) -> StudyBuilder {
        self.users
            .push((name.to_owned(), role, reader.map(str::to_owned)));
        self
    }

    /// Cases assigned to a reader.
    pub fn assign(mut self, reader: &str, cases: &[&str]) -> StudyBuilder {
        self.assignments.push((
            reader.to_owned(),
            cases.iter().map(|c| (*c).to_owned()).collect(),
        ));
        self
    }

    /// Builds the study in `root/study` (its owner's key in `root/keys`) and returns its
    /// directory and the study, open with the owner's key unlocked.
    pub fn build_in(self, root: &Path) -> Result<(PathBuf, Study), AppError> {
        let dir = root.join("study");
        let outcome = demo::demo_in(&dir, BUILDER, false, DemoStop::Checked, &root.join("keys"))?;
        let mut study = Study::open(&dir)?;
        if let Some(key) = outcome.owner_key {
            study.set_owner_key(key);
        }
        for code in &self.readers {
            study.add_reader(
                BUILDER,
                &NewReader {
                    code: code.clone(),
                    qualification: "放射線診断専門医".into(),
                    qualification_en: None,
                    specialty: "chest".into(),
                    years_experience: 12,
                    independent: true,
                    declaration: None,
                },
            )?;
        }
        for (name, role, reader) in &self.users {
            study.add_user(BUILDER, name, *role, reader.as_deref(), PASSWORD)?;
        }
        for (reader, cases) in &self.assignments {
            study.assign(BUILDER, reader, &Assign::Cases(cases.clone()))?;
        }
        if self.complete {
            demo::settle_and_lock_dataset(&mut study, BUILDER)?;
            demo::reference_to_analysis(&mut study, BUILDER)?;
        }
        Ok((dir, study))
    }
}
