//! A progress bar (rows, rate, ETA) on a terminal's stderr; nothing at all
//! when stderr is a pipe or a file, so logs and scripts stay clean.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub fn bar(len: u64, what: &str, show: bool) -> ProgressBar {
    if !show || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let template =
        format!("{what} [{{bar:30}}] {{pos}}/{{len}} rows  {{per_sec}}  ETA {{eta}}  {{msg}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb
}
