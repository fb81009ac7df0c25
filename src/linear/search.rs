//! The search for one key: Wing and Gong's backtracking over the history's call and return
//! events, with Lowe's cache of (linearised set, state) configurations already explored.
//!
//! The events sit in a doubly-linked list in time order. Linearising an operation lifts its
//! call and return out of the list; backtracking puts them back exactly where they were,
//! which a doubly-linked list allows in O(1) because a removed node keeps its neighbours.
//! Reaching a return whose operation is not yet linearised means the current order cannot
//! be extended, so the search backtracks. The stack is a `Vec`, never the call stack.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use super::model::{Interner, Step};
use super::{Action, Op, Status, Value};

const NIL: u32 = u32::MAX;
/// Limits are checked this often: rarely enough to cost nothing, often enough that a
/// deadline is overrun by microseconds.
const CHECK_EVERY: u64 = 1 << 10;
const MEMORY: &str = "the memory limit was reached";

/// What every partition's search shares: the deadline, the memory all caches use, and a
/// flag raised when the answer is known so the other searches can stop.
pub(crate) struct Control {
    pub deadline: Option<Instant>,
    pub memory_limit: Option<usize>,
    pub memory_used: AtomicUsize,
    /// The lowest partition index found not linearisable; partitions after it stop, those
    /// before it go on, so the witness reported is the same whatever the thread timing.
    pub first_failure: AtomicUsize,
}

/// One key's answer.
pub(crate) enum Found {
    Linearizable,
    /// The longest linearisable prefix (indices into the whole history, in order) and the
    /// state after it.
    Not {
        prefix: Vec<usize>,
        state: Value,
    },
    Unknown(String),
    /// Another partition already decided the answer.
    Stopped,
}

#[derive(Clone, Copy)]
struct Node {
    prev: u32,
    next: u32,
    /// Local operation number.
    op: u32,
    is_return: bool,
    /// For a call, the node of its return.
    partner: u32,
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Configurations seen: a chained hash table whose slots, entries and bitsets are three
/// flat vectors, so its size is known exactly, it is freed at once, and every growth is
/// checked against the memory budget before it is made rather than noticed after.
struct Cache {
    /// Power-of-two many chain heads (entry index or `NIL`).
    slots: Vec<u32>,
    /// (hash, state, next entry in the chain or `NIL`)
    entries: Vec<(u64, u32, u32)>,
    bits: Vec<u64>,
    words: usize,
    /// Bytes this cache may grow to, when a memory limit is set.
    budget: Option<usize>,
}

/// What an insertion found.
#[derive(PartialEq, Eq)]
enum Insert {
    New,
    Seen,
    /// Growing to hold it would pass the memory limit (or 4 billion entries).
    NoRoom,
}

impl Cache {
    fn new(words: usize, budget: Option<usize>) -> Self {
        Cache {
            slots: vec![NIL; 1024],
            entries: Vec::new(),
            bits: Vec::new(),
            words,
            budget,
        }
    }

    fn bytes(&self) -> usize {
        self.slots.capacity() * 4 + self.entries.capacity() * 16 + self.bits.capacity() * 8
    }

    fn affordable(&self, extra: usize) -> bool {
        self.budget.is_none_or(|b| self.bytes() + extra <= b)
    }

    fn insert(&mut self, hash: u64, state: u32, bits: &[u64]) -> Insert {
        let mask = self.slots.len() - 1;
        let mut i = self.slots[hash as usize & mask];
        while i != NIL {
            let (h, s, next) = self.entries[i as usize];
            let at = i as usize * self.words;
            if h == hash && s == state && self.bits[at..at + self.words] == *bits {
                return Insert::Seen;
            }
            i = next;
        }
        if self.entries.len() >= (NIL - 1) as usize {
            return Insert::NoRoom;
        }
        // Growing by a quarter rather than doubling keeps the step past a limit small; the
        // copying stays amortised O(1).
        if self.entries.len() == self.entries.capacity() {
            let more = (self.entries.capacity() / 4).max(1024);
            if !self.affordable(more * (16 + self.words * 8)) {
                return Insert::NoRoom;
            }
            self.entries.reserve_exact(more);
            self.bits.reserve_exact(more * self.words);
        }
        if self.entries.len() >= self.slots.len() && !self.grow_slots() {
            return Insert::NoRoom;
        }
        let slot = hash as usize & (self.slots.len() - 1);
        let id = self.entries.len() as u32;
        self.entries.push((hash, state, self.slots[slot]));
        self.slots[slot] = id;
        self.bits.extend_from_slice(bits);
        Insert::New
    }

