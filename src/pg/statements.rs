//! Splits an SQL file into its statements, so each is sent on its own and a refusal names
//! the statement's line. The scanner knows what can hide a `;`: quoted strings and
//! identifiers, `--` and nested `/* */` comments, and dollar-quoted bodies (`$$` or
//! `$tag$`), which is where PL/pgSQL functions keep theirs.

/// One statement: its byte offset in the file and its text (without the `;`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    /// Byte offset of its first non-blank character.
    pub offset: usize,
    /// The statement's text.
    pub text: &'a str,
}

/// The statements of `sql`, each from its first character of code (comments before it
/// left out), blank and comment-only ones dropped.
pub fn split(sql: &str) -> Vec<Statement<'_>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    // Where the current statement's first code character is, once there is one.
    let mut first: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        let rest = &sql[i..];
        let skip = if rest.starts_with("--") {
            rest.find('\n').map_or(rest.len(), |n| n + 1)
        } else if rest.starts_with("/*") {
            block_comment(rest)
        } else {
            0
        };
        if skip > 0 {
            i += skip;
            continue;
        }
        match bytes[i] {
            b'\'' | b'"' => {
                first.get_or_insert(i);
                i += quoted(rest, bytes[i]);
            }
            b'$' => {
                first.get_or_insert(i);
                i += dollar(rest);
            }
            b';' => {
                push(&mut out, sql, first.take(), i);
                i += 1;
            }
            b => {
                if !b.is_ascii_whitespace() {
                    first.get_or_insert(i);
                }
                i += 1;
            }
        }
    }
    push(&mut out, sql, first, sql.len());
    out
}

fn push<'a>(out: &mut Vec<Statement<'a>>, sql: &'a str, first: Option<usize>, end: usize) {
    if let Some(offset) = first {
        out.push(Statement {
            offset,
            text: sql[offset..end].trim_end(),
        });
    }
}

/// Length of the nested block comment `rest` starts with (to the end if unclosed).
fn block_comment(rest: &str) -> usize {
    let mut depth = 0usize;
    let mut i = 0;
    while i < rest.len() {
        if rest[i..].starts_with("/*") {
            depth += 1;
            i += 2;
        } else if rest[i..].starts_with("*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += rest[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    rest.len()
}

/// Length of the quoted string or identifier `rest` starts with; a doubled quote is an
/// escaped one.
fn quoted(rest: &str, quote: u8) -> usize {
    let bytes = rest.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    rest.len()
}

/// Length of the dollar-quoted body `rest` starts with, or 1 when the `$` opens none
/// (a parameter like `$1`).
fn dollar(rest: &str) -> usize {
    let tag_len = rest[1..]
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map(|n| n + 1);
    let Some(tag_end) = tag_len.filter(|&n| rest[n..].starts_with('$')) else {
        return 1;
    };
    let tag = &rest[..=tag_end];
    if tag[1..tag_end].starts_with(|c: char| c.is_ascii_digit()) {
        return 1;
    }
    match rest[tag.len()..].find(tag) {
        Some(n) => tag.len() + n + tag.len(),
        None => rest.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split(sql).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn splits_on_semicolons_outside_quotes_comments_and_bodies() {
        let sql = "create table t (a text default ';');\n\
                   -- a comment; still a comment\n\
                   /* block; /* nested; */ still */ select \"a;b\" from t;\n\
                   create function f(args jsonb) returns jsonb language plpgsql as $body$\n\
                   begin return '{}'; end $body$;\n\
                   select $$x;y$$, $1;";
        assert_eq!(
            texts(sql),
            vec![
                "create table t (a text default ';')",
                "select \"a;b\" from t",
                "create function f(args jsonb) returns jsonb language plpgsql as $body$\n\
                 begin return '{}'; end $body$",
                "select $$x;y$$, $1",
            ]
        );
    }

    #[test]
    fn offsets_point_at_each_statement() {
        let sql = "select 1;\n\n  select 'it''s';  -- done\n";
        let got = split(sql);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].offset, 0);
        assert_eq!(&sql[got[1].offset..got[1].offset + 6], "select");
        assert_eq!(got[1].text, "select 'it''s'");
    }

    #[test]
    fn leaves_out_blank_and_comment_only_pieces_and_keeps_an_unterminated_tail() {
        assert!(split("  ;\n-- nothing\n;/* x */").is_empty());
        assert_eq!(texts("select 1; select 2"), vec!["select 1", "select 2"]);
        assert_eq!(texts("select 'open; string"), vec!["select 'open; string"]);
    }
}
