//! A Rust program that uses only the library (`default-features = false`) must not
//! compile the command-line tool's dependencies (issue #26).

use std::process::Command;

const CLI_ONLY: [&str; 3] = ["clap", "indicatif", "ctrlc"];

/// The crate names in `cargo tree -p copc -e normal` with the given feature flags.
fn normal_deps(feature_args: &[&str]) -> Vec<String> {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--locked", "-p", "copc", "-e", "normal", "--prefix", "none", "--format", "{p}"])
        .args(feature_args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("running cargo tree");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn library_without_default_features_has_no_cli_dependencies() {
    let lib = normal_deps(&["--no-default-features"]);
    assert!(lib.iter().any(|d| d == "laz"), "cargo tree output unexpected: {lib:?}");
    for name in CLI_ONLY {
        assert!(!lib.iter().any(|d| d == name), "{name} is a dependency of the library alone: {lib:?}");
    }
    // The check can fail: with the default `cli` feature they are there.
    let with_cli = normal_deps(&[]);
    for name in CLI_ONLY {
        assert!(with_cli.iter().any(|d| d == name), "{name} missing with the cli feature: {with_cli:?}");
    }
}
