//! Where a Harness run leaves its evidence, and the commands that rerun one test.

use std::path::PathBuf;

use super::SEED_SLOT;

/// `faultline/` in the workspace's target directory: `CARGO_TARGET_DIR` when set, else the
/// `target/` beside the nearest `Cargo.lock` above the working directory (a test runs in
/// its package's folder, which in a workspace is not where `target/` is).
pub(super) fn default_evidence_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("faultline");
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    cwd.ancestors()
        .find(|d| d.join("Cargo.lock").exists())
        .map_or_else(
            || PathBuf::from("target/faultline"),
            |d| d.join("target").join("faultline"),
        )
}

/// The command that reruns this very test for one seed: its package, its test target,
/// `--exact` on its name, and `--include-ignored` so it runs even when marked
/// `#[ignore]`.
pub fn replay_template() -> String {
    let test = std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .unwrap_or("<test name>")
        .to_string();
    let package = std::env::var("CARGO_PKG_NAME")
        .map(|p| format!(" -p {p}"))
        .unwrap_or_default();
    format!(
        "FAULTLINE_SEED={SEED_SLOT} cargo test{package}{} -- --exact {test} --include-ignored",
        test_target()
    )
}

/// The `--test NAME` or `--lib` that selects the running test binary.
fn test_target() -> String {
    let exe = std::env::current_exe().ok();
    let stem = exe
        .as_ref()
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Test binaries are named `TARGET-HASH`.
    let name = match stem.rsplit_once('-') {
        Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_string(),
        _ => stem,
    };
    // The library's own unit tests are named after the package's library.
    let lib = std::env::var("CARGO_PKG_NAME").map(|p| p.replace('-', "_"));
    if name.is_empty() {
        String::new()
    } else if lib.as_deref() == Ok(name.as_str()) {
        " --lib".to_string()
    } else {
        format!(" --test {name}")
    }
}

/// The replay command with a plan file instead of a seed.
pub fn replay_with_plan(template: &str, plan: &std::path::Path) -> String {
    template.replace(
        &format!("FAULTLINE_SEED={SEED_SLOT}"),
        &format!("FAULTLINE_PLAN={}", plan.display()),
    )
}
