//! faultline (crate docs are written later in this session).
pub mod client;
