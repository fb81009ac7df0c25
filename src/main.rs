//! The `faultline` command line: parses arguments, calls the library, maps outcomes to
//! exit codes (0 as expected, 1 a verdict differs, 2 bad input or harness failure).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    quiet_on_broken_pipe();
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

/// `faultline list | head -1` closes stdout early; Rust ignores SIGPIPE, so `print!`
/// panics on the failed write. A reader that has seen enough is not an error: end
/// quietly with status 0, and leave every other panic to the default hook.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if text.starts_with("failed printing to stdout") && text.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}
