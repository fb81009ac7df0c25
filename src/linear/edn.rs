//! A streaming reader of Jepsen's `history.edn`: one operation map per line, or one vector
//! of maps, read a line at a time so a large history is never held as text.
//!
//! It reads the EDN a history uses (nil, booleans, integers, other numbers as written,
//! strings, characters, keywords, symbols, lists, vectors, sets, maps, tagged values such as
//! `#inst` or `#jepsen.history.Op`, comments and `#_` discards), and every error names
//! the line and column where the text stopped making sense.

use std::io::BufRead;

use super::Value;

/// Deeper nesting than any history needs; refusing it keeps hostile input off the stack.
const MAX_DEPTH: usize = 200;

/// A positioned parse error: 1-based line and column, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What was wrong and what was expected.
    pub message: String,
}

/// EDN text pulled from a reader one line at a time.
pub struct Reader<R> {
    src: R,
    chars: Vec<char>,
    at: usize,
    line: usize,
    eof: bool,
}

impl<R: BufRead> Reader<R> {
    /// A reader positioned before the first character.
    pub fn new(src: R) -> Self {
        Reader {
            src,
            chars: Vec::new(),
            at: 0,
            line: 0,
            eof: false,
        }
    }

    /// The 1-based line and column of the next character.
    pub fn position(&self) -> (usize, usize) {
        (self.line.max(1), self.at + 1)
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        let (line, column) = self.position();
        ParseError {
            line,
            column,
            message: message.into(),
        }
    }

    fn peek(&mut self) -> Result<Option<char>, ParseError> {
        while self.at >= self.chars.len() {
            if self.eof {
                return Ok(None);
            }
            let mut buf = String::new();
            match self.src.read_line(&mut buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(None);
                }
                Ok(_) => {
                    self.line += 1;
                    self.chars = buf.chars().collect();
                    self.at = 0;
                }
                Err(e) => {
                    self.line += 1;
                    self.at = 0;
                    self.chars.clear();
                    return Err(self.error(format!("cannot read the line: {e}")));
                }
            }
        }
        Ok(Some(self.chars[self.at]))
    }

    fn bump(&mut self) {
        self.at += 1;
    }

    /// Skips whitespace, commas and comments; returns the next character, if any.
    pub fn skip_space(&mut self) -> Result<Option<char>, ParseError> {
        loop {
            match self.peek()? {
                Some(c) if c.is_whitespace() || c == ',' => self.bump(),
                Some(';') => self.at = self.chars.len(),
                other => return Ok(other),
            }
        }
    }

    /// Consumes the next character, which the caller has peeked.
    pub fn expect_char(&mut self, c: char) -> Result<(), ParseError> {
        match self.skip_space()? {
            Some(d) if d == c => {
                self.bump();
                Ok(())
            }
            Some(d) => Err(self.error(format!("expected `{c}`, found `{d}`"))),
            None => Err(self.error(format!("expected `{c}`, found the end of the file"))),
        }
    }

    /// Reads one form.
    pub fn value(&mut self) -> Result<Value, ParseError> {
        self.form(0)
    }

    fn form(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.error(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        let Some(c) = self.skip_space()? else {
            return Err(self.error("expected a value, found the end of the file"));
        };
        match c {
            '[' | '(' => {
                self.bump();
                let close = if c == '[' { ']' } else { ')' };
                Ok(Value::Vector(self.items(close, depth)?))
            }
            '{' => {
                self.bump();
                self.map_body(depth)
            }
            '#' => {
                self.bump();
                match self.peek()? {
                    Some('{') => {
                        self.bump();
                        Ok(Value::set(self.items('}', depth)?))
                    }
                    Some('_') => {
                        self.bump();
                        self.form(depth + 1)?;
                        self.form(depth)
                    }
                    Some('#') => {
                        self.bump();
                        Ok(Value::Number(format!("##{}", self.token()?)))
                    }
                    Some(c) if is_symbol_char(c) => {
                        // A tagged value (`#inst "..."`, `#jepsen.history.Op{...}`) reads
                        // as the value it tags: the checker needs the data, not the type.
                        self.token()?;
                        self.form(depth + 1)
                    }
                    _ => Err(self.error("expected `#{`, `#_` or a tag after `#`")),
                }
            }
            '"' => {
                self.bump();
                self.string()
            }
            '\\' => {
                self.bump();
                let mut s = String::from("\\");
                if let Some(c) = self.peek()? {
                    s.push(c);
                    self.bump();
                }
                s.push_str(&self.token()?);
                Ok(Value::Symbol(s))
            }
            ':' => {
                self.bump();
                let name = self.token()?;
                if name.is_empty() {
                    return Err(self.error("expected a keyword name after `:`"));
                }
                Ok(Value::Keyword(name))
            }
            ')' | ']' | '}' => Err(self.error(format!("unexpected `{c}`"))),
            c if is_symbol_char(c) => {
                let start = self.position();
                let tok = self.token()?;
                atom(&tok).ok_or_else(|| ParseError {
                    line: start.0,
                    column: start.1,
                    message: format!("malformed number `{tok}`"),
                })
            }
            other => Err(self.error(format!("unexpected character `{other}`"))),
        }
    }

    fn items(&mut self, close: char, depth: usize) -> Result<Vec<Value>, ParseError> {
        let mut items = Vec::new();
        loop {
            match self.skip_space()? {
                Some(c) if c == close => {
                    self.bump();
                    return Ok(items);
                }
                Some(_) => items.push(self.form(depth + 1)?),
                None => {
                    return Err(self.error(format!("expected `{close}`, found the end of the file")))
                }
            }
        }
    }

    /// A map's entries after its `{`.
    pub fn map_body(&mut self, depth: usize) -> Result<Value, ParseError> {
        let items = self.items('}', depth)?;
        if items.len() % 2 == 1 {
            return Err(self.error("a map needs an even number of forms (key value pairs)"));
        }
        let mut entries = Vec::with_capacity(items.len() / 2);
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            entries.push((k, v));
        }
        Ok(Value::map(entries))
    }

    fn token(&mut self) -> Result<String, ParseError> {
        let mut s = String::new();
        while let Some(c) = self.peek()? {
            if !is_symbol_char(c) {
                break;
            }
            s.push(c);
            self.bump();
        }
        Ok(s)
    }

    fn string(&mut self) -> Result<Value, ParseError> {
        let mut s = String::new();
        loop {
            let Some(c) = self.peek()? else {
                return Err(self.error("unterminated string: expected `\"`"));
            };
            self.bump();
            match c {
                '"' => return Ok(Value::Str(s)),
                '\\' => {
                    let Some(e) = self.peek()? else {
                        return Err(self.error("unterminated string: expected `\"`"));
                    };
                    self.bump();
                    match e {
                        'n' => s.push('\n'),
                        't' => s.push('\t'),
                        'r' => s.push('\r'),
                        'b' => s.push('\u{8}'),
                        'f' => s.push('\u{c}'),
                        'u' => {
                            let mut hex = String::new();
                            for _ in 0..4 {
                                match self.peek()? {
                                    Some(h) if h.is_ascii_hexdigit() => {
                                        hex.push(h);
                                        self.bump();
                                    }
                                    _ => {
                                        return Err(self.error("expected four hex digits after \\u"))
                                    }
                                }
                            }
                            let code = u32::from_str_radix(&hex, 16).unwrap_or(0xfffd);
                            s.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                        }
                        other => s.push(other),
                    }
                }
                other => s.push(other),
            }
        }
    }
}

