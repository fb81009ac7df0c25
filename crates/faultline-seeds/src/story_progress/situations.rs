//! The dangerous moments every story-progress run must reach on some seeds.

use crate::moments::LINK_FAULTS;
use faultline::check::moments::{end_us, fault_windows, span, Window};
use faultline::check::FinalState;
use faultline::history::{EntryType, History};
use faultline::system::Situation;

/// A replica answered a read with less than the primary had acknowledged.
pub const STALE_REPLICA_READ: &str = "stale_replica_read";
/// A page reloaded while a replica was cut off or lagging badly.
pub const RELOAD_DURING_REPLICA_FAULT: &str = "reload_during_replica_fault";
/// A read was in flight while its client's own link to a replica lost, held or slowed
/// messages.
pub const READ_ON_FAULTED_REPLICA_LINK: &str = "read_on_faulted_replica_link";

/// Reads answered by a replica with less progress than a write the primary had already
/// acknowledged when the read began: the moment a tab can show progress going back.
pub fn stale_replica_read(history: &History, _state: &FinalState) -> usize {
    let mut acked: u64 = 0;
    let mut open: Vec<(&str, u32, u64)> = Vec::new();
    let mut count = 0;
    for e in &history.entries {
        match (e.kind, e.f.as_str()) {
            (EntryType::Ok, "write") => {
                acked = acked.max(e.value["progress"].as_u64().unwrap_or(0));
            }
            (EntryType::Invoke, "poll" | "verify") => {
                open.push((e.process.as_str(), e.op.unwrap_or(0), acked));
            }
            (EntryType::Ok | EntryType::Fail | EntryType::Info, "poll" | "verify") => {
                let me = (e.process.as_str(), e.op.unwrap_or(0));
                let Some(i) = open.iter().position(|(p, o, _)| (*p, *o) == me) else {
                    continue;
                };
                let (_, _, then) = open.swap_remove(i);
                let replica = e.value["host"].as_str().is_some_and(|h| h != "store");
                let read = e.value["read"].as_u64();
                if e.kind == EntryType::Ok && replica && read.is_some_and(|r| r < then) {
                    count += 1;
                }
            }
            _ => {}
        }
    }
    count
}

/// Polls right after a page (re)load in flight while a replica was cut off from the
/// primary or lagging more than usual: the reload that must not show old progress.
pub fn reload_during_replica_fault(history: &History, _state: &FinalState) -> usize {
    let mut faults = fault_windows(history, "replica_lag", "replica_restore");
    faults.extend(
        fault_windows(history, "partition", "repair")
            .into_iter()
            .filter(|w| {
                w.involves("store")
                    && ["a", "b"].iter().any(|k| {
                        w.value[k]
                            .as_str()
                            .is_some_and(|h| h.starts_with("replica-"))
                    })
            }),
    );
    let end = end_us(history);
    history
        .operations()
        .iter()
        .filter(|op| op.invoke.f == "poll" && op.invoke.value["reload"] == true)
        .filter(|op| faults.iter().any(|w| w.during(span(op, end))))
        .count()
}

/// Polls and verification reads in flight while a fault struck the link between their
/// client and a replica (not the primary-replica link): the moment a replica's answer is
/// lost or late and the read must time out, retry or fall back.
pub fn read_on_faulted_replica_link(history: &History, _state: &FinalState) -> usize {
    let replica_side = |w: &Window| {
        ["a", "b", "from", "to"].iter().any(|k| {
            w.value[k]
                .as_str()
                .is_some_and(|h| h.starts_with("replica-"))
        })
    };
    let faults: Vec<Window> = crate::moments::windows(history, &LINK_FAULTS[..4])
        .into_iter()
        .filter(|w| replica_side(w) && !w.involves("store"))
        .collect();
    let end = end_us(history);
    history
        .operations()
        .iter()
        .filter(|op| matches!(op.invoke.f.as_str(), "poll" | "verify"))
        .filter(|op| {
            faults
                .iter()
                .any(|w| w.involves(&op.invoke.process) && w.during(span(op, end)))
        })
        .count()
}

