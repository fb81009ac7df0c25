//! Determinism checks: the same plan run twice must give the same history.

use crate::error::Result;
use crate::history::History;
use crate::plan::Plan;
use crate::runner::Loaded;
use crate::sim::run_plan;

/// The index of the first entry where two histories differ, if any.
pub fn diverge_at(a: &History, b: &History) -> Option<usize> {
    let common = a.entries.len().min(b.entries.len());
    (0..common)
        .find(|&i| a.entries[i] != b.entries[i])
        .or((a.entries.len() != b.entries.len()).then_some(common))
}

/// Runs `plan` twice and describes the first event where the runs diverge, or says that
/// they agree.
pub fn first_divergence(loaded: &Loaded, plan: &Plan) -> Result<String> {
    let a = run_plan(plan, loaded.logic.as_ref())?.history;
    let b = run_plan(plan, loaded.logic.as_ref())?.history;
    let head = format!("{} {} seed {}", plan.scenario, plan.variant, plan.seed);
    Ok(match diverge_at(&a, &b) {
        None => format!("{head}: two runs agree (hash {})", a.hash()),
        Some(i) => {
            let show = |h: &History| {
                h.entries.get(i).map_or("(history ended)".to_string(), |e| {
                    serde_json::to_string(e).unwrap_or_default()
                })
            };
            format!(
                "{head}: runs diverge at event {i}\n  first run:  {}\n  second run: {}",
                show(&a),
                show(&b)
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Entry, EntryType};

    fn entry(f: &str) -> Entry {
        Entry {
            index: 0,
            time_us: 0,
            process: "c".into(),
            kind: EntryType::Invoke,
            f: f.into(),
            op: Some(1),
            value: serde_json::Value::Null,
            error: None,
        }
    }

    #[test]
    fn names_the_first_differing_event() {
        let mut a = History::default();
        let mut b = History::default();
        for f in ["x", "y", "z"] {
            a.push(entry(f));
        }
        for f in ["x", "q", "z"] {
            b.push(entry(f));
        }
        assert_eq!(diverge_at(&a, &b), Some(1));
        assert_eq!(diverge_at(&a, &a.clone()), None);
        let mut shorter = a.clone();
        shorter.entries.pop();
        assert_eq!(diverge_at(&a, &shorter), Some(2));
    }
}
