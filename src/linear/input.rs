//! Reading a history file into operations: the format is recognised from the content,
//! lines are streamed, invokes are paired with their completions by process, and every
//! problem is an [`Error::Input`] naming the file, line and column and what was expected.
//!
//! Positions (one per history line, in order) stand in for time: every format lists
//! events in the order they happened, and Jepsen logs carry no times at all.

use std::collections::HashMap;
use std::io::{BufRead, Cursor, Read};
use std::path::{Path, PathBuf};

use super::adapter::{action, Kind, Mapping};
use super::edn::{self, ParseError};
use super::jepsen_log;
use super::{Model, Op, Status, Value};
use crate::error::Error;

/// The history formats `faultline check` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// faultline's JSON Lines (`src/history.rs`).
    Jsonl,
    /// Jepsen's `history.edn`.
    Edn,
    /// `jepsen.util` log lines.
    JepsenLog,
}

impl Format {
    /// Parses `jsonl`, `edn` or `jepsen-log`.
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "jsonl" | "json" => Some(Format::Jsonl),
            "edn" => Some(Format::Edn),
            "jepsen-log" | "log" => Some(Format::JepsenLog),
            _ => None,
        }
    }

    /// The CLI spelling.
    pub fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Edn => "edn",
            Format::JepsenLog => "jepsen-log",
        }
    }
}

/// Whether operation values carry their key, as Jepsen's independent checker writes them
/// (`:value [k v]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Independent {
    /// Decide from the history: a read invoked with `[k nil]`, or a cas of `[k [old new]]`.
    Auto,
    /// Every value is `[key value]`.
    Yes,
    /// Values are plain.
    No,
}

/// A fault or nemesis event, kept to draw on the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// Position in the history.
    pub at: u64,
    /// Source line.
    pub line: usize,
    /// The fault's verb (`start`, `partition`, ...).
    pub f: String,
    /// Its details.
    pub value: Value,
}

/// A parsed history.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The format it was read as.
    pub format: Format,
    /// Operations, in invoke order; times are positions.
    pub ops: Vec<Op>,
    /// Nemesis events.
    pub faults: Vec<Fault>,
    /// Positions used (one past the last).
    pub end: u64,
    /// Whether values carried their keys.
    pub independent: bool,
}

/// One history line before pairing.
#[derive(Debug, Clone)]
struct Record {
    line: usize,
    column: usize,
    process: String,
    status: Option<Status>,
    f: String,
    value: Value,
    key: Option<Value>,
}

struct Open {
    invoke: Record,
    at: u64,
    done: Option<(Record, u64)>,
}

/// Pairs records into operations as they stream in.
struct Pairer<'a> {
    file: &'a Path,
    open: HashMap<String, usize>,
    ops: Vec<Open>,
    faults: Vec<Fault>,
    at: u64,
}

