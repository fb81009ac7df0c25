//! Client-side concurrency primitives (placeholder, being written).
