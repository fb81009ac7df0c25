//! Human-readable and machine-readable output.

pub mod junit;
pub mod markdown;
pub mod summary;
pub mod text;
pub mod timeline;
