//! The per-rule cap on actions per minute: past it a rule falls back to dry run on this node,
//! so that a rule that matches far more than expected cannot take the node down with it.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct RateCap {
    per_minute: u32,
    /// Per rule, the times of its actions in the last minute (at most `per_minute`).
    recent: HashMap<String, VecDeque<Instant>>,
}

impl RateCap {
    pub fn new(per_minute: u32) -> RateCap {
        RateCap {
            per_minute,
            recent: HashMap::new(),
        }
    }

    /// Whether `rule` may act at `now`, counting the action if so.
    pub fn admit(&mut self, rule: &str, now: Instant) -> bool {
        let times = self.recent.entry(rule.to_string()).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            times.pop_front();
        }
        if times.len() >= self.per_minute as usize {
            return false;
        }
        times.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_past_its_cap_waits_for_the_minute_to_pass_and_others_are_not_affected() {
        let mut cap = RateCap::new(2);
        let t0 = Instant::now();
        assert!(cap.admit("a", t0));
        assert!(cap.admit("a", t0 + Duration::from_secs(1)));
        assert!(!cap.admit("a", t0 + Duration::from_secs(2)));
        assert!(cap.admit("b", t0 + Duration::from_secs(2)));
        assert!(!cap.admit("a", t0 + Duration::from_secs(59)));
        assert!(cap.admit("a", t0 + Duration::from_secs(60)));
        assert!(!cap.admit("a", t0 + Duration::from_secs(60)));
        assert!(cap.admit("a", t0 + Duration::from_secs(61)));
        assert!(!RateCap::new(0).admit("a", t0));
    }
}
