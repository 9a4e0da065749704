//! Progress of long commands: a bar on a terminal, a plain line per step otherwise (logs, CI).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressStyle};
use kizon_app::ingest::{BATCH, Progress};

/// The progress reporter that suits standard error; `command` names the lines it prints.
pub fn for_terminal(command: &'static str) -> Box<dyn Progress> {
    if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {pos}/{len} files {wide_bar} {per_sec} eta {eta}",
            )
            .expect("valid template"),
        );
        Box::new(Bar(bar))
    } else {
        Box::new(Lines {
            command,
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
        })
    }
}

struct Bar(ProgressBar);

impl Progress for Bar {
    fn start(&self, files: u64) {
        self.0.set_length(files);
    }
    fn advance(&self, files: u64) {
        self.0.inc(files);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

struct Lines {
    command: &'static str,
    total: AtomicU64,
    done: AtomicU64,
}

impl Progress for Lines {
    fn start(&self, files: u64) {
        self.total.store(files, Ordering::Relaxed);
        eprintln!("{}: {files} files to read", self.command);
    }
    fn advance(&self, files: u64) {
        let done = self.done.fetch_add(files, Ordering::Relaxed) + files;
        if done.is_multiple_of(BATCH as u64) {
            eprintln!(
                "{}: {done}/{} files",
                self.command,
                self.total.load(Ordering::Relaxed)
            );
        }
    }
    fn finish(&self) {
        eprintln!(
            "{}: {}/{} files done",
            self.command,
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed)
        );
    }
}
