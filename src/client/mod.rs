//! Client-side primitives the reference logic relies on.

pub mod retry;
