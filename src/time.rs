//! Time helpers shared by the engine and the reports (a leaf: it imports nothing of
//! the crate).

use chrono::{DateTime, Utc};

/// Seconds from `a` to `b`, never negative (clock steps are not durations).
pub fn seconds(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    ((b - a).num_microseconds().unwrap_or(0) as f64 / 1e6).max(0.0)
}
