//! The dangerous moments every business-cards run must reach on some seeds.

use std::collections::BTreeSet;

use faultline::check::moments::end_us;
use faultline::check::FinalState;
use faultline::history::History;
use faultline::system::Situation;

use super::TABLE;
use crate::moments::{link_fault_during, overlapping_pairs, windows, LINK_FAULTS};

/// A create the server committed ran while the tab's link to the store was faulted.
pub const CREATE_ANSWER_AT_RISK: &str = "create_committed_under_link_fault";
/// Two tabs saved the same card at once.
pub const CONCURRENT_EDITS: &str = "concurrent_edits_of_one_card";

/// Creates whose form's card is on the server at the end, in flight while the tab's link
/// to the store was cut, held, slowed or dropping answers: the moment an answer is lost
/// after the commit and a retry can create the card twice.
pub fn create_answer_at_risk(history: &History, state: &FinalState) -> usize {
    let committed: BTreeSet<&str> = state
        .rows(TABLE)
        .iter()
        .filter_map(|r| r.get("form_id").and_then(|v| v.as_str()))
        .collect();
    let faults = windows(history, &LINK_FAULTS);
    let end = end_us(history);
    history
        .operations()
        .iter()
        .filter(|op| op.invoke.f == "create")
        .filter(|op| {
            op.invoke.value["form_id"]
                .as_str()
                .is_some_and(|f| committed.contains(f))
        })
        .filter(|op| link_fault_during(&faults, op, end, "store"))
        .count()
}

/// Pairs of edits of one card by different tabs in flight at once: a true conflict, the
/// moment a save can put another tab's values back.
pub fn concurrent_edits(history: &History, _state: &FinalState) -> usize {
    let ops = history.operations();
    overlapping_pairs(
        &ops,
        end_us(history),
        |op| (op.invoke.f == "edit").then(|| op.invoke.value["key"].clone()),
        |a, b| a.invoke.process != b.invoke.process,
    )
}

/// Both, for [`faultline::system::System::situations`].
pub fn all() -> Vec<Situation> {
    vec![
        Situation::new(
            CREATE_ANSWER_AT_RISK,
            "a create the server committed was in flight while the tab's link to the store \
             was cut, held, slowed or dropping answers",
            create_answer_at_risk,
        )
        .reads(TABLE),
        Situation::new(
            CONCURRENT_EDITS,
            "two tabs had saves of the same card in flight at once",
            concurrent_edits,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::moments::testing::{fault, op};
    use faultline::history::EntryType::Ok;
    use serde_json::json;

    fn state(form: &str) -> FinalState {
        let mut s = FinalState::default();
        let row = json!({"id": 1, "form_id": form})
            .as_object()
            .cloned()
            .unwrap();
        s.tables.insert(TABLE.into(), vec![row]);
        s
    }

    #[test]
    fn a_committed_create_under_a_hold_counts_and_others_do_not() {
        let mut h = History::default();
        fault(&mut h, 10, "hold", json!({"a": "c1", "b": "store"}));
        let f1 = json!({"form_id": "f1"});
        op(
            &mut h,
            "c1",
            "create",
            1,
            20,
            f1.clone(),
            900,
            Ok,
            json!({}),
        );
        fault(&mut h, 950, "release", json!({"a": "c1", "b": "store"}));
        op(&mut h, "c1", "create", 2, 1000, f1, 1100, Ok, json!({}));
        assert_eq!(create_answer_at_risk(&h, &state("f1")), 1);
        // Not committed, or another client's link.
        assert_eq!(create_answer_at_risk(&h, &state("f2")), 0);
        let mut other = History::default();
        fault(&mut other, 10, "hold", json!({"a": "c2", "b": "store"}));
        op(
            &mut other,
            "c1",
            "create",
            1,
            20,
            json!({"form_id": "f1"}),
            900,
            Ok,
            json!({}),
        );
        assert_eq!(create_answer_at_risk(&other, &state("f1")), 0);
        // The auth link is not the store's.
        let mut auth = History::default();
        fault(&mut auth, 10, "hold", json!({"a": "c1", "b": "auth"}));
        op(
            &mut auth,
            "c1",
            "create",
            1,
            20,
            json!({"form_id": "f1"}),
            900,
            Ok,
            json!({}),
        );
        assert_eq!(create_answer_at_risk(&auth, &state("f1")), 0);
    }

    #[test]
    fn overlapping_edits_of_one_card_by_two_tabs_count() {
        let mut h = History::default();
        op(
            &mut h,
            "c1",
            "edit",
            1,
            0,
            json!({"key": 1}),
            100,
            Ok,
            json!({}),
        );
        op(
            &mut h,
            "c2",
            "edit",
            2,
            50,
            json!({"key": 1}),
            150,
            Ok,
            json!({}),
        );
        op(
            &mut h,
            "c3",
            "edit",
            3,
            60,
            json!({"key": 2}),
            150,
            Ok,
            json!({}),
        );
        op(
            &mut h,
            "c2",
            "edit",
            4,
            151,
            json!({"key": 2}),
            200,
            Ok,
            json!({}),
        );
        assert_eq!(concurrent_edits(&h, &FinalState::default()), 1);
        let mut apart = History::default();
        op(
            &mut apart,
            "c1",
            "edit",
            1,
            0,
            json!({"key": 1}),
            100,
            Ok,
            json!({}),
        );
        op(
            &mut apart,
            "c2",
            "edit",
            2,
            101,
            json!({"key": 1}),
            150,
            Ok,
            json!({}),
        );
        op(
            &mut apart,
            "c1",
            "edit",
            3,
            120,
            json!({"key": 1}),
            130,
            Ok,
            json!({}),
        );
        assert_eq!(concurrent_edits(&apart, &FinalState::default()), 1);
    }
}
