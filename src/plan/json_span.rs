//! Byte offsets of values inside a JSON text, so a plan's validation error can name the
//! line and column of the field that is wrong (serde_json only locates syntax errors).

/// The offset of the value at `path` (object keys, or array indices as numbers), or of
/// the deepest part of the path that exists; 0 when the text is not JSON at all.
pub fn offset_of(text: &str, path: &[String]) -> usize {
    let mut s = Scanner {
        b: text.as_bytes(),
        i: 0,
    };
    s.ws();
    let mut best = s.i;
    for seg in path {
        match s.enter(seg) {
            Some(at) => best = at,
            None => break,
        }
    }
    best
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Moves into member `seg` of the container at the cursor; its key's offset (for an
    /// object) or its value's offset (for an array).
    fn enter(&mut self, seg: &str) -> Option<usize> {
        match self.peek()? {
            b'{' => {
                self.i += 1;
                loop {
                    self.ws();
                    if self.peek()? == b'}' {
                        return None;
                    }
                    let key_at = self.i;
                    let key = self.string()?;
                    self.ws();
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.i += 1;
                    self.ws();
                    if key == seg {
                        return Some(key_at);
                    }
                    self.skip()?;
                    self.ws();
                    if self.peek()? == b',' {
                        self.i += 1;
                    }
                }
            }
            b'[' => {
                let want: usize = seg.parse().ok()?;
                self.i += 1;
                let mut n = 0;
                loop {
                    self.ws();
                    if self.peek()? == b']' {
                        return None;
                    }
                    if n == want {
                        return Some(self.i);
                    }
                    self.skip()?;
                    n += 1;
                    self.ws();
                    if self.peek()? == b',' {
                        self.i += 1;
                    }
                }
            }
            _ => None,
        }
    }

    /// Reads a string at the cursor (escapes kept raw; keys of plans need none).
    fn string(&mut self) -> Option<String> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.i + 1;
        self.i += 1;
        while self.peek()? != b'"' {
            if self.peek()? == b'\\' {
                self.i += 1;
            }
            self.i += 1;
        }
        let s = String::from_utf8_lossy(&self.b[start..self.i]).into_owned();
        self.i += 1;
        Some(s)
    }

    /// Skips the value at the cursor.
    fn skip(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                self.i += 1;
                loop {
                    self.ws();
                    match self.peek()? {
                        c if c == close => {
                            self.i += 1;
                            return Some(());
                        }
                        b',' | b':' => self.i += 1,
                        _ => self.skip()?,
                    }
                }
            }
            _ => {
                while let Some(c) = self.peek() {
                    if matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace() {
                        break;
                    }
                    self.i += 1;
                }
                Some(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_keys_and_array_elements() {
        let text = "{\n  \"a\": {\"b\": [1, {\"c\": \"x,]\"}, 3]},\n  \"d\": 4\n}";
        let at = |p: &[&str]| {
            let p: Vec<String> = p.iter().map(|s| s.to_string()).collect();
            offset_of(text, &p)
        };
        assert_eq!(&text[at(&["d"])..at(&["d"]) + 3], "\"d\"");
        assert_eq!(&text[at(&["a", "b", "2"])..at(&["a", "b", "2"]) + 1], "3");
        assert_eq!(&text[at(&["a", "b", "1", "c"])..][..3], "\"c\"");
        // A missing key stops at the deepest part found.
        assert_eq!(at(&["a", "zz"]), at(&["a"]));
    }
}
