//! Dropping records a switch sends twice.
//!
//! Switches buffer records while nobody listens and replay the buffer when a
//! collector connects again, often from a point before the drop. The adapter keeps
//! the keys of the last [`DEFAULT_WINDOW`] record lines it passed on (across
//! reconnects; one set per switch, since each adapter owns one switch) and drops a
//! line it has seen, before it becomes an event or a row. The key is the line with
//! runs of spaces collapsed, so a replay that pads differently is still recognised.
//! Two different calls never print the same line: it carries the start time, the
//! parties and the duration. Across daemon restarts the database's unique
//! `record_key` does the same job (see the engine).

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};

/// Record lines remembered by default (`dedup_window`): days of records on a busy
/// switch, at 8 bytes each twice over.
pub const DEFAULT_WINDOW: usize = 50_000;

#[derive(Debug)]
pub struct Seen {
    keys: HashSet<u64>,
    order: VecDeque<u64>,
    window: usize,
}

impl Seen {
    pub fn new(window: usize) -> Self {
        Seen {
            // Twice the window, so a full set whose keys come and go never doubles
            // mid-run as its deleted markers fill its spare room.
            keys: HashSet::with_capacity(2 * window),
            order: VecDeque::new(),
            window,
        }
    }

    /// True the first time `line` is offered; false for a repeat.
    pub fn first_time(&mut self, line: &str) -> bool {
        if self.window == 0 {
            return true;
        }
        let key = key(line);
        if !self.keys.insert(key) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > self.window {
            if let Some(old) = self.order.pop_front() {
                self.keys.remove(&old);
            }
        }
        true
    }
}

fn key(line: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    for word in line.split_whitespace() {
        word.hash(&mut hasher);
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_dropped_within_the_window() {
        let mut seen = Seen::new(2);
        assert!(seen.first_time("a 1"));
        assert!(!seen.first_time("a  1 "));
        assert!(seen.first_time("b"));
        assert!(seen.first_time("c"));
        // "a 1" has left the window.
        assert!(seen.first_time("a 1"));
        let mut off = Seen::new(0);
        assert!(off.first_time("x") && off.first_time("x"));
    }
}
