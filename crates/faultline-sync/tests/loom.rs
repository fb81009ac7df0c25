//! Model checks of the primitives: every interleaving (within a preemption bound) keeps
//! their invariants, and each deliberately broken twin is caught by the same check.
//!
//! `RUSTFLAGS="--cfg loom" cargo test -p faultline-sync --release --test loom`
#![cfg(loom)]

use std::panic::{catch_unwind, AssertUnwindSafe};

use faultline_sync::broken::{DirtyFlagCoalescer, EveryCallerRefreshes, LazyOutbox};
use faultline_sync::{
    Coalescer, DurableStore, MemoryStore, Outbox, RefreshError, SingleFlight, Token,
};
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(3);
    b.check(f);
}

/// Runs `f` as a model and reports whether loom found an interleaving that fails it.
fn caught(f: impl Fn() + Sync + Send + 'static) -> bool {
    catch_unwind(AssertUnwindSafe(|| model(f))).is_err()
}

// ---- outbox ----

/// An enqueue acknowledged before a crash must be in durable storage at the crash.
fn outbox_ack_is_durable(lazy: bool) -> impl Fn() + Sync + Send + 'static {
    move || {
        let store = Arc::new(MemoryStore::new());
        let acked = Arc::new(AtomicBool::new(false));
        let (s, a) = (store.clone(), acked.clone());
        let writer = thread::spawn(move || {
            if lazy {
                let outbox = LazyOutbox::new(s);
                outbox.enqueue("save loop");
                a.store(true, Ordering::SeqCst);
                outbox.flush();
            } else {
                let outbox = Outbox::open(s, "tab");
                outbox.enqueue("save loop");
                a.store(true, Ordering::SeqCst);
            }
        });
        // The crash: whatever storage holds at this instant is all that survives.
        let was_acked = acked.load(Ordering::SeqCst);
        let survived = store.load();
        if was_acked {
            assert_eq!(
                survived.len(),
                1,
                "an acknowledged operation was lost by a crash"
            );
        }
        writer.join().unwrap();
    }
}

#[test]
fn outbox_never_loses_an_acknowledged_operation() {
    model(outbox_ack_is_durable(false));
}

#[test]
fn outbox_twin_that_acks_before_persisting_is_caught() {
    assert!(caught(outbox_ack_is_durable(true)));
}

#[test]
fn outbox_sends_in_order_one_at_a_time_with_stable_keys() {
    model(|| {
        let store = Arc::new(MemoryStore::new());
        let outbox = Arc::new(Outbox::open(store.clone(), "tab"));
        let sent: Arc<Mutex<Vec<(String, String)>>> = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let o = outbox.clone();
        let producer = thread::spawn(move || {
            o.enqueue("a");
            o.enqueue("b");
        });
        let worker = |fail_first: bool| {
            let (o, sent, in_flight) = (outbox.clone(), sent.clone(), in_flight.clone());
            thread::spawn(move || {
                let mut failed = !fail_first;
                for _ in 0..3 {
                    if let Some(e) = o.claim() {
                        assert_eq!(
                            in_flight.fetch_add(1, Ordering::SeqCst),
                            0,
                            "two sends in flight"
                        );
                        sent.lock()
                            .unwrap()
                            .push((e.payload.clone(), e.key.clone()));
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        let ok = failed;
                        failed = true;
                        o.finish(e.seq, ok);
                    }
                }
            })
        };
        let w1 = worker(true);
        let w2 = worker(false);
        producer.join().unwrap();
        w1.join().unwrap();
        w2.join().unwrap();
        let sent = sent.lock().unwrap();
        for (payload, key) in sent.iter() {
            let same: Vec<&String> = sent
                .iter()
                .filter(|(p, _)| p == payload)
                .map(|(_, k)| k)
                .collect();
            assert!(
                same.iter().all(|k| *k == key),
                "a retry of {payload} changed its key"
            );
        }
        let first_b = sent.iter().position(|(p, _)| p == "b");
        let last_a = sent.iter().rposition(|(p, _)| p == "a");
        if let (Some(b), Some(a)) = (first_b, last_a) {
            assert!(a < b, "b was sent before a was delivered");
        }
        // Whatever was not delivered is still durable.
        let pending = outbox.pending().len();
        assert_eq!(store.load().len(), pending);
    });
}

