//! A bounded look-up cache with a time to live, owned by the engine (no lock: only the
//! engine task touches it).

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::{Duration, Instant};

pub struct Cache<K, V> {
    entries: HashMap<K, (V, Instant)>,
    /// Insertion order, for evicting the oldest entry when full.
    order: VecDeque<K>,
    capacity: usize,
    ttl: Duration,
}

impl<K: Hash + Eq + Clone, V: Clone> Cache<K, V> {
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        let capacity = capacity.max(1);
        Cache {
            // Twice the entries it holds, from the start: a full map whose keys come
            // and go doubles once when its deleted markers use up its spare room
            // (minutes into a run; see `CallTable`'s `ended`); at under half full it
            // never does. Only the map's control bytes are written up front.
            entries: HashMap::with_capacity(2 * capacity),
            order: VecDeque::new(),
            capacity,
            ttl,
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        self.entries
            .get(key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(value, _)| value.clone())
    }

    pub fn insert(&mut self, key: K, value: V) {
        if self
            .entries
            .insert(key.clone(), (value, Instant::now()))
            .is_none()
        {
            self.order.push_back(key);
        }
        while self.entries.len() > self.capacity {
            match self.order.pop_front() {
                Some(old) => {
                    self.entries.remove(&old);
                }
                None => break,
            }
        }
        // Keys re-inserted after eviction leave stale order entries; keep the queue
        // from growing without bound.
        if self.order.len() > self.capacity * 2 {
            let entries = &self.entries;
            self.order.retain(|k| entries.contains_key(k));
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_expiring() {
        let mut cache = Cache::new(2, Duration::from_secs(60));
        cache.insert("a", 1);
        cache.insert("b", 2);
        cache.insert("c", 3);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get(&"a"), None);
        assert_eq!(cache.get(&"c"), Some(3));
        let mut expired = Cache::new(2, Duration::ZERO);
        expired.insert("a", 1);
        assert_eq!(expired.get(&"a"), None);
    }
}
