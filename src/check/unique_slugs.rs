//! `unique_slugs`: no two rows in the final state share a slug, and no two `ok` creates
//! returned the same slug.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{FinalState, Verdict, Witness};
use crate::history::History;

/// The invariant's name.
pub const NAME: &str = "unique_slugs";

/// Checks `table.slug_col` in the final state and the slugs `create` operations returned
/// (`{"slug": ...}` in their ok value).
pub fn check(history: &History, state: &FinalState, table: &str, slug_col: &str) -> Verdict {
    let creates = history.operations_named("create");
    let mut by_slug: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for row in state.rows(table) {
        if let Some(Value::String(slug)) = row.get(slug_col) {
            by_slug
                .entry(slug.clone())
                .or_default()
                .push(row.get("id").unwrap_or(&Value::Null));
        }
    }
    let witnesses_for = |slug: &str| -> Vec<Witness> {
        creates
            .iter()
            .filter(|o| o.is_ok() && o.result().get("slug").and_then(Value::as_str) == Some(slug))
            .map(|o| {
                Witness::of(
                    o,
                    format!(
                        "create '{}' -> slug '{slug}', id {}",
                        o.invoke.value["name"].as_str().unwrap_or("?"),
                        o.result()["id"]
                    ),
                )
            })
            .collect()
    };
    if let Some((slug, ids)) = by_slug.iter().find(|(_, ids)| ids.len() > 1) {
        let ids: Vec<String> = ids.iter().map(|v| v.to_string()).collect();
        return Verdict::violated(
            NAME,
            format!(
                "{} cards share the slug '{slug}' (ids {}): each create saw the slug free before \
                 the other inserted it, and nothing in the database refused the second row.",
                ids.len(),
                ids.join(", ")
            ),
            witnesses_for(slug),
        );
    }
    let mut returned: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for o in creates.iter().filter(|o| o.is_ok()) {
        if let Some(slug) = o.result().get("slug").and_then(Value::as_str) {
            returned.entry(slug).or_default().push(&o.result()["id"]);
        }
    }
    for (slug, ids) in returned {
        let mut distinct = ids.clone();
        distinct.sort_by_key(|v| v.to_string());
        distinct.dedup();
        if distinct.len() > 1 {
            return Verdict::violated(
                NAME,
                format!(
                    "Two acknowledged creates returned the same slug '{slug}' for different cards."
                ),
                witnesses_for(slug),
            );
        }
    }
    Verdict::holds(NAME)
}