fn is_symbol_char(c: char) -> bool {
    c.is_alphanumeric() || ".*+!-_?$%&=<>/':#|".contains(c)
}

/// A bare token: nil, a boolean, a number, or a symbol.
fn atom(tok: &str) -> Option<Value> {
    match tok {
        "nil" => return Some(Value::Nil),
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        _ => {}
    }
    let unsigned = tok.strip_prefix(['+', '-']).unwrap_or(tok);
    if !unsigned.starts_with(|c: char| c.is_ascii_digit()) {
        return Some(Value::Symbol(tok.to_string()));
    }
    let int = tok.strip_suffix('N').unwrap_or(tok);
    if let Ok(i) = int.parse::<i64>() {
        return Some(Value::Int(i));
    }
    let looks_numeric = unsigned
        .chars()
        .all(|c| c.is_ascii_digit() || ".eE+-/MNx".contains(c) || c.is_ascii_hexdigit());
    looks_numeric.then(|| Value::Number(tok.to_string()))
}

/// Reads every top-level form of a history: a vector (or list) of maps, or maps one after
/// another; calls `each` with every element and the position where it starts.
pub fn each_form<R: BufRead>(
    reader: &mut Reader<R>,
    mut each: impl FnMut(Value, usize, usize) -> Result<(), ParseError>,
) -> Result<(), ParseError> {
    let wrapped = match reader.skip_space()? {
        Some(c @ ('[' | '(')) => {
            reader.bump();
            Some(if c == '[' { ']' } else { ')' })
        }
        _ => None,
    };
    loop {
        match (reader.skip_space()?, wrapped) {
            (None, None) => return Ok(()),
            (None, Some(close)) => {
                return Err(reader.error(format!(
                    "expected `{close}` closing the history, found the end of the file"
                )))
            }
            (Some(c), Some(close)) if c == close => {
                reader.bump();
                return match reader.skip_space()? {
                    None => Ok(()),
                    Some(c) => Err(reader.error(format!(
                        "expected the end of the file after the history, found `{c}`"
                    ))),
                };
            }
            (Some(_), _) => {
                let (line, column) = reader.position();
                let v = reader.value()?;
                each(v, line, column)?;
            }
        }
    }
}
