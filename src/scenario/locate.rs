//! Error positions taken from the TOML parser's own spans: a validation error points at
//! the key that is wrong, never at the first place a word happens to occur in the text
//! (a header comment or a description would otherwise win).

use std::ops::Range;

use toml_edit::{ImDocument, Item, Value};

use super::Scenario;
use crate::error::Error;

/// The byte span of the deepest element of `path` that the document holds: the key
/// itself when present, else the closest table or key above it, else `None` (the top).
///
/// A segment names a table key, or, inside an array, an element: its index or its
/// string value (so `["variants", "naive"]` finds `"naive"` in `variants = [...]`).
pub fn span_of(text: &str, path: &[&str]) -> Option<Range<usize>> {
    locate(text, path).0
}

/// [`span_of`], and whether every segment of `path` was found.
fn locate(text: &str, path: &[&str]) -> (Option<Range<usize>>, bool) {
    let Ok(doc) = ImDocument::parse(text) else {
        return (None, false);
    };
    let mut best = None;
    let mut item = doc.as_item();
    for (i, seg) in path.iter().enumerate() {
        let Some((span, next)) = step(item, seg) else {
            return (best, false);
        };
        best = span.or(best);
        match next {
            Some(next) => item = next,
            None => return (best, i + 1 == path.len()),
        }
    }
    (best, true)
}

/// One step down: the span to report for `seg` and the item it leads to (none for an
/// array element, which has nothing below it worth naming).
fn step<'a>(item: &'a Item, seg: &str) -> Option<(Option<Range<usize>>, Option<&'a Item>)> {
    if let Some(table) = item.as_table_like() {
        let (key, child) = table.get_key_value(seg)?;
        // A `[table]` header's span is its header; a key's span is the key.
        let span = match child {
            Item::Table(t) if t.span().is_some() => t.span(),
            _ => key.span().or_else(|| child.span()),
        };
        return Some((span, Some(child)));
    }
    if let Some(array) = item.as_array() {
        let found = match seg.parse::<usize>() {
            Ok(i) => array.get(i),
            Err(_) => array.iter().find(|v| v.as_str() == Some(seg)),
        }?;
        return Some((value_span(found), None));
    }
    None
}

fn value_span(v: &Value) -> Option<Range<usize>> {
    v.span()
}

/// Every path at which `name` occurs as a key or as a string in a list, in document
/// order of the tables walked (top level first).
fn paths_naming(item: &Item, name: &str, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    if let Some(table) = item.as_table_like() {
        for (k, child) in table.iter() {
            prefix.push(k.to_string());
            if k == name {
                out.push(prefix.clone());
            }
            paths_naming(child, name, prefix, out);
            prefix.pop();
        }
    } else if let Some(array) = item.as_array() {
        if array.iter().any(|v| v.as_str() == Some(name)) {
            let mut p = prefix.clone();
            p.push(name.to_string());
            out.push(p);
        }
    }
}

impl Scenario {
    /// An input error at the key `path` names (`&["workload", "clients"]`), or at the
    /// closest table above it when the key is absent (a default that is only invalid
    /// together with another key), or at the top of the file.
    ///
    /// Under a profile, a key the profile overrides is looked up in `[profiles.NAME]`
    /// first, since that is where the value that is wrong was written.
    pub fn error_at<S: AsRef<str>>(&self, path: &[S], message: String) -> Error {
        let path: Vec<&str> = path.iter().map(AsRef::as_ref).collect();
        let span = self
            .profile_span(&path)
            .or_else(|| span_of(&self.text, &path));
        Error::at_offset(&self.path, &self.text, span.map_or(0, |s| s.start), message)
    }

    /// The first path of the document at which `name` is a key or a listed string: where
    /// an unknown variant or invariant was written. Expectation tables and lists are
    /// searched, not comments or descriptions.
    pub fn path_naming(&self, name: &str) -> Vec<String> {
        let Ok(doc) = ImDocument::parse(self.text.as_str()) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        paths_naming(doc.as_item(), name, &mut Vec::new(), &mut out);
        // Descriptions and names are strings, not lists, so they never match; prefer the
        // places a name is declared over where it is only referred to.
        out.into_iter().next().unwrap_or_default()
    }

    fn profile_span(&self, path: &[&str]) -> Option<Range<usize>> {
        let name = self.profile.as_deref()?;
        if path.first() == Some(&"profiles") || path.is_empty() {
            return None;
        }
        let mut full = vec!["profiles", name];
        full.extend_from_slice(path);
        match locate(&self.text, &full) {
            (Some(span), true) => Some(span),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# clients and tick_ms in a comment\nname = \"x\"\ndescription = \"clients of tick_ms\"\n[network]\ntick_ms = 0\n[workload]\nclients = 3\n[profiles.p.faults]\nholds = 2\n";

    #[test]
    fn spans_point_at_the_key_not_the_first_mention() {
        let at = |p: &[&str]| {
            let s = span_of(TEXT, p).unwrap();
            crate::error::line_col(TEXT, s.start)
        };
        assert_eq!(at(&["network", "tick_ms"]), (5, 1));
        assert_eq!(at(&["workload", "clients"]), (7, 1));
        assert_eq!(at(&["profiles", "p", "faults", "holds"]), (9, 1));
        // An absent key falls back to its table's header.
        assert_eq!(at(&["workload", "devices"]), (6, 1));
    }
}
