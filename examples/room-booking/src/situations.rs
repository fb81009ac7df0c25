//! The dangerous moments every room-booking run must reach on some seeds.

use faultline::check::moments::{end_us, overlap, span, windows, Window};
use faultline::check::FinalState;
use faultline::history::{History, Operation};
use faultline::system::Situation;

use crate::TABLE;

/// Faults on a link between a colleague's browser and the store, with their healings.
const LINK_FAULTS: [(&str, &str); 3] = [
    ("partition", "repair"),
    ("partition_oneway", "repair_oneway"),
    ("hold", "release"),
];

/// A room and the minutes it is asked for.
type Slot = (String, u64, u64);

fn slot(op: &Operation<'_>) -> Option<Slot> {
    let v = &op.invoke.value;
    Some((
        v["room"].as_str()?.to_string(),
        v["start"].as_u64()?,
        v["end"].as_u64()?,
    ))
}

/// Pairs of bookings by different colleagues for one room and overlapping times, in
/// flight at once: the race a check-then-insert loses.
pub fn overlapping_bookings_in_flight(history: &History, _state: &FinalState) -> usize {
    let end = end_us(history);
    let mut open: Vec<(&str, Slot, (u64, u64))> = Vec::new();
    let mut count = 0;
    for op in history
        .operations()
        .iter()
        .filter(|op| op.invoke.f == "book")
    {
        let Some(mine) = slot(op) else { continue };
        let s = span(op, end);
        open.retain(|(_, _, o)| o.1 >= s.0);
        count += open
            .iter()
            .filter(|(who, (room, from, to), o)| {
                *who != op.invoke.process
                    && *room == mine.0
                    && *from < mine.2
                    && mine.1 < *to
                    && overlap(*o, s)
            })
            .count();
        open.push((&op.invoke.process, mine, s));
    }
    count
}

/// Bookings the server committed (the audit has a row for the room and times) that were
/// in flight while the colleague's link to the store was cut, held or dropping answers:
/// the answer a browser may never see, and a retry that books the room again.
pub fn booking_committed_under_link_fault(history: &History, state: &FinalState) -> usize {
    let faults: Vec<Window> = windows(history, &LINK_FAULTS);
    let audit = state.images(TABLE);
    let end = end_us(history);
    history
        .operations()
        .iter()
        .filter(|op| op.invoke.f == "book")
        .filter(|op| {
            let Some((room, start, stop)) = slot(op) else {
                return false;
            };
            let committed = audit.iter().any(|r| {
                r.get("room").and_then(|v| v.as_str()) == Some(room.as_str())
                    && r.get("start_min").and_then(|v| v.as_u64()) == Some(start)
                    && r.get("end_min").and_then(|v| v.as_u64()) == Some(stop)
            });
            let client = op.invoke.process.as_str();
            committed
                && faults
                    .iter()
                    .any(|w| w.involves(client) && w.involves("store") && w.during(span(op, end)))
        })
        .count()
}

/// Both, required of the two variants that send bookings to the server (a variant that
/// refuses every booking locally never puts one in flight).
pub fn all() -> Vec<Situation> {
    vec![
        Situation::new(
            "overlapping_bookings_in_flight",
            "two colleagues had bookings of one room for overlapping times in flight at once",
            overlapping_bookings_in_flight,
        )
        .only_for(&["shipped", "fixed"]),
        Situation::new(
            "booking_committed_under_link_fault",
            "a booking the server committed was in flight while the colleague's link to the \
             store was cut, held or dropping answers",
            booking_committed_under_link_fault,
        )
        .reads(TABLE)
        .only_for(&["shipped", "fixed"]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline::history::{Entry, EntryType};
    use serde_json::{json, Value};

    fn at(h: &mut History, t: u64, who: &str, kind: EntryType, f: &str, op: Option<u32>, v: Value) {
        h.push(Entry {
            index: 0,
            time_us: t,
            process: who.into(),
            kind,
            f: f.into(),
            op,
            value: v,
            error: None,
        });
    }

    fn book(h: &mut History, who: &str, id: u32, from: u64, to: u64, start: u64, end: u64) {
        let v = json!({"room": "r1", "start": start, "end": end});
        at(h, from, who, EntryType::Invoke, "book", Some(id), v);
        at(h, to, who, EntryType::Ok, "book", Some(id), json!({}));
    }

    #[test]
    fn overlapping_bookings_by_two_colleagues_at_once_count() {
        let mut h = History::default();
        book(&mut h, "a", 1, 0, 100, 60, 90);
        book(&mut h, "b", 2, 10, 100, 90, 120);
        book(&mut h, "a", 3, 20, 100, 60, 90);
        assert_eq!(
            overlapping_bookings_in_flight(&h, &FinalState::default()),
            0
        );
        book(&mut h, "c", 4, 100, 200, 80, 100);
        assert_eq!(
            overlapping_bookings_in_flight(&h, &FinalState::default()),
            3
        );
        book(&mut h, "d", 5, 201, 300, 80, 100);
        assert_eq!(
            overlapping_bookings_in_flight(&h, &FinalState::default()),
            3
        );
    }

    #[test]
    fn a_committed_booking_under_a_oneway_partition_counts() {
        let mut h = History::default();
        let cut = json!({"from": "store", "to": "a"});
        at(
            &mut h,
            0,
            "nemesis",
            EntryType::Fault,
            "partition_oneway",
            None,
            cut.clone(),
        );
        book(&mut h, "a", 1, 10, 20, 60, 90);
        book(&mut h, "a", 2, 30, 40, 0, 30);
        at(
            &mut h,
            50,
            "nemesis",
            EntryType::Fault,
            "repair_oneway",
            None,
            cut,
        );
        book(&mut h, "a", 3, 60, 70, 120, 150);
        let mut state = FinalState::default();
        let row = |s: u64, e: u64| {
            json!({"room": "r1", "start_min": s, "end_min": e})
                .as_object()
                .cloned()
                .unwrap()
        };
        state
            .audit
            .insert(TABLE.into(), vec![row(60, 90), row(120, 150)]);
        assert_eq!(booking_committed_under_link_fault(&h, &state), 1);
        state.audit.clear();
        assert_eq!(booking_committed_under_link_fault(&h, &state), 0);
    }
}