// ---- single-flight refresh ----

fn refresh_storm(broken: bool, fail: bool) -> impl Fn() + Sync + Send + 'static {
    move || {
        let expired = Some(Token {
            value: "old".into(),
            expires_at: 5,
        });
        let refreshes = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let single = Arc::new(SingleFlight::new(expired.clone()));
        let naive = Arc::new(EveryCallerRefreshes::new(expired));
        let tabs: Vec<_> = (0..3)
            .map(|_| {
                let (single, naive, refreshes, in_flight) = (
                    single.clone(),
                    naive.clone(),
                    refreshes.clone(),
                    in_flight.clone(),
                );
                thread::spawn(move || {
                    let refresh = || {
                        assert_eq!(
                            in_flight.fetch_add(1, Ordering::SeqCst),
                            0,
                            "two refreshes in flight"
                        );
                        refreshes.fetch_add(1, Ordering::SeqCst);
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        if fail {
                            Err(RefreshError("session revoked".into()))
                        } else {
                            Ok(Token {
                                value: "new".into(),
                                expires_at: 100,
                            })
                        }
                    };
                    if broken {
                        naive.get(10, refresh)
                    } else {
                        single.get(10, refresh)
                    }
                })
            })
            .collect();
        for t in tabs {
            match t.join().unwrap() {
                Ok(token) => {
                    assert!(!fail);
                    assert!(token.expires_at > 10, "handed an expired token");
                }
                Err(e) => {
                    assert!(fail, "unexpected error {e:?}");
                }
            }
        }
        if !fail {
            // Once one refresh succeeded every later caller finds a valid token.
            assert_eq!(
                refreshes.load(Ordering::SeqCst),
                1,
                "the session was refreshed more than once"
            );
        }
    }
}

#[test]
fn one_refresh_serves_every_caller() {
    model(refresh_storm(false, false));
}

#[test]
fn a_failed_refresh_reaches_every_waiter() {
    model(refresh_storm(false, true));
}

#[test]
fn refresher_twin_without_single_flight_is_caught() {
    assert!(caught(refresh_storm(true, false)));
}

// ---- save coalescer ----

fn edits_during_saves(broken: bool) -> impl Fn() + Sync + Send + 'static {
    move || {
        let good = Arc::new(Coalescer::new());
        let bad = Arc::new(DirtyFlagCoalescer::new());
        let server: Arc<Mutex<Option<u32>>> = Arc::new(Mutex::new(None));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let tabs: Vec<_> = [1u32, 2]
            .into_iter()
            .map(|v| {
                let (good, bad, server, in_flight) =
                    (good.clone(), bad.clone(), server.clone(), in_flight.clone());
                thread::spawn(move || {
                    let save = |value: u32| {
                        assert_eq!(
                            in_flight.fetch_add(1, Ordering::SeqCst),
                            0,
                            "two saves in flight"
                        );
                        *server.lock().unwrap() = Some(value);
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        true
                    };
                    if broken {
                        if bad.edit(v) {
                            bad.drain(|x| save(*x));
                        }
                    } else if good.edit(v) {
                        good.drain(|job| save(job.value));
                    }
                })
            })
            .collect();
        for t in tabs {
            t.join().unwrap();
        }
        let local = if broken { bad.local() } else { good.local() };
        assert_eq!(
            *server.lock().unwrap(),
            local,
            "the last edit was never saved"
        );
    }
}

#[test]
fn the_last_edit_is_always_saved_one_save_at_a_time() {
    model(edits_during_saves(false));
}

#[test]
fn coalescer_twin_that_clears_the_dirty_flag_is_caught() {
    assert!(caught(edits_during_saves(true)));
}
