//! Human-readable and machine-readable output.

pub mod text;
pub mod timeline;
