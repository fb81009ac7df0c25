//! The async faces of the client primitives on a current-thread runtime with paused time,
//! as the simulator runs them: outbox worker, single-flight refresh, debounced saves.
// Under `--cfg loom` the primitives' locks only work inside a loom model.
#![cfg(not(loom))]

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use faultline::client::{
    AsyncCoalescer, AsyncOutbox, AsyncSingleFlight, DurableStore, MemoryStore, Outbox,
    RefreshError, Token,
};
use tokio::task::LocalSet;
use tokio::time::{sleep, timeout};

/// Runs `f` on a current-thread runtime with paused time, inside a `LocalSet`.
fn sim<F: Future>(f: F) -> F::Output {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    LocalSet::new().block_on(&rt, f)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn token(value: &str, expires_at: u64) -> Token {
    Token {
        value: value.into(),
        expires_at,
    }
}

// ---- outbox ----

#[test]
fn an_enqueued_entry_is_durable_before_enqueue_returns() {
    let store = Arc::new(MemoryStore::new());
    let outbox = AsyncOutbox::open(store.clone(), "tab");
    let e = outbox.enqueue("save loop");
    assert_eq!(store.load(), vec![e]);
}

#[test]
fn the_worker_drains_in_order_and_retries_a_failure_with_its_key() {
    sim(async {
        let store = Arc::new(MemoryStore::new());
        let outbox = AsyncOutbox::open(store.clone(), "tab");
        let a = outbox.enqueue("a");
        let b = outbox.enqueue("b");
        let sent = RefCell::new(Vec::new());
        let first = outbox
            .drain(|e| {
                sent.borrow_mut().push(e.key.clone());
                async move { e.payload != "b" }
            })
            .await;
        assert_eq!(first.delivered, 1);
        assert_eq!(first.failed.as_ref(), Some(&b));
        assert_eq!(outbox.pending(), vec![b.clone()], "b stays queued");
        let second = outbox
            .drain(|e| {
                sent.borrow_mut().push(e.key.clone());
                async { true }
            })
            .await;
        assert_eq!(second.delivered, 1);
        assert_eq!(*sent.borrow(), vec![a.key, b.key.clone(), b.key]);
        assert!(store.load().is_empty());
    });
}

#[test]
fn a_crash_keeps_what_was_queued_and_its_keys() {
    sim(async {
        let store = Arc::new(MemoryStore::new());
        let outbox = AsyncOutbox::open(store.clone(), "tab");
        let a = outbox.enqueue("a");
        let b = outbox.enqueue("b");
        // The crash comes while `a` is on the wire.
        let cut = timeout(ms(10), outbox.drain(|_| sleep(ms(100)).then_true())).await;
        assert!(cut.is_err());
        drop(outbox);
        let restarted = AsyncOutbox::open(store, "tab");
        assert_eq!(restarted.pending(), vec![a, b]);
    });
}

#[test]
fn a_cancelled_send_releases_its_claim() {
    sim(async {
        let outbox = AsyncOutbox::open(Arc::new(MemoryStore::new()), "tab");
        let a = outbox.enqueue("a");
        let cut = timeout(ms(10), outbox.drain(|_| sleep(ms(100)).then_true())).await;
        assert!(cut.is_err());
        let keys = RefCell::new(Vec::new());
        let done = outbox
            .drain(|e| {
                keys.borrow_mut().push(e.key);
                async { true }
            })
            .await;
        assert_eq!(done.delivered, 1, "the entry is not stuck in flight");
        assert_eq!(*keys.borrow(), vec![a.key], "the retry keeps the key");
    });
}

#[test]
fn the_worker_sleeps_until_something_is_queued() {
    sim(async {
        let outbox = Rc::new(AsyncOutbox::open(Arc::new(MemoryStore::new()), "tab"));
        let delivered = Rc::new(Cell::new(0));
        let worker = {
            let (outbox, delivered) = (outbox.clone(), delivered.clone());
            tokio::task::spawn_local(async move {
                outbox.wait_for_work().await;
                let d = outbox.drain(|_| async { true }).await;
                delivered.set(d.delivered);
            })
        };
        sleep(ms(50)).await;
        assert_eq!(delivered.get(), 0);
        outbox.enqueue("a");
        worker.await.unwrap();
        assert_eq!(delivered.get(), 1);
    });
}

/// Reopened over a store that every entry has left, the outbox must not number from 1
/// again: a new operation would reuse the key of one the server already applied and be
/// deduplicated away although the user saw it queued. (It did, until the store kept its
/// highest sequence number.)
#[test]
fn keys_are_never_reused_across_a_restart() {
    let store = Arc::new(MemoryStore::new());
    let outbox = Outbox::open(store.clone(), "tab");
    let a = outbox.enqueue("a");
    let claimed = outbox.claim().unwrap();
    outbox.finish(claimed.seq, true);
    drop(outbox);
    let b = Outbox::open(store, "tab").enqueue("b");
    assert_ne!(a.key, b.key);
}

// ---- single-flight refresh ----

#[test]
fn concurrent_callers_share_one_refresh() {
    sim(async {
        let sf = Rc::new(AsyncSingleFlight::new(Some(token("old", 5))));
        let calls = Rc::new(Cell::new(0));
        let tasks: Vec<_> = (0..5)
            .map(|_| {
                let (sf, calls) = (sf.clone(), calls.clone());
                tokio::task::spawn_local(async move {
                    sf.get(
                        || 10,
                        || async move {
                            calls.set(calls.get() + 1);
                            sleep(ms(20)).await;
                            Ok(token("new", 100))
                        },
                    )
                    .await
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), Ok(token("new", 100)));
        }
        assert_eq!(calls.get(), 1);
    });
}

#[test]
fn a_token_that_expired_in_transit_is_an_error_for_every_waiter() {
    sim(async {
        let sf = Rc::new(AsyncSingleFlight::new(None));
        let start = tokio::time::Instant::now();
        // Simulated milliseconds since the start.
        let now = move || start.elapsed().as_millis() as u64;
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let sf = sf.clone();
                tokio::task::spawn_local(async move {
                    sf.get(now, || async {
                        // The response is held past the token's lifetime.
                        sleep(ms(300)).await;
                        Ok(token("short", 200))
                    })
                    .await
                })
            })
            .collect();
        for t in tasks {
            let got = t.await.unwrap();
            assert!(got.is_err(), "handed an expired token: {got:?}");
        }
    });
}

