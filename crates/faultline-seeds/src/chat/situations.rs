//! The dangerous moments every chat run must reach on some seeds.

use faultline::check::moments::{end_us, fault_windows, span};
use faultline::check::FinalState;
use faultline::history::History;
use faultline::system::Situation;

use crate::moments::{link_fault_during, overlapping_pairs, windows, LINK_FAULTS};

/// Two devices saved the conversation at once.
pub const CONCURRENT_SENDS: &str = "concurrent_sends";
/// A save was in flight while the device's sessions or its link to auth failed.
pub const AUTH_FAULT_MID_SAVE: &str = "auth_fault_mid_save";

/// Pairs of sends by different devices in flight at once: both read the array, and the
/// second write can drop the first's message.
pub fn concurrent_sends(history: &History, _state: &FinalState) -> usize {
    let ops = history.operations();
    overlapping_pairs(
        &ops,
        end_us(history),
        |op| (op.invoke.f == "send").then_some(()),
        |a, b| a.invoke.process != b.invoke.process,
    )
}

/// Sends in flight while the user's sessions were revoked, or while the device's link to
/// auth was cut, held or slowed: a token refresh that fails mid-save.
pub fn auth_fault_mid_save(history: &History, _state: &FinalState) -> usize {
    let links = windows(history, &LINK_FAULTS);
    let revoked: Vec<u64> = fault_windows(history, "revoke_sessions", "")
        .iter()
        .map(|w| w.start_us)
        .collect();
    let end = end_us(history);
    history
        .operations()
        .iter()
        .filter(|op| op.invoke.f == "send")
        .filter(|op| {
            let (from, to) = span(op, end);
            link_fault_during(&links, op, end, "auth")
                || revoked.iter().any(|t| (from..=to).contains(t))
        })
        .count()
}

/// Both, for [`faultline::system::System::situations`].
pub fn all() -> Vec<Situation> {
    vec![
        Situation::new(
            CONCURRENT_SENDS,
            "two devices had saves of the conversation in flight at once",
            concurrent_sends,
        ),
        Situation::new(
            AUTH_FAULT_MID_SAVE,
            "a save was in flight when the user's sessions were revoked or the device's \
             link to auth was cut, held or slowed",
            auth_fault_mid_save,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::moments::testing::{fault, op};
    use faultline::history::EntryType::Ok;
    use serde_json::json;

    #[test]
    fn sends_by_two_devices_at_once_count() {
        let mut h = History::default();
        op(&mut h, "d1", "send", 1, 0, json!({}), 100, Ok, json!({}));
        op(&mut h, "d1", "send", 2, 50, json!({}), 150, Ok, json!({}));
        assert_eq!(concurrent_sends(&h, &FinalState::default()), 0);
        op(&mut h, "d2", "send", 3, 140, json!({}), 200, Ok, json!({}));
        assert_eq!(concurrent_sends(&h, &FinalState::default()), 1);
    }

    #[test]
    fn a_revocation_or_auth_hold_mid_send_counts() {
        let mut h = History::default();
        op(&mut h, "d1", "send", 1, 0, json!({}), 100, Ok, json!({}));
        fault(&mut h, 101, "revoke_sessions", json!({"user": "u"}));
        fault(&mut h, 102, "hold", json!({"a": "d1", "b": "store"}));
        op(&mut h, "d1", "send", 2, 200, json!({}), 300, Ok, json!({}));
        assert_eq!(auth_fault_mid_save(&h, &FinalState::default()), 0);
        fault(&mut h, 350, "revoke_sessions", json!({"user": "u"}));
        op(&mut h, "d1", "send", 3, 340, json!({}), 360, Ok, json!({}));
        assert_eq!(auth_fault_mid_save(&h, &FinalState::default()), 1);
        fault(&mut h, 400, "hold", json!({"a": "d2", "b": "auth"}));
        op(&mut h, "d2", "send", 4, 410, json!({}), 420, Ok, json!({}));
        assert_eq!(auth_fault_mid_save(&h, &FinalState::default()), 2);
    }
}
