//! In-memory storage (better-auth: dist/api/rate-limiter/index.mjs, `storage === "memory"`):
//! one map per process, read-decide-write under one lock so actix's worker threads cannot all
//! pass a stale read. Entries expire `window` after their last allowed request; the map is kept
//! at most [`MAX_ENTRIES`] long.
//!
//! Pruning differs from upstream only in cost, not in decisions (an expired entry counts as
//! absent either way): upstream scans the whole map on every request; here expired entries are
//! swept at most once a second, and on overflow the least recently allowed keys are evicted down
//! to 90 % (upstream evicts the oldest-inserted keys, one overflow at a time).

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use super::{Counter, Outcome, Rule, decide_consume};

/// MEMORY_STORE_MAX_ENTRIES.
pub const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    counter: Counter,
    expires_at: i64,
}

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<String, Entry>,
    last_sweep: i64,
}

#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    /// Size bound; [`MAX_ENTRIES`] unless a test sets a smaller one.
    max_entries: Option<usize>,
}

impl MemoryStore {
    #[cfg(test)]
    fn with_max_entries(max: usize) -> Self {
        Self {
            inner: Mutex::default(),
            max_entries: Some(max),
        }
    }

    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves the map consistent (each step is a
        // plain insert/remove), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One atomic consume at time `now` (ms).
    pub fn consume(&self, key: &str, rule: Rule, now: i64) -> Outcome {
        let max = self.max_entries.unwrap_or(MAX_ENTRIES);
        let mut inner = self.lock();
        if now - inner.last_sweep >= 1_000 || inner.map.len() > max {
            inner.map.retain(|_, e| now < e.expires_at);
            inner.last_sweep = now;
        }
        let current = inner
            .map
            .get(key)
            .filter(|e| now < e.expires_at)
            .map(|e| e.counter);
        let decision = decide_consume(current, rule, now);
        if decision.outcome.allowed {
            inner.map.insert(
                key.to_string(),
                Entry {
                    counter: decision.next,
                    expires_at: now.saturating_add(rule.window_ms()),
                },
            );
            if inner.map.len() > max {
                evict_oldest(&mut inner.map, max - max / 10);
            }
        }
        decision.outcome
    }
}

/// Drops the least recently allowed entries until `keep` remain.
fn evict_oldest(map: &mut HashMap<String, Entry>, keep: usize) {
    if map.len() <= keep {
        return;
    }
    let mut stamps: Vec<i64> = map.values().map(|e| e.counter.last_request).collect();
    let cut = map.len() - keep;
    let (_, nth, _) = stamps.select_nth_unstable(cut - 1);
    let threshold = *nth;
    let mut to_remove = cut;
    map.retain(|_, e| {
        if to_remove > 0 && e.counter.last_request <= threshold {
            to_remove -= 1;
            false
        } else {
            true
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: Rule = Rule { window: 10, max: 3 };

    #[test]
    fn fourth_request_in_window_is_refused_then_freed() {
        let m = MemoryStore::default();
        for t in [0, 100, 200] {
            assert!(m.consume("ip|/sign-in/email", R, t).allowed);
        }
        assert_eq!(m.consume("ip|/sign-in/email", R, 300), Outcome::refused(10));
        // Other keys are independent.
        assert!(m.consume("ip|/ok", R, 300).allowed);
        assert!(m.consume("other|/sign-in/email", R, 300).allowed);
        // Refusals do not extend the window: free 10 s after the last allowed request.
        assert_eq!(
            m.consume("ip|/sign-in/email", R, 10_199),
            Outcome::refused(1)
        );
        assert!(m.consume("ip|/sign-in/email", R, 10_200).allowed);
    }

    #[test]
    fn bounded_and_swept() {
        let m = MemoryStore::with_max_entries(100);
        for i in 0..250 {
            assert!(m.consume(&format!("k{i}"), R, i).allowed);
            assert!(m.len() <= 100);
        }
        // The most recent keys survive the eviction.
        assert_eq!(m.consume("k249", R, 300), Outcome::ALLOWED);
        // Everything expired is swept at the next consume after the window.
        m.consume("late", R, 100_000);
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn concurrent_consumers_share_one_budget() {
        let m = std::sync::Arc::new(MemoryStore::default());
        let r = Rule {
            window: 60,
            max: 50,
        };
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || {
                    (0..20)
                        .filter(|_| m.consume("k", r, super::super::now_ms()).allowed)
                        .count()
                })
            })
            .collect();
        let allowed: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(allowed, 50);
    }
}
