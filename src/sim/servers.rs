//! The software of the server hosts: the store (primary), its read replicas and the auth
//! service.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use turmoil::net::{TcpListener, TcpStream};

use super::net::{now_ms, read_frame, write_frame, ReadReply, Wire, AUTH_PORT, STORE_PORT};
use crate::backend::{DbError, Response};
use crate::store::auth::{AuthError, AuthService, Claims, Session};
use crate::store::replica::READ_ONLY_TRANSACTION;
use crate::store::{Replica, Store};

/// How long a server waits for a request on a fresh connection before dropping it; keeps
/// connections broken by partitions from piling up.
const IDLE_LIMIT: Duration = Duration::from_secs(30);

/// How a server host treats the requests it reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Service {
    /// Serves them.
    #[default]
    Up,
    /// A service interruption that answers every request with a 503.
    Refusing,
    /// A service interruption that closes every connection unanswered.
    Dropping,
}

/// A server host's [`Service`], shared with the world that switches it between steps.
pub type ServiceState = Rc<Cell<Service>>;

/// What a refused request is told; it did not take effect, as [`DbError::Unreachable`]
/// promises, so clients treat it like any connection failure.
const UNAVAILABLE: &str = "503 service unavailable";

/// Serves data requests against the shared store until the host is crashed.
pub async fn serve_store(store: Rc<RefCell<Store>>, service: ServiceState) -> turmoil::Result {
    let listener = TcpListener::bind(("0.0.0.0", STORE_PORT)).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::task::spawn_local(store_connection(stream, store.clone(), service.clone()));
    }
}

async fn store_connection(mut stream: TcpStream, store: Rc<RefCell<Store>>, service: ServiceState) {
    let Ok(Ok(msg)) = tokio::time::timeout(IDLE_LIMIT, read_frame::<Wire>(&mut stream)).await
    else {
        return;
    };
    match service.get() {
        Service::Up => {}
        // Dropping the stream closes it: the client sees the connection die mid-request.
        Service::Dropping => return,
        Service::Refusing => {
            let refusal: Result<(), DbError> = Err(DbError::Unreachable(UNAVAILABLE.into()));
            let _ = write_frame(&mut stream, &refusal).await;
            return;
        }
    }
    let reply: Result<Response, DbError> = match msg {
        Wire::Data { token, request } => match Claims::verify(&token, now_ms()) {
            Err(why) => Err(DbError::Unauthorized(why)),
            Ok(_) => {
                let mut store = store.borrow_mut();
                store.set_clock(now_ms());
                store.execute(&request)
            }
        },
        Wire::Read { token, request, .. } => {
            // The primary has replayed everything it committed, so any `min_lsn` is met.
            let reply = Claims::verify(&token, now_ms())
                .map_err(DbError::Unauthorized)
                .and_then(|_| {
                    let mut store = store.borrow_mut();
                    store.set_clock(now_ms());
                    let response = store.execute(&request)?;
                    Ok(ReadReply {
                        response: Some(response),
                        lsn: store.lsn(),
                    })
                });
            let _ = write_frame(&mut stream, &reply).await;
            return;
        }
        _ => Err(DbError::sql("08P01", "auth request sent to the store")),
    };
    // The client may have given up already; a failed write changes nothing.
    let _ = write_frame(&mut stream, &reply).await;
}

/// Serves reads from a replica's copy until the host is crashed; the world advances the
/// copy between simulation steps.
pub async fn serve_replica(replica: Rc<RefCell<Replica>>) -> turmoil::Result {
    let listener = TcpListener::bind(("0.0.0.0", STORE_PORT)).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::task::spawn_local(replica_connection(stream, replica.clone()));
    }
}

async fn replica_connection(mut stream: TcpStream, replica: Rc<RefCell<Replica>>) {
    let Ok(Ok(msg)) = tokio::time::timeout(IDLE_LIMIT, read_frame::<Wire>(&mut stream)).await
    else {
        return;
    };
    let reply: Result<ReadReply, DbError> = match msg {
        Wire::Read {
            token,
            request,
            min_lsn,
        } => Claims::verify(&token, now_ms())
            .map_err(DbError::Unauthorized)
            .and_then(|_| {
                let replica = replica.borrow();
                let lsn = replica.replayed_lsn();
                if lsn < min_lsn {
                    return Ok(ReadReply {
                        response: None,
                        lsn,
                    });
                }
                Ok(ReadReply {
                    response: Some(replica.read(&request)?),
                    lsn,
                })
            }),
        _ => Err(DbError::sql(
            READ_ONLY_TRANSACTION,
            "only routed reads are served by a replica",
        )),
    };
    let _ = write_frame(&mut stream, &reply).await;
}

/// Serves sign-in and refresh requests until the host is crashed.
pub async fn serve_auth(auth: Rc<RefCell<AuthService>>, service: ServiceState) -> turmoil::Result {
    let listener = TcpListener::bind(("0.0.0.0", AUTH_PORT)).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::task::spawn_local(auth_connection(stream, auth.clone(), service.clone()));
    }
}

async fn auth_connection(
    mut stream: TcpStream,
    auth: Rc<RefCell<AuthService>>,
    service: ServiceState,
) {
    let Ok(Ok(msg)) = tokio::time::timeout(IDLE_LIMIT, read_frame::<Wire>(&mut stream)).await
    else {
        return;
    };
    match service.get() {
        Service::Up => {}
        Service::Dropping => return,
        Service::Refusing => {
            let refusal: Result<Session, AuthError> =
                Err(AuthError::Unavailable(UNAVAILABLE.into()));
            let _ = write_frame(&mut stream, &refusal).await;
            return;
        }
    }
    let reply: Result<Session, AuthError> = match msg {
        Wire::SignIn { user } => Ok(auth.borrow_mut().sign_in(&user, now_ms())),
        Wire::Refresh { token } => auth.borrow_mut().refresh(&token, now_ms()),
        Wire::Data { .. } | Wire::Read { .. } => {
            Err(AuthError::InvalidRefreshToken("data sent to auth".into()))
        }
    };
    let _ = write_frame(&mut stream, &reply).await;
}