/// All three, for [`faultline::system::System::situations`].
pub fn all() -> Vec<Situation> {
    vec![
        Situation::new(
            STALE_REPLICA_READ,
            "a replica answered a read with less progress than the primary had acknowledged",
            stale_replica_read,
        ),
        Situation::new(
            RELOAD_DURING_REPLICA_FAULT,
            "a reloaded page polled while a replica was cut off from the primary or lagging",
            reload_during_replica_fault,
        )
        // One PostgreSQL replica serves every run at once, so no run can cut it off or
        // slow it alone.
        .simulated_only(),
        Situation::new(
            READ_ON_FAULTED_REPLICA_LINK,
            "a read was in flight while its client's own link to a replica was faulted",
            read_on_faulted_replica_link,
        )
        // On PostgreSQL a client's replica reads do not pass through its fault proxy.
        .simulated_only(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::moments::testing::{fault, op};
    use faultline::history::EntryType::Ok;
    use serde_json::json;

    #[test]
    fn a_replica_read_behind_an_acknowledged_write_counts() {
        let mut h = History::default();
        op(
            &mut h,
            "g",
            "write",
            1,
            0,
            json!({}),
            10,
            Ok,
            json!({"progress": 40}),
        );
        let replica = |read: u64| json!({"read": read, "host": "replica-1"});
        op(&mut h, "t", "poll", 2, 20, json!({}), 30, Ok, replica(40));
        op(
            &mut h,
            "t",
            "poll",
            3,
            40,
            json!({}),
            50,
            Ok,
            json!({"read": 0, "host": "store"}),
        );
        assert_eq!(stale_replica_read(&h, &FinalState::default()), 0);
        op(&mut h, "t", "poll", 4, 60, json!({}), 70, Ok, replica(39));
        assert_eq!(stale_replica_read(&h, &FinalState::default()), 1);
        // A read begun before the write was acknowledged is not stale.
        let mut early = History::default();
        op(&mut early, "t", "poll", 1, 0, json!({}), 30, Ok, replica(0));
        op(
            &mut early,
            "g",
            "write",
            2,
            0,
            json!({}),
            10,
            Ok,
            json!({"progress": 40}),
        );
        assert_eq!(stale_replica_read(&early, &FinalState::default()), 0);
    }

    #[test]
    fn a_reload_during_a_lag_spike_or_replica_partition_counts() {
        let mut h = History::default();
        fault(
            &mut h,
            0,
            "replica_lag",
            json!({"replica": "replica-1", "ms": 900}),
        );
        op(
            &mut h,
            "t",
            "poll",
            1,
            10,
            json!({"reload": false}),
            20,
            Ok,
            json!({}),
        );
        fault(
            &mut h,
            30,
            "replica_restore",
            json!({"replica": "replica-1"}),
        );
        op(
            &mut h,
            "t",
            "poll",
            2,
            40,
            json!({"reload": true}),
            50,
            Ok,
            json!({}),
        );
        fault(&mut h, 60, "partition", json!({"a": "t", "b": "store"}));
        op(
            &mut h,
            "t",
            "poll",
            3,
            70,
            json!({"reload": true}),
            80,
            Ok,
            json!({}),
        );
        assert_eq!(reload_during_replica_fault(&h, &FinalState::default()), 0);
        fault(
            &mut h,
            90,
            "partition",
            json!({"a": "store", "b": "replica-3"}),
        );
        op(
            &mut h,
            "t",
            "poll",
            4,
            95,
            json!({"reload": true}),
            99,
            Ok,
            json!({}),
        );
        assert_eq!(reload_during_replica_fault(&h, &FinalState::default()), 1);
    }

    #[test]
    fn a_read_during_a_fault_on_its_own_replica_link_counts() {
        let mut h = History::default();
        let poll = |h: &mut History, p: &str, id: u32, t: u64| {
            op(h, p, "poll", id, t, json!({}), t + 10, Ok, json!({}));
        };
        // Another client's link, and the primary's link to the replica: neither counts.
        fault(&mut h, 0, "hold", json!({"a": "u", "b": "replica-1"}));
        fault(
            &mut h,
            0,
            "partition",
            json!({"a": "store", "b": "replica-2"}),
        );
        poll(&mut h, "t", 1, 5);
        assert_eq!(read_on_faulted_replica_link(&h, &FinalState::default()), 0);
        fault(
            &mut h,
            20,
            "partition_oneway",
            json!({"from": "replica-2", "to": "t"}),
        );
        poll(&mut h, "t", 2, 25);
        op(&mut h, "t", "verify", 3, 30, json!({}), 40, Ok, json!({}));
        assert_eq!(read_on_faulted_replica_link(&h, &FinalState::default()), 2);
        // Healed before the next read began.
        fault(
            &mut h,
            50,
            "repair_oneway",
            json!({"from": "replica-2", "to": "t"}),
        );
        poll(&mut h, "t", 4, 60);
        assert_eq!(read_on_faulted_replica_link(&h, &FinalState::default()), 2);
    }
}