#[test]
fn a_failed_refresh_reaches_every_waiter() {
    sim(async {
        let sf = Rc::new(AsyncSingleFlight::new(None));
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let sf = sf.clone();
                tokio::task::spawn_local(async move {
                    sf.get(
                        || 0,
                        || async {
                            sleep(ms(20)).await;
                            Err(RefreshError("refresh token revoked".into()))
                        },
                    )
                    .await
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(
                t.await.unwrap(),
                Err(RefreshError("refresh token revoked".into()))
            );
        }
    });
}

#[test]
fn an_abandoned_refresh_does_not_strand_the_next_caller() {
    sim(async {
        let sf = AsyncSingleFlight::new(None);
        let cut = timeout(
            ms(10),
            sf.get(
                || 0,
                || async {
                    sleep(ms(100)).await;
                    Ok(token("late", 1000))
                },
            ),
        )
        .await;
        assert!(cut.is_err());
        let next = timeout(ms(50), sf.get(|| 0, || async { Ok(token("fresh", 1000)) })).await;
        assert_eq!(next.expect("not stranded"), Ok(token("fresh", 1000)));
    });
}

// ---- save coalescer ----

#[test]
fn a_burst_of_edits_is_one_save_of_the_last() {
    sim(async {
        let doc = Rc::new(AsyncCoalescer::new());
        let saved = Rc::new(RefCell::new(Vec::new()));
        assert!(doc.edit(1));
        let flush = {
            let (doc, saved) = (doc.clone(), saved.clone());
            tokio::task::spawn_local(async move {
                doc.flush(ms(100), |job| {
                    saved.borrow_mut().push(job.value);
                    async { true }
                })
                .await
            })
        };
        for v in 2..=4 {
            sleep(ms(30)).await;
            assert!(doc.edit(v), "nothing in flight while the burst lasts");
            assert_eq!(doc.local(), Some(v), "the latest edit wins locally at once");
        }
        assert!(flush.await.unwrap());
        assert_eq!(*saved.borrow(), vec![4]);
        assert!(doc.is_clean());
    });
}

#[test]
fn an_edit_during_a_save_is_saved_after_it_and_saves_never_overlap() {
    sim(async {
        let doc = Rc::new(AsyncCoalescer::new());
        let saved = Rc::new(RefCell::new(Vec::new()));
        let in_flight = Rc::new(Cell::new(0));
        let save = {
            let (saved, in_flight) = (saved.clone(), in_flight.clone());
            move |job: faultline::client::SaveJob<u32>| {
                let (saved, in_flight) = (saved.clone(), in_flight.clone());
                async move {
                    in_flight.set(in_flight.get() + 1);
                    assert_eq!(in_flight.get(), 1, "two saves of one document in flight");
                    sleep(ms(50)).await;
                    saved.borrow_mut().push(job.value);
                    in_flight.set(in_flight.get() - 1);
                    true
                }
            }
        };
        doc.edit(1);
        let first = {
            let (doc, save) = (doc.clone(), save.clone());
            tokio::task::spawn_local(async move { doc.flush(Duration::ZERO, save).await })
        };
        sleep(ms(10)).await;
        assert!(!doc.edit(2), "a save is in flight");
        // A second flush while one is saving does nothing itself.
        assert!(doc.flush(Duration::ZERO, save).await);
        assert!(first.await.unwrap());
        assert_eq!(*saved.borrow(), vec![1, 2]);
        assert!(doc.is_clean());
    });
}

#[test]
fn a_failed_or_cancelled_save_leaves_the_edit_for_the_next_flush() {
    sim(async {
        let doc = AsyncCoalescer::new();
        doc.edit("draft");
        assert!(!doc.flush(Duration::ZERO, |_| async { false }).await);
        assert!(!doc.is_clean());
        let cut = timeout(
            ms(10),
            doc.flush(Duration::ZERO, |_| sleep(ms(100)).then_true()),
        )
        .await;
        assert!(cut.is_err());
        let saved = RefCell::new(None);
        assert!(
            doc.flush(Duration::ZERO, |job| {
                *saved.borrow_mut() = Some(job.value);
                async { true }
            })
            .await
        );
        assert_eq!(*saved.borrow(), Some("draft"));
        assert!(doc.is_clean());
    });
}

/// `fut.then_true()`: waits for `fut`, then reports success.
trait ThenTrue: Future + Sized {
    async fn then_true(self) -> bool {
        self.await;
        true
    }
}

impl<F: Future> ThenTrue for F {}
