//! Model checks of the outbox across a crash: whatever interleaving of the user, the sync
//! worker and the crash, every acknowledged operation reaches the server after a restart,
//! in order, and every copy of one operation carries one idempotency key. A twin worker
//! that gives up on failed sends is caught by the same check.
//!
//! `RUSTFLAGS="--cfg loom" cargo test --release --test loom_client`
//! (the state machines' own checks: `cargo test -p faultline-sync --release --test loom`).
#![cfg(loom)]

use std::panic::{catch_unwind, AssertUnwindSafe};

use faultline::client::broken::GiveUpOutbox;
use faultline::client::{DurableStore, MemoryStore, Outbox};
use loom::sync::atomic::{AtomicBool, Ordering};
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

/// The server's log of applied requests: (payload, idempotency key).
type Log = Arc<Mutex<Vec<(String, String)>>>;

fn crash_then_restart(give_up: bool) -> impl Fn() + Sync + Send + 'static {
    move || {
        let store = Arc::new(MemoryStore::new());
        // A twin that never gives up is the real outbox.
        let retries = if give_up { 0 } else { u32::MAX };
        let worker_box = Arc::new(GiveUpOutbox::new(
            Outbox::open(store.clone(), "tab"),
            retries,
        ));
        let server: Log = Arc::new(Mutex::new(Vec::new()));
        let acked = Arc::new(Mutex::new(Vec::<String>::new()));
        let crashed = Arc::new(AtomicBool::new(false));

        let user = {
            let (o, acked, crashed) = (worker_box.clone(), acked.clone(), crashed.clone());
            thread::spawn(move || {
                for payload in ["a", "b"] {
                    if crashed.load(Ordering::SeqCst) {
                        return;
                    }
                    o.outbox.enqueue(payload);
                    // The user now sees "queued".
                    acked.lock().unwrap().push(payload.to_string());
                }
            })
        };
        let worker = {
            let (o, server, crashed) = (worker_box.clone(), server.clone(), crashed.clone());
            thread::spawn(move || {
                let mut network_up = false;
                for _ in 0..3 {
                    if crashed.load(Ordering::SeqCst) {
                        return;
                    }
                    o.send_one(|e| {
                        // The first send finds the network down: nothing reaches the server.
                        let ok = std::mem::replace(&mut network_up, true);
                        if ok {
                            server
                                .lock()
                                .unwrap()
                                .push((e.payload.clone(), e.key.clone()));
                        }
                        ok
                    });
                }
            })
        };
        // The crash lands anywhere among the steps above; nothing runs after it.
        crashed.store(true, Ordering::SeqCst);
        user.join().unwrap();
        worker.join().unwrap();
        drop(worker_box);

        // Restart: volatile state is gone, the store is what the outbox recovers from.
        let restarted = Outbox::open(store.clone(), "tab");
        while let Some(e) = restarted.claim() {
            server
                .lock()
                .unwrap()
                .push((e.payload.clone(), e.key.clone()));
            restarted.finish(e.seq, true);
        }
        assert!(store.load().is_empty(), "delivered entries stayed stored");

        let log = server.lock().unwrap();
        for payload in acked.lock().unwrap().iter() {
            assert!(
                log.iter().any(|(p, _)| p == payload),
                "{payload} was acknowledged as queued but never reached the server"
            );
        }
        for (payload, key) in log.iter() {
            assert!(
                log.iter().all(|(p, k)| (p == payload) == (k == key)),
                "{payload} was sent under more than one key, or shares its key"
            );
        }
        let first = |p: &str| log.iter().position(|(q, _)| q == p);
        if let (Some(a), Some(b)) = (first("a"), first("b")) {
            assert!(a < b, "b reached the server before a");
        }
    }
}

#[test]
fn outbox_delivers_every_acknowledged_operation_after_a_crash() {
    model(crash_then_restart(false));
}

#[test]
fn outbox_twin_that_gives_up_after_a_failure_is_caught() {
    assert!(caught(crash_then_restart(true)));
}
