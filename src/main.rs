//! The `faultline` command line: parses arguments, calls the library, maps outcomes to
//! exit codes (0 as expected, 1 a verdict differs, 2 bad input or harness failure).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = faultline::cli::Cli::parse();
    match faultline::cli::execute(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
