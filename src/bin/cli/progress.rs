//! Progress for long work: a bar on a terminal, plain lines otherwise.

use copc::writer::Progress;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Instant;

pub struct Reporter {
    bar: Option<ProgressBar>,
    plain: Mutex<(Instant, u64)>,
    /// The current phase and when it started (for the plain lines' ETA).
    phase: Mutex<(&'static str, Instant)>,
}

impl Reporter {
    /// `show`: whether progress was asked for; a bar only when stderr is a terminal.
    pub fn new(show: bool) -> Option<Reporter> {
        if !show {
            return None;
        }
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::new(0);
            b.set_style(
                ProgressStyle::with_template("{spinner} {msg:9} [{bar:40}] {human_pos}/{human_len} ({per_sec}, ETA {eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            b.set_message("read");
            b
        });
        Some(Reporter { bar, plain: Mutex::new((Instant::now(), 0)), phase: Mutex::new(("", Instant::now())) })
    }

    pub fn event(&self, p: &Progress) {
        match (&self.bar, p) {
            (Some(b), Progress::PointsRead { read, total }) => {
                b.set_length(*total);
                b.set_position(*read);
            }
            (Some(b), Progress::NodesWritten { nodes }) => b.set_prefix(nodes.to_string()),
            (Some(b), Progress::Phase { name, done, total }) => {
                // a new phase restarts the bar, so its ETA is the phase's own
                if b.message() != *name {
                    b.set_message(*name);
                    b.reset();
                }
                b.set_length(*total);
                b.set_position(*done);
            }
            (Some(b), Progress::Warning(w)) => b.println(format!("warning: {w}")),
            (Some(b), Progress::Done { .. }) => b.finish_and_clear(),
            (None, Progress::PointsRead { read, total }) => {
                // a line every 2 seconds at most, and one at the end
                let mut last = self.plain.lock().unwrap_or_else(|e| e.into_inner());
                if last.0.elapsed().as_secs_f64() >= 2.0 || read == total {
                    if *read != last.1 {
                        eprintln!("progress: {read} of {total} points read");
                    }
                    *last = (Instant::now(), *read);
                }
            }
            (None, Progress::Phase { name, done, total }) => {
                let mut last = self.plain.lock().unwrap_or_else(|e| e.into_inner());
                let started = self.phase.lock().map(|mut p| {
                    if p.0 != *name {
                        *p = (name, Instant::now());
                    }
                    p.1
                });
                if *done == 0 || last.0.elapsed().as_secs_f64() >= 2.0 {
                    let eta = match started {
                        Ok(t) if *done > 0 && done < total => {
                            let secs = t.elapsed().as_secs_f64() * (*total - *done) as f64 / *done as f64;
                            format!(", ETA {secs:.0} s")
                        }
                        _ => String::new(),
                    };
                    let unit = if *name == "assemble" { "nodes" } else { "points" };
                    if *done == 0 {
                        eprintln!("progress: {name} ({total} {unit})");
                    } else {
                        eprintln!("progress: {name}: {done} of {total} {unit}{eta}");
                    }
                    last.0 = Instant::now();
                }
            }
            (None, Progress::NodesWritten { nodes }) => {
                let mut last = self.plain.lock().unwrap_or_else(|e| e.into_inner());
                if last.0.elapsed().as_secs_f64() >= 2.0 {
                    eprintln!("progress: {nodes} nodes written");
                    last.0 = Instant::now();
                }
            }
            (None, Progress::Warning(w)) => eprintln!("warning: {w}"),
            (None, Progress::Done { points, nodes }) => eprintln!("progress: done, {points} points in {nodes} nodes"),
            _ => {}
        }
    }
}
