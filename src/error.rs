//! The library's error type: bad input (exit code 2) and harness failures.

use std::path::PathBuf;

/// Everything that stops faultline from producing verdicts.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scenario or plan file is malformed; names the place and what was expected.
    #[error("{file}:{line}:{column}: {message}")]
    Input {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What was wrong and what was expected.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A request the harness cannot satisfy (unknown scenario, variant or invariant).
    #[error("{0}")]
    Usage(String),
    /// The simulation itself broke (not a verdict about the logic under test).
    #[error("harness failure: {0}")]
    Harness(String),
}

impl Error {
    /// A harness failure that happened while doing `what`. Only [`Error::Harness`]
    /// displays the `harness failure:` prefix, so wrapping one in another must extend
    /// its message, never nest its Display (that printed the prefix twice).
    pub fn during(what: &str, cause: Box<dyn std::error::Error + 'static>) -> Self {
        match cause.downcast::<Error>() {
            Ok(inner) => match *inner {
                Error::Harness(m) => Error::Harness(format!("{what}: {m}")),
                other => other,
            },
            Err(other) => {
                let text = other.to_string();
                let text = text.strip_prefix("harness failure: ").unwrap_or(&text);
                Error::Harness(format!("{what}: {text}"))
            }
        }
    }

    /// An input error at a byte offset of `text`.
    pub fn at_offset(file: impl Into<PathBuf>, text: &str, offset: usize, message: String) -> Self {
        let (line, column) = line_col(text, offset);
        Error::Input {
            file: file.into(),
            line,
            column,
            message,
        }
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(offset, |i| offset - i - 1) + 1;
    (line, column)
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_harness_failure_says_so_once() {
        let inner: Box<dyn std::error::Error> = Box::new(Error::Harness("bad action".into()));
        let msg = Error::during("simulation failed", inner).to_string();
        assert_eq!(msg, "harness failure: simulation failed: bad action");
        let foreign: Box<dyn std::error::Error> = "harness failure: x".into();
        let msg = Error::during("sweep run failed", foreign).to_string();
        assert_eq!(msg, "harness failure: sweep run failed: x");
    }
}