impl Pairer<'_> {
    fn err(&self, line: usize, column: usize, message: String) -> Error {
        Error::Input {
            file: self.file.to_path_buf(),
            line,
            column,
            message,
        }
    }

    fn fault(&mut self, line: usize, f: String, value: Value) {
        self.faults.push(Fault {
            at: self.at,
            line,
            f,
            value,
        });
        self.at += 1;
    }

    fn push(&mut self, r: Record) -> Result<(), Error> {
        let at = self.at;
        self.at += 1;
        match r.status {
            None => {
                if let Some(&i) = self.open.get(&r.process) {
                    let prev = self.ops[i].invoke.line;
                    return Err(self.err(
                        r.line,
                        r.column,
                        format!(
                            "process {} invokes again while its invoke on line {prev} is still \
                             open; expected a completion (ok, fail or info) first",
                            r.process
                        ),
                    ));
                }
                self.open.insert(r.process.clone(), self.ops.len());
                self.ops.push(Open {
                    invoke: r,
                    at,
                    done: None,
                });
            }
            Some(_) => {
                let Some(i) = self.open.remove(&r.process) else {
                    return Err(self.err(
                        r.line,
                        r.column,
                        format!(
                            "a completion for process {} with no open invoke; expected an \
                             invoke of `{}` earlier",
                            r.process, r.f
                        ),
                    ));
                };
                if self.ops[i].invoke.f != r.f {
                    let inv = &self.ops[i].invoke;
                    return Err(self.err(
                        r.line,
                        r.column,
                        format!(
                            "this completes `{}`, but process {}'s open invoke on line {} is `{}`",
                            r.f, r.process, inv.line, inv.f
                        ),
                    ));
                }
                self.ops[i].done = Some((r, at));
            }
        }
        Ok(())
    }

    fn finish(
        self,
        format: Format,
        model: Model,
        mapping: &Mapping,
        independent: Independent,
    ) -> Result<Parsed, Error> {
        let independent = match independent {
            Independent::Yes => true,
            Independent::No => false,
            Independent::Auto => detect_independent(&self.ops, mapping),
        };
        let mut ops = Vec::with_capacity(self.ops.len());
        for o in &self.ops {
            let inv = &o.invoke;
            let Some(kind) = mapping.kind_of(&inv.f) else {
                return Err(self.err(
                    inv.line,
                    inv.column,
                    format!(
                        "unknown operation `{}`; expected one of {}",
                        inv.f,
                        mapping.names()
                    ),
                ));
            };
            let status = o
                .done
                .as_ref()
                .and_then(|d| d.0.status)
                .unwrap_or(Status::Info);
            let (mut key, mut invoked) = (inv.key.clone(), inv.value.clone());
            let mut completed = o.done.as_ref().map_or(Value::Nil, |d| d.0.value.clone());
            if independent {
                let split = |v: &Value| v.as_pair().map(|(k, x)| (k.clone(), x.clone()));
                let Some((k, v)) = split(&invoked) else {
                    return Err(self.err(
                        inv.line,
                        inv.column,
                        format!("expected an independent-key value [key value], found {invoked}"),
                    ));
                };
                key = Some(k);
                invoked = v;
                completed = split(&completed).map_or(Value::Nil, |(_, v)| v);
            }
            let act = action(kind, status, &invoked, &completed)
                .map_err(|m| self.err(inv.line, inv.column, m))?;
            if !model.allows(&act) {
                return Err(self.err(
                    inv.line,
                    inv.column,
                    format!(
                        "`{}` is not an operation of the {model} model, which has {}; \
                         is --model right?",
                        inv.f,
                        model.operations()
                    ),
                ));
            }
            ops.push(Op {
                process: inv.process.clone(),
                key,
                action: act,
                status,
                invoke: o.at,
                complete: o.done.as_ref().map(|d| d.1),
                line: Some(inv.line),
            });
        }
        Ok(Parsed {
            format,
            ops,
            faults: self.faults,
            end: self.at,
            independent,
        })
    }
}

/// The first operation that can only be read one way decides.
fn detect_independent(ops: &[Open], mapping: &Mapping) -> bool {
    for o in ops {
        let v = &o.invoke.value;
        if o.invoke.key.is_some() {
            return false;
        }
        match mapping.kind_of(&o.invoke.f) {
            Some(Kind::Read) => return v.as_pair().is_some(),
            Some(Kind::Cas) => {
                return v
                    .as_pair()
                    .is_some_and(|(_, inner)| inner.as_pair().is_some());
            }
            _ => {}
        }
    }
    false
}

/// Recognises the format from the first lines that say anything.
pub fn detect(head: &str) -> Option<Format> {
    for line in head.lines() {
        let t = line.trim_start();
        if t.is_empty() || t.starts_with(';') {
            continue;
        }
        if line.contains(jepsen_log::MARKER) {
            return Some(Format::JepsenLog);
        }
        if let Some(rest) = t.strip_prefix('{') {
            let rest = rest.trim_start();
            if rest.starts_with('"') {
                return Some(Format::Jsonl);
            }
            if rest.starts_with(':') || rest.is_empty() {
                return Some(Format::Edn);
            }
        }
        if t.starts_with('[') || t.starts_with('(') || t.starts_with("#jepsen") {
            return Some(Format::Edn);
        }
        // Log preambles (other loggers, timestamps) come before the first operation.
        if !(t.starts_with("INFO")
            || t.starts_with("WARN")
            || t.starts_with(|c: char| c.is_ascii_digit()))
        {
            return None;
        }
    }
    None
}

