//! Sign-in throttling, per user name and per client address: a few wrong passwords are free,
//! then each one doubles how long that name (or address) must wait, answered 429 with
//! `Retry-After` without checking the password. Attempts still being checked count against the
//! allowance, so a parallel burst cannot slip past it; a name is tracked whether or not the
//! user exists, so the answer tells nothing about which names do.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong passwords for one user name before it waits.
pub const FREE_PER_USER: u32 = 5;
/// Wrong passwords from one address (which may be many users behind one NAT) before it waits.
pub const FREE_PER_ADDRESS: u32 = 20;
/// The first wait; each further failure doubles it, up to [`MAX_WAIT`].
const FIRST_WAIT: Duration = Duration::from_secs(1);
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// A name or address without a failure for this long starts afresh.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);
/// Tracked names and addresses at most; past it, new ones go untracked (the other key of the
/// attempt still throttles it) rather than growing without bound.
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    Address(IpAddr),
}

impl Key {
    fn allowance(&self) -> u32 {
        match self {
            Key::User(_) => FREE_PER_USER,
            Key::Address(_) => FREE_PER_ADDRESS,
        }
    }
}

#[derive(Debug)]
struct Entry {
    failures: u32,
    /// Attempts begun and not yet judged.
    pending: u32,
    wait_until: Instant,
    last_failure: Instant,
}

#[derive(Default)]
pub struct LoginThrottle {
    entries: Mutex<HashMap<Key, Entry>>,
}

/// One sign-in attempt admitted by [`LoginThrottle::begin`]. Dropped without a verdict (the
/// client left), it counts as nothing.
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    keys: Vec<Key>,
}

impl LoginThrottle {
    /// Admits an attempt for `username` from `address`, or says how long to wait.
    pub fn begin(&self, username: &str, address: Option<IpAddr>) -> Result<Attempt<'_>, Duration> {
        let now = Instant::now();
        let keys: Vec<Key> = std::iter::once(Key::User(username.to_string()))
            .chain(address.map(Key::Address))
            .collect();
        let mut entries = self.lock();
        let mut wait = Duration::ZERO;
        for key in &keys {
            if let Some(e) = entries.get(key) {
                if e.wait_until > now {
                    wait = wait.max(e.wait_until - now);
                } else if e.failures + e.pending >= key.allowance() && e.pending > 0 {
                    // The allowance is taken by attempts still being checked.
                    wait = wait.max(FIRST_WAIT);
                }
            }
        }
        if !wait.is_zero() {
            return Err(wait);
        }
        if entries.len() + keys.len() > MAX_ENTRIES {
            entries.retain(|_, e| e.pending > 0 || now - e.last_failure < FORGET_AFTER);
        }
        let mut tracked = Vec::with_capacity(keys.len());
        for key in keys {
            let room = entries.len() < MAX_ENTRIES;
            match entries.get_mut(&key) {
                Some(e) => e.pending += 1,
                None if room => {
                    entries.insert(
                        key.clone(),
                        Entry {
                            failures: 0,
                            pending: 1,
                            wait_until: now,
                            last_failure: now,
                        },
                    );
                }
                None => {
                    tracing::warn!(
                        "sign-in throttle is full; an attempt goes untracked by one key"
                    );
                    continue;
                }
            }
            tracked.push(key);
        }
        Ok(Attempt {
            throttle: self,
            keys: tracked,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Attempt<'_> {
    /// A wrong password: counts against the name and the address.
    pub fn failed(mut self) {
        let now = Instant::now();
        let mut entries = self.throttle.lock();
        for key in self.keys.drain(..) {
            let Some(e) = entries.get_mut(&key) else {
                continue;
            };
            e.pending = e.pending.saturating_sub(1);
            if now - e.last_failure >= FORGET_AFTER {
                e.failures = 0;
            }
            e.failures += 1;
            e.last_failure = now;
            if let Some(over) = e.failures.checked_sub(key.allowance()) {
                e.wait_until = now + backoff(over);
            }
        }
    }

    /// The right password: the name starts afresh; the address keeps its count, so that one
    /// account of its own does not let it guess others' passwords faster.
    pub fn succeeded(mut self) {
        let mut entries = self.throttle.lock();
        for key in self.keys.drain(..) {
            match key {
                Key::User(_) => {
                    entries.remove(&key);
                }
                Key::Address(_) => {
                    if let Some(e) = entries.get_mut(&key) {
                        e.pending = e.pending.saturating_sub(1);
                    }
                }
            }
        }
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        let mut entries = self.throttle.lock();
        for key in &self.keys {
            if let Some(e) = entries.get_mut(key) {
                e.pending = e.pending.saturating_sub(1);
            }
        }
    }
}

/// The wait after `over` failures past the allowance: 1 s, 2 s, 4 s … up to 15 minutes.
fn backoff(over: u32) -> Duration {
    FIRST_WAIT
        .saturating_mul(1u32.checked_shl(over).unwrap_or(u32::MAX))
        .min(MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDR: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

    #[test]
    fn the_wait_doubles_after_the_allowance_and_is_capped() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(40), MAX_WAIT);
    }

    #[test]
    fn a_name_waits_after_its_free_failures_and_a_success_clears_it() {
        let t = LoginThrottle::default();
        for _ in 0..FREE_PER_USER - 1 {
            t.begin("alice", ADDR).unwrap().failed();
        }
        t.begin("alice", ADDR).unwrap().succeeded();
        for _ in 0..FREE_PER_USER {
            t.begin("alice", ADDR).unwrap().failed();
        }
        let wait = t.begin("alice", ADDR).err().expect("alice must wait");
        assert!(wait > Duration::ZERO && wait <= FIRST_WAIT, "{wait:?}");
        // Another name from the same address is not held up by alice's count.
        t.begin("bob", ADDR).unwrap().failed();
    }

    #[test]
    fn pending_attempts_take_the_allowance() {
        let t = LoginThrottle::default();
        let held: Vec<_> = (0..FREE_PER_USER)
            .map(|_| t.begin("carol", None).unwrap())
            .collect();
        assert!(t.begin("carol", None).is_err());
        drop(held);
        assert!(t.begin("carol", None).is_ok());
    }

    #[test]
    fn an_address_waits_after_its_free_failures_whatever_the_names() {
        let t = LoginThrottle::default();
        for i in 0..FREE_PER_ADDRESS {
            t.begin(&format!("user{i}"), ADDR).unwrap().failed();
        }
        assert!(t.begin("someone-new", ADDR).is_err());
        assert!(t.begin("someone-new", None).is_ok());
    }
}
