//! The faultline binary as a test runs it: quiet (`CI` set), and with no database unless
//! the test passes one, so a developer's `DATABASE_URL` cannot change what is tested.

// Each test file uses its own subset of these.
#![allow(dead_code)]

use std::process::Command;

/// Runs `faultline ARGS`: exit code, stdout, stderr.
pub fn faultline(args: &[&str]) -> (i32, String, String) {
    faultline_env(args, &[])
}

/// Runs `faultline ARGS` with extra environment variables.
pub fn faultline_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    at_root();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_faultline"));
    cmd.args(args).env("CI", "1").env_remove("DATABASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Moves the test process to the workspace root, where `scenarios/` and `README.md` are,
/// so paths read the same as in the README. Every test of these files calls it first; they
/// all set the same directory, so running in parallel changes nothing.
pub fn at_root() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    std::env::set_current_dir(root).expect("the workspace root exists");
}
