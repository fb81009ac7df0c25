//! The operation lines older Jepsen tests log through `jepsen.util`:
//!
//! ```text
//! INFO  jepsen.util - 3<TAB>:invoke<TAB>:cas<TAB>[1 4]
//! INFO  jepsen.util - 3<TAB>:ok<TAB>:cas<TAB>[1 4]
//! INFO  jepsen.util - :nemesis<TAB>:info<TAB>:start<TAB>"Cut off {...}"
//! ```
//!
//! Tab-separated after the logger name: process, type, function, value (EDN). Lines from
//! other loggers are skipped; a `jepsen.util` line with tabs that does not parse is an
//! error, because a silently skipped operation could change the answer.

use super::edn::{ParseError, Reader};
use super::Value;

/// Where the operation fields begin.
pub const MARKER: &str = "jepsen.util - ";

/// One parsed line: process, type, function and value, each an EDN value.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// The process: an integer, or `:nemesis`.
    pub process: Value,
    /// `:invoke`, `:ok`, `:fail` or `:info`.
    pub kind: Value,
    /// The function.
    pub f: Value,
    /// The value (`nil` when absent).
    pub value: Value,
}

/// Parses one log line; `Ok(None)` for lines that are not operations.
pub fn parse_line(text: &str, line: usize) -> Result<Option<LogLine>, ParseError> {
    let Some(at) = text.find(MARKER) else {
        return Ok(None);
    };
    let rest = &text[at + MARKER.len()..];
    if !rest.contains('\t') {
        return Ok(None);
    }
    let rest = rest.trim_end_matches(['\n', '\r']);
    let start_col = text[..at + MARKER.len()].chars().count() + 1;
    let mut fields: Vec<(usize, &str)> = Vec::with_capacity(4);
    let mut col = start_col;
    for (i, part) in rest.splitn(4, '\t').enumerate() {
        let _ = i;
        fields.push((col, part));
        col += part.chars().count() + 1;
    }
    if fields.len() < 3 {
        return Err(ParseError {
            line,
            column: col.saturating_sub(1),
            message: "expected tab-separated process, type, function and value".into(),
        });
    }
    let field = |idx: usize, what: &str| -> Result<Value, ParseError> {
        let (column, text) = fields.get(idx).copied().unwrap_or((col, ""));
        if text.trim().is_empty() {
            return if idx == 3 {
                Ok(Value::Nil)
            } else {
                Err(ParseError {
                    line,
                    column,
                    message: format!("expected {what}, found nothing"),
                })
            };
        }
        let mut r = Reader::new(text.as_bytes());
        let positioned = |e: ParseError| ParseError {
            line,
            column: column + e.column - 1,
            message: format!("in {what}: {}", e.message),
        };
        let v = r.value().map_err(positioned)?;
        if let Some(c) = r.skip_space().map_err(positioned)? {
            let (_, c_col) = r.position();
            return Err(ParseError {
                line,
                column: column + c_col - 1,
                message: format!("expected one value as {what}, found more starting with `{c}`"),
            });
        }
        Ok(v)
    };
    Ok(Some(LogLine {
        process: field(0, "a process")?,
        kind: field(1, "a type (:invoke, :ok, :fail or :info)")?,
        f: field(2, "a function")?,
        value: field(3, "a value")?,
    }))
}
