//! Human-readable and machine-readable output.

pub mod catch_table;
pub mod chart;
pub mod junit;
pub mod markdown;
pub mod publish;
pub mod situations;
pub mod stats;
pub mod summary;
pub mod sweep;
pub mod text;
pub mod timeline;