/// What to read and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The model the history will be checked against (operations it lacks are errors).
    pub model: Model,
    /// A format to insist on, or `None` to recognise it.
    pub format: Option<Format>,
    /// Independent keys.
    pub independent: Independent,
    /// Function names.
    pub mapping: Mapping,
}

/// Reads a history file.
pub fn read_file(path: &Path, opts: &Options) -> Result<Parsed, Error> {
    let file = std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read(std::io::BufReader::new(file), path, opts)
}

/// Reads a history from any reader; `path` names it in errors.
pub fn read(mut input: impl BufRead, path: &Path, opts: &Options) -> Result<Parsed, Error> {
    // Enough lines to see past a log preamble, then the rest streamed behind them.
    let mut head = Vec::new();
    let mut lines = 0;
    while lines < 200 {
        let n = input
            .read_until(b'\n', &mut head)
            .map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?;
        if n == 0 {
            break;
        }
        lines += 1;
        if detect(&String::from_utf8_lossy(&head)).is_some() {
            break;
        }
    }
    let blank = head.iter().all(|b| b.is_ascii_whitespace());
    let format = match opts.format {
        Some(f) => f,
        // An empty file is an empty history (Jepsen leaves one when a test never started).
        None if blank => Format::Edn,
        None => detect(&String::from_utf8_lossy(&head)).ok_or_else(|| Error::Input {
            file: path.to_path_buf(),
            line: 1,
            column: 1,
            message: "not a history this command reads: expected faultline JSON Lines \
                      ({\"index\": ...}), Jepsen EDN ({:process ...} maps) or jepsen.util \
                      log lines"
                .into(),
        })?,
    };
    let stream = Cursor::new(head).chain(input);
    let mut p = Pairer {
        file: path,
        open: HashMap::new(),
        ops: Vec::new(),
        faults: Vec::new(),
        at: 0,
    };
    match format {
        Format::Jsonl => read_jsonl(stream, &mut p, &opts.mapping)?,
        Format::Edn => read_edn(stream, &mut p)?,
        Format::JepsenLog => read_log(stream, &mut p)?,
    }
    p.finish(format, opts.model, &opts.mapping, opts.independent)
}

fn positioned(file: &Path, e: ParseError) -> Error {
    Error::Input {
        file: PathBuf::from(file),
        line: e.line,
        column: e.column,
        message: e.message,
    }
}

fn read_jsonl(input: impl BufRead, p: &mut Pairer<'_>, mapping: &Mapping) -> Result<(), Error> {
    let mut line_no = 0;
    for line in input.split(b'\n') {
        line_no += 1;
        let line = line.map_err(|source| Error::Io {
            path: p.file.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8_lossy(&line);
        if text.trim().is_empty() {
            continue;
        }
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            p.err(
                line_no,
                e.column().max(1),
                format!("expected a history entry (a JSON object): {e}"),
            )
        })?;
        let field = |name: &str| json.get(name);
        let Some(kind) = field("type").and_then(|v| v.as_str()) else {
            return Err(p.err(
                line_no,
                1,
                "expected a \"type\" field: invoke, ok, fail, info or fault".into(),
            ));
        };
        let process = match field("process") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(v @ serde_json::Value::Number(_)) => v.to_string(),
            _ => return Err(p.err(line_no, 1, "expected a \"process\" field (a string)".into())),
        };
        let Some(f) = field("f").and_then(|v| v.as_str()).map(str::to_string) else {
            return Err(p.err(line_no, 1, "expected an \"f\" field (a string)".into()));
        };
        let value = field("value").map_or(Value::Nil, Value::from_json);
        let status = match kind {
            "invoke" => None,
            "ok" => Some(Status::Ok),
            "fail" => Some(Status::Fail),
            "info" => Some(Status::Info),
            "fault" => {
                p.fault(line_no, f, value);
                continue;
            }
            other => {
                return Err(p.err(
                    line_no,
                    1,
                    format!("unknown type `{other}`; expected invoke, ok, fail, info or fault"),
                ))
            }
        };
        let (inner_key, value) = mapping.split(value);
        let key = field(&mapping.key_field)
            .map(Value::from_json)
            .or(inner_key);
        p.push(Record {
            line: line_no,
            column: 1,
            process,
            status,
            f,
            value,
            key,
        })?;
    }
    Ok(())
}

