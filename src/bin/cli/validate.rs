//! `copc validate`: every check of the COPC spec and the public validators.

use super::Failure;
use copc::validate::{Status, ValidateOptions, validate};
use serde_json::json;

/// Check a COPC file against the COPC 1.0 spec and the public validators' rules.
///
/// Prints one line per check, `PASS|WARN|FAIL name: detail`, then `N passed, M failed`.
/// WARN marks a legal writer quirk (legacy counts, chunk size 0, split hierarchy).
/// Exit status 1 on any FAIL, and on any WARN with --strict.
#[derive(clap::Args)]
#[command(about = "Check a COPC file against the COPC 1.0 spec", after_help = "Examples:\n  copc validate --strict out.copc.laz")]
pub struct ValidateArgs {
    /// The COPC file: a path or an http(s):// URL.
    source: String,
    /// Print one JSON object instead of lines.
    #[arg(long)]
    json: bool,
    /// Treat warnings as failures.
    #[arg(long)]
    strict: bool,
    /// Check the structure only; do not decode the chunks.
    #[arg(long)]
    quick: bool,
    #[command(flatten)]
    src: super::SourceArgs,
}

pub fn run(a: ValidateArgs) -> Result<(), Failure> {
    let source = a.src.open_source(&a.source)?;
    let opts = ValidateOptions { quick: a.quick, reader: a.src.reader_options(&a.source)? };
    let report = validate(source, &opts);
    let warn_fails = a.strict;
    let failed = report.count(Status::Fail) + if warn_fails { report.count(Status::Warn) } else { 0 };
    let passed = report.checks.len() - failed;
    if a.json {
        let checks: Vec<_> = report.checks.iter().map(|c| json!({"name": c.name, "status": c.status.to_string(), "detail": c.detail})).collect();
        let v = json!({"source": report.source, "strict": a.strict, "passed": passed, "failed": failed,
            "warnings": report.count(Status::Warn), "ok": report.ok(a.strict), "checks": checks});
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        for c in &report.checks {
            println!("{} {}: {}", c.status, c.name, c.detail);
        }
        println!("{} warning(s)", report.count(Status::Warn));
        println!("{passed} passed, {failed} failed");
    }
    if report.ok(a.strict) {
        Ok(())
    } else {
        let first = report.checks.iter().find(|c| c.status == Status::Fail || (a.strict && c.status == Status::Warn));
        Err(Failure::msg(&a.source, format!("not a valid COPC file{}", first.map(|c| format!(" ({}: {})", c.name, c.detail)).unwrap_or_default())))
    }
}
