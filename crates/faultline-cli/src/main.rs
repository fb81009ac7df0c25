//! The `faultline` command line: the library's CLI with the five seed systems registered.
//! A user's own binary is the same one call with its own registry.

use std::process::ExitCode;

fn main() -> ExitCode {
    faultline::cli::main_with(faultline_seeds::registry())
}