fn status_of(kind: &Value) -> Option<Option<Status>> {
    let Value::Keyword(k) = kind else {
        return None;
    };
    Some(match k.as_str() {
        "invoke" => None,
        "ok" => Some(Status::Ok),
        "fail" => Some(Status::Fail),
        "info" => Some(Status::Info),
        _ => return None,
    })
}

fn name_of(v: &Value) -> String {
    match v {
        Value::Keyword(s) | Value::Str(s) | Value::Symbol(s) => s.clone(),
        other => other.to_string(),
    }
}

fn is_nemesis(process: &Value) -> bool {
    matches!(process, Value::Keyword(k) | Value::Str(k) if k == "nemesis")
}

fn read_edn(input: impl BufRead, p: &mut Pairer<'_>) -> Result<(), Error> {
    let file = p.file.to_path_buf();
    let mut reader = edn::Reader::new(input);
    let mut failure: Option<Error> = None;
    let kw = |s: &str| Value::Keyword(s.into());
    let result = edn::each_form(&mut reader, |form, line, column| {
        let bad = |message: String| ParseError {
            line,
            column,
            message,
        };
        if !matches!(form, Value::Map(_)) {
            return Err(bad(format!(
                "expected an operation map {{:process .., :type .., :f ..}}, found {form}"
            )));
        }
        let process = form.get(&kw("process")).cloned().unwrap_or(Value::Nil);
        let kind = form.get(&kw("type")).cloned().unwrap_or(Value::Nil);
        let f = form.get(&kw("f")).map(name_of).unwrap_or_default();
        let value = form.get(&kw("value")).cloned().unwrap_or(Value::Nil);
        if is_nemesis(&process) {
            p.fault(line, f, value);
            return Ok(());
        }
        let Some(status) = status_of(&kind) else {
            return Err(bad(format!(
                "expected :type :invoke, :ok, :fail or :info, found {kind}"
            )));
        };
        if process == Value::Nil {
            return Err(bad("expected a :process".into()));
        }
        if f.is_empty() {
            return Err(bad("expected an :f (the operation's function)".into()));
        }
        let record = Record {
            line,
            column,
            process: name_of(&process),
            status,
            f,
            value,
            key: form.get(&kw("key")).cloned(),
        };
        p.push(record).map_err(|e| {
            let pe = bad(e.to_string());
            failure = Some(e);
            pe
        })
    });
    match (result, failure) {
        (Err(_), Some(e)) => Err(e),
        (Err(e), None) => Err(positioned(&file, e)),
        (Ok(()), _) => Ok(()),
    }
}

fn read_log(input: impl BufRead, p: &mut Pairer<'_>) -> Result<(), Error> {
    let mut line_no = 0;
    for line in input.split(b'\n') {
        line_no += 1;
        let line = line.map_err(|source| Error::Io {
            path: p.file.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8_lossy(&line);
        let Some(l) = jepsen_log::parse_line(&text, line_no).map_err(|e| positioned(p.file, e))?
        else {
            continue;
        };
        let column = text.find(jepsen_log::MARKER).map_or(1, |i| {
            text[..i + jepsen_log::MARKER.len()].chars().count() + 1
        });
        if is_nemesis(&l.process) {
            p.fault(line_no, name_of(&l.f), l.value);
            continue;
        }
        let Some(status) = status_of(&l.kind) else {
            return Err(p.err(
                line_no,
                column,
                format!(
                    "expected a type :invoke, :ok, :fail or :info, found {}",
                    l.kind
                ),
            ));
        };
        p.push(Record {
            line: line_no,
            column,
            process: name_of(&l.process),
            status,
            f: name_of(&l.f),
            value: l.value,
            key: None,
        })?;
    }
    Ok(())
}
