//! `unique_slugs`: no two rows in the final state share a slug, and no two `ok` creates
//! returned the same slug.

use serde_json::Value;

use super::{FinalState, Verdict, Witness};
use crate::history::History;

/// The invariant's name.
pub const NAME: &str = "unique_slugs";

/// Checks `table.slug_col` in the final state and the slugs `create` operations returned
/// (`{"slug": ...}` in their ok value).
pub fn check(history: &History, state: &FinalState, table: &str, slug_col: &str) -> Verdict {
    let creates = history.operations_named("create");
    // Sorting (slug, id) pairs finds shared slugs without a map entry per row.
    let mut by_slug: Vec<(&str, &Value)> = state
        .rows(table)
        .iter()
        .filter_map(|row| match row.get(slug_col) {
            Some(Value::String(slug)) => {
                Some((slug.as_str(), row.get("id").unwrap_or(&Value::Null)))
            }
            _ => None,
        })
        .collect();
    by_slug.sort_unstable_by(|a, b| a.0.cmp(b.0));
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
    if let Some(w) = by_slug.windows(2).find(|w| w[0].0 == w[1].0) {
        let slug = w[0].0;
        let ids: Vec<String> = by_slug
            .iter()
            .filter(|(s, _)| *s == slug)
            .map(|(_, v)| v.to_string())
            .collect();
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
    // Two acknowledged creates with one slug but different ids is a violation.
    let mut returned: Vec<(&str, &Value)> = creates
        .iter()
        .filter(|o| o.is_ok())
        .filter_map(|o| Some((o.result().get("slug")?.as_str()?, &o.result()["id"])))
        .collect();
    returned.sort_unstable_by(|a, b| a.0.cmp(b.0));
    if let Some(w) = returned
        .windows(2)
        .find(|w| w[0].0 == w[1].0 && w[0].1 != w[1].1)
    {
        let slug = w[0].0;
        return Verdict::violated(
            NAME,
            format!(
                "Two acknowledged creates returned the same slug '{slug}' for different cards."
            ),
            witnesses_for(slug),
        );
    }
    Verdict::holds(NAME)
}
