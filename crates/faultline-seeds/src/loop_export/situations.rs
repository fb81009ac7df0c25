//! The dangerous moments every loop-export run must reach on some seeds.

use faultline::check::moments::{end_us, fault_windows, span};
use faultline::check::FinalState;
use faultline::history::History;
use faultline::system::Situation;

use crate::moments::{link_fault_during, overlapping_pairs, windows, LINK_FAULTS};

/// Two tabs of one browser saved at once.
pub const TABS_SAVING_AT_ONCE: &str = "tabs_saving_at_once";
/// A save was in flight while the browser could not reach the store.
pub const SAVE_WHILE_CUT_OFF: &str = "save_while_store_unreachable";

/// Pairs of saves from different tabs of one browser in flight at once: they share the
/// session, so both may refresh it and one refresh token is spent twice.
pub fn tabs_saving_at_once(history: &History, _state: &FinalState) -> usize {
    let ops = history.operations();
    overlapping_pairs(
        &ops,
        end_us(history),
        |op| (op.invoke.f == "save").then(|| op.invoke.process.clone()),
        |a, b| a.invoke.value["tab"] != b.invoke.value["tab"],
    )
}

/// Saves in flight while the browser's link to the store was faulted or the store was
/// down: the save that must be queued or reported, never dropped.
pub fn save_while_cut_off(history: &History, _state: &FinalState) -> usize {
    let links = windows(history, &LINK_FAULTS);
    let outages = fault_windows(history, "outage", "recover");
    let end = end_us(history);
    history
        .operations()
        .iter()
        .filter(|op| op.invoke.f == "save")
        .filter(|op| {
            link_fault_during(&links, op, end, "store")
                || outages
                    .iter()
                    .any(|w| w.involves("store") && w.during(span(op, end)))
        })
        .count()
}

/// Both, for [`faultline::system::System::situations`].
pub fn all() -> Vec<Situation> {
    vec![
        Situation::new(
            TABS_SAVING_AT_ONCE,
            "two tabs of one browser had saves in flight at once",
            tabs_saving_at_once,
        ),
        Situation::new(
            SAVE_WHILE_CUT_OFF,
            "a save was in flight while the browser's link to the store was faulted or the \
             store was down",
            save_while_cut_off,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::moments::testing::{fault, op};
    use faultline::history::EntryType::{Info, Ok};
    use serde_json::json;

    #[test]
    fn two_tabs_of_one_browser_at_once_count() {
        let mut h = History::default();
        op(
            &mut h,
            "b1",
            "save",
            1,
            0,
            json!({"tab": "t1"}),
            100,
            Ok,
            json!({}),
        );
        op(
            &mut h,
            "b2",
            "save",
            2,
            10,
            json!({"tab": "t2"}),
            100,
            Ok,
            json!({}),
        );
        op(
            &mut h,
            "b1",
            "save",
            3,
            20,
            json!({"tab": "t1"}),
            100,
            Ok,
            json!({}),
        );
        assert_eq!(tabs_saving_at_once(&h, &FinalState::default()), 0);
        op(
            &mut h,
            "b1",
            "save",
            4,
            90,
            json!({"tab": "t2"}),
            120,
            Ok,
            json!({}),
        );
        assert_eq!(tabs_saving_at_once(&h, &FinalState::default()), 2);
    }

    #[test]
    fn a_save_during_a_partition_or_outage_counts() {
        let mut h = History::default();
        fault(&mut h, 0, "partition", json!({"a": "b1", "b": "auth"}));
        op(&mut h, "b1", "save", 1, 10, json!({}), 20, Info, json!({}));
        assert_eq!(save_while_cut_off(&h, &FinalState::default()), 0);
        fault(&mut h, 30, "partition", json!({"a": "b1", "b": "store"}));
        op(&mut h, "b1", "save", 2, 40, json!({}), 50, Info, json!({}));
        fault(&mut h, 60, "repair", json!({"a": "b1", "b": "store"}));
        op(&mut h, "b1", "save", 3, 70, json!({}), 80, Ok, json!({}));
        assert_eq!(save_while_cut_off(&h, &FinalState::default()), 1);
        fault(
            &mut h,
            90,
            "outage",
            json!({"server": "store", "drop": true}),
        );
        op(&mut h, "b2", "save", 4, 95, json!({}), 99, Info, json!({}));
        assert_eq!(save_while_cut_off(&h, &FinalState::default()), 2);
        fault(&mut h, 100, "recover", json!({"server": "store"}));
        fault(&mut h, 110, "disconnect", json!({"client": "b3"}));
        op(&mut h, "b1", "save", 5, 120, json!({}), 130, Ok, json!({}));
        assert_eq!(save_while_cut_off(&h, &FinalState::default()), 2);
        op(
            &mut h,
            "b3",
            "save",
            6,
            120,
            json!({}),
            130,
            Info,
            json!({}),
        );
        assert_eq!(save_while_cut_off(&h, &FinalState::default()), 3);
    }
}
