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
