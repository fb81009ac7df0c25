//! A TCP proxy between one client's connection pool and PostgreSQL that injects the plan's
//! network faults into real connections: latency, latency spikes, holds, blackholes in
//! either direction, and resets of every open connection (mid-transaction included).
//!
//! Each client gets its own proxy, so a partition between `client-2` and `store` cuts
//! exactly that client's connections, as on the simulated network.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::rng::SimRng;

/// What the faults currently do to one client-server link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkState {
    /// Bytes from the client are thrown away (requests never arrive).
    pub drop_up: bool,
    /// Bytes from the server are thrown away (answers never arrive; requests still commit).
    pub drop_down: bool,
    /// Bytes wait in the proxy until released.
    pub held: bool,
    /// Extra one-way latency of a spike.
    pub slow_ms: u64,
}

/// A running proxy.
pub struct Proxy {
    /// Where the client's pool connects.
    pub addr: SocketAddr,
    link: watch::Sender<LinkState>,
    resets: watch::Sender<u64>,
    accept: JoinHandle<()>,
}

#[derive(Clone)]
struct Shared {
    upstream: SocketAddr,
    latency_ms: (u64, u64),
    link: watch::Receiver<LinkState>,
    resets: watch::Receiver<u64>,
}

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    Up,
    Down,
}

impl Proxy {
    /// Listens on an ephemeral loopback port and forwards to `upstream`, each chunk
    /// delayed by a latency drawn from `latency_ms` (min, max) with `rng`.
    pub async fn start(
        upstream: SocketAddr,
        latency_ms: (u64, u64),
        rng: SimRng,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (link, link_rx) = watch::channel(LinkState::default());
        let (resets, resets_rx) = watch::channel(0u64);
        let shared = Shared {
            upstream,
            latency_ms,
            link: link_rx,
            resets: resets_rx,
        };
        let accept = tokio::spawn(accept_loop(listener, shared, rng));
        Ok(Self {
            addr,
            link,
            resets,
            accept,
        })
    }

    /// Changes the link's fault state; connections see it on their next chunk.
    pub fn set(&self, change: impl FnOnce(&mut LinkState)) {
        self.link.send_modify(change);
    }

    /// The link's current fault state.
    pub fn state(&self) -> LinkState {
        self.link.borrow().clone()
    }

    /// Closes every open connection at once, whatever it was in the middle of.
    pub fn reset_connections(&self) {
        self.resets.send_modify(|n| *n += 1);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.reset_connections();
    }
}

async fn accept_loop(listener: TcpListener, shared: Shared, rng: SimRng) {
    let mut count = 0u64;
    while let Ok((client, _)) = listener.accept().await {
        let shared = shared.clone();
        count += 1;
        let conn = rng.fork(&format!("connection-{count}"));
        let (up_rng, down_rng) = (conn.fork("up"), conn.fork("down"));
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(shared.upstream).await else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (cr, cw) = client.into_split();
            let (sr, sw) = server.into_split();
            let up = tokio::spawn(pump(cr, sw, Direction::Up, shared.clone(), up_rng));
            pump(sr, cw, Direction::Down, shared, down_rng).await;
            up.abort();
        });
    }
}

/// Copies one direction chunk by chunk, applying the link's state to each chunk; ends when
/// either side closes or the connections are reset.
async fn pump<R, W>(mut from: R, mut to: W, dir: Direction, shared: Shared, mut rng: SimRng)
where
    R: AsyncReadExt + Unpin,
    W: AsyncWriteExt + Unpin,
{
    let Shared {
        latency_ms,
        mut link,
        mut resets,
        ..
    } = shared;
    resets.mark_unchanged();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = tokio::select! {
            biased;
            _ = resets.changed() => return,
            r = from.read(&mut buf) => match r {
                Ok(0) | Err(_) => {
                    let _ = to.shutdown().await;
                    return;
                }
                Ok(n) => n,
            },
        };
        while link.borrow_and_update().held {
            tokio::select! {
                biased;
                _ = resets.changed() => return,
                r = link.changed() => if r.is_err() { return },
            }
        }
        let state = link.borrow().clone();
        let dropped = match dir {
            Direction::Up => state.drop_up,
            Direction::Down => state.drop_down,
        };
        if dropped {
            continue;
        }
        let delay = rng.range(latency_ms.0, latency_ms.1.max(latency_ms.0)) + state.slow_ms;
        if delay > 0 {
            tokio::select! {
                biased;
                _ = resets.changed() => return,
                _ = tokio::time::sleep(Duration::from_millis(delay)) => {}
            }
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
