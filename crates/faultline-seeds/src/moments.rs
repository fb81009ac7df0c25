//! Shared pieces of the seed systems' situations: fault windows on a client's links, and
//! overlapping operations (two tabs, two devices at once).

use faultline::check::moments::{overlap, span, Window};
pub use faultline::check::moments::{windows, LINK_FAULTS};
use faultline::history::Operation;

/// True when some window struck `client`'s link to `server` while `op` was in flight (a
/// disconnection cuts every link of its client).
pub fn link_fault_during(windows: &[Window], op: &Operation<'_>, end: u64, server: &str) -> bool {
    let client = op.invoke.process.as_str();
    let s = span(op, end);
    windows.iter().any(|w| {
        w.involves(client) && (w.involves(server) || w.verb == "disconnect") && w.during(s)
    })
}

/// Pairs of operations that were in flight at once, grouped by `key` (`None` leaves an
/// operation out) and counted only when `pair` accepts them. A sweep in invoke order
/// keeps only the operations still open, so it stays near linear.
pub fn overlapping_pairs<K: PartialEq>(
    ops: &[Operation<'_>],
    end: u64,
    key: impl Fn(&Operation<'_>) -> Option<K>,
    pair: impl Fn(&Operation<'_>, &Operation<'_>) -> bool,
) -> usize {
    let mut open: Vec<(K, (u64, u64), usize)> = Vec::new();
    let mut count = 0;
    for (i, op) in ops.iter().enumerate() {
        let Some(k) = key(op) else { continue };
        let s = span(op, end);
        open.retain(|(_, o, _)| o.1 >= s.0);
        count += open
            .iter()
            .filter(|(ok, o, j)| *ok == k && overlap(*o, s) && pair(&ops[*j], op))
            .count();
        open.push((k, s, i));
    }
    count
}

#[cfg(test)]
pub mod testing {
    //! Hand-made histories for the situations' tests.
    use faultline::history::{Entry, EntryType, History};
    use serde_json::Value;

    /// Appends one entry.
    pub fn at(
        h: &mut History,
        t_ms: u64,
        process: &str,
        kind: EntryType,
        f: &str,
        op: Option<u32>,
        value: Value,
    ) {
        h.push(Entry {
            index: 0,
            time_us: t_ms * 1000,
            process: process.into(),
            kind,
            f: f.into(),
            op,
            value,
            error: None,
        });
    }

    /// Appends an operation's invoke at `from_ms` and its completion at `to_ms`.
    // One flat call per operation keeps each test's history readable line by line.
    #[allow(clippy::too_many_arguments)]
    pub fn op(
        h: &mut History,
        process: &str,
        f: &str,
        id: u32,
        from_ms: u64,
        invoke: Value,
        to_ms: u64,
        done: EntryType,
        result: Value,
    ) {
        at(h, from_ms, process, EntryType::Invoke, f, Some(id), invoke);
        at(h, to_ms, process, done, f, Some(id), result);
    }

    /// Appends a fault.
    pub fn fault(h: &mut History, t_ms: u64, verb: &str, value: Value) {
        at(h, t_ms, "nemesis", EntryType::Fault, verb, None, value);
    }
}