    /// Doubles the chain heads (load factor 1) and relinks every entry.
    fn grow_slots(&mut self) -> bool {
        let len = self.slots.len() * 2;
        if !self.affordable(len * 4) {
            return false;
        }
        self.slots = vec![NIL; len];
        let mask = len - 1;
        for (id, e) in self.entries.iter_mut().enumerate() {
            let slot = e.0 as usize & mask;
            e.2 = self.slots[slot];
            self.slots[slot] = id as u32;
        }
        true
    }
}

/// Searches one key's operations (`members` index into `ops`).
pub(crate) fn search(
    ops: &[Op],
    members: &[usize],
    ctl: &Control,
    index: usize,
    steps_out: &mut u64,
) -> Found {
    let mut interner = Interner::new();
    // Local operations: only those that may have taken effect and constrain something.
    let mut local: Vec<(usize, Step, bool)> = Vec::new();
    for &g in members {
        let op = &ops[g];
        if op.status == Status::Fail
            || (op.status == Status::Info && matches!(op.action, Action::Read(_)))
        {
            continue;
        }
        let Some(step) = interner.step(&op.action) else {
            continue;
        };
        local.push((g, step, op.status == Status::Ok));
    }
    let n = local.len();
    if n == 0 {
        return Found::Linearizable;
    }

    // Events in time order; at equal times calls come first, so operations that touch are
    // treated as concurrent (the permissive reading when a clock cannot tell them apart).
    let mut events: Vec<(u64, bool, u32)> = Vec::with_capacity(2 * n);
    for (i, &(g, _, ok)) in local.iter().enumerate() {
        let op = &ops[g];
        let ret = if ok {
            op.complete.unwrap_or(u64::MAX).max(op.invoke)
        } else {
            u64::MAX
        };
        events.push((op.invoke, false, i as u32));
        events.push((ret, true, i as u32));
    }
    events.sort_by_key(|&(t, is_return, op)| (t, is_return, op));

    // Node 0 is the head sentinel.
    let mut nodes: Vec<Node> = Vec::with_capacity(2 * n + 1);
    nodes.push(Node {
        prev: NIL,
        next: 1,
        op: NIL,
        is_return: false,
        partner: NIL,
    });
    let mut call_node = vec![NIL; n];
    for (k, &(_, is_return, op)) in events.iter().enumerate() {
        let id = k as u32 + 1;
        let next = if k + 1 == events.len() { NIL } else { id + 1 };
        nodes.push(Node {
            prev: id - 1,
            next,
            op,
            is_return,
            partner: NIL,
        });
        if is_return {
            let c = call_node[op as usize];
            nodes[c as usize].partner = id;
        } else {
            call_node[op as usize] = id;
        }
    }

    let words = n.div_ceil(64);
    let mut bits = vec![0u64; words];
    let zobrist: Vec<u64> = (0..n as u64).map(|i| mix(i ^ 0x5eed)).collect();
    let mut bits_hash = 0u64;
    let mut cache = Cache::new(words, ctl.memory_limit);
    let mut reported_bytes = 0usize;
    let ok_total = local.iter().filter(|l| l.2).count();
    let mut ok_left = ok_total;
    let mut best_ok = 0usize;
    let mut state = 0u32;
    // (call node, state before it)
    let mut stack: Vec<(u32, u32)> = Vec::new();
    let mut best: Vec<u32> = Vec::new();
    let mut best_state = 0u32;
    let mut shared = 0usize;
    let mut steps = 0u64;
    let mut entry = nodes[0].next;

    let result = loop {
        if ok_left == 0 {
            break Found::Linearizable;
        }
        steps += 1;
        if steps % CHECK_EVERY == 0 {
            if ctl.first_failure.load(Ordering::Relaxed) < index {
                break Found::Stopped;
            }
            if ctl.deadline.is_some_and(|d| Instant::now() >= d) {
                break Found::Unknown("the time limit was reached".into());
            }
            let mine = cache.bytes()
                + interner.approx_bytes()
                + stack.capacity() * 8
                + nodes.capacity() * std::mem::size_of::<Node>()
                + best.capacity() * 4;
            let total = if mine >= reported_bytes {
                ctl.memory_used
                    .fetch_add(mine - reported_bytes, Ordering::Relaxed)
                    + (mine - reported_bytes)
            } else {
                ctl.memory_used
                    .fetch_sub(reported_bytes - mine, Ordering::Relaxed)
                    - (reported_bytes - mine)
            };
            reported_bytes = mine;
            if let Some(limit) = ctl.memory_limit {
                if total > limit {
                    break Found::Unknown(MEMORY.into());
                }
                // What the other keys' searches and this one's other structures leave.
                cache.budget = Some(limit - (total - cache.bytes()).min(limit));
            }
        }
        if entry == NIL || nodes[entry as usize].is_return {
            // The earliest pending return cannot be preceded by its operation: undo the
            // last choice and try the next candidate after it.
            let Some((call, before)) = stack.pop() else {
                let prefix = best.iter().map(|&c| local[nodes[c as usize].op as usize].0);
                break Found::Not {
                    prefix: prefix.collect(),
                    state: interner.value(best_state).clone(),
                };
            };
            shared = shared.min(stack.len());
            let op = nodes[call as usize].op as usize;
            state = before;
            bits[op / 64] &= !(1 << (op % 64));
            bits_hash ^= zobrist[op];
            if local[op].2 {
                ok_left += 1;
            }
            unlift(&mut nodes, call);
            entry = nodes[call as usize].next;
            continue;
        }
        let node = nodes[entry as usize];
        let op = node.op as usize;
        if let Some(next_state) = interner.apply(state, local[op].1) {
            bits[op / 64] |= 1 << (op % 64);
            let h = bits_hash ^ zobrist[op];
            let inserted = cache.insert(h ^ mix(u64::from(next_state)), next_state, &bits);
            if inserted == Insert::NoRoom {
                break Found::Unknown(MEMORY.into());
            }
            if inserted == Insert::New {
                bits_hash = h;
                stack.push((entry, state));
                state = next_state;
                if local[op].2 {
                    ok_left -= 1;
                }
                // `shared` is how much of `best` the stack still agrees with, so a new best
                // copies only where the branches diverge, not the whole stack each time.
                let d = stack.len() - 1;
                if shared == d && best.get(d) == Some(&entry) {
                    shared = d + 1;
                } else {
                    shared = shared.min(d);
                }
                // Best means most `ok` operations placed: an `info` operation tacked on
                // the end explains nothing and would only muddy the state shown.
                if ok_total - ok_left > best_ok {
                    best_ok = ok_total - ok_left;
                    best.truncate(shared);
                    best.extend(stack[shared..].iter().map(|s| s.0));
                    shared = stack.len();
                    best_state = state;
                }
                lift(&mut nodes, entry);
                entry = nodes[0].next;
                continue;
            }
            bits[op / 64] &= !(1 << (op % 64));
        }
        entry = node.next;
    };
    ctl.memory_used.fetch_sub(reported_bytes, Ordering::Relaxed);
    *steps_out += steps;
    result
}

fn unlink(nodes: &mut [Node], i: u32) {
    let Node { prev, next, .. } = nodes[i as usize];
    nodes[prev as usize].next = next;
    if next != NIL {
        nodes[next as usize].prev = prev;
    }
}

fn relink(nodes: &mut [Node], i: u32) {
    let Node { prev, next, .. } = nodes[i as usize];
    nodes[prev as usize].next = i;
    if next != NIL {
        nodes[next as usize].prev = i;
    }
}

fn lift(nodes: &mut [Node], call: u32) {
    unlink(nodes, call);
    let ret = nodes[call as usize].partner;
    unlink(nodes, ret);
}

/// Reverses [`lift`]: the return first, because it was removed last.
fn unlift(nodes: &mut [Node], call: u32) {
    let ret = nodes[call as usize].partner;
    relink(nodes, ret);
    relink(nodes, call);
}
