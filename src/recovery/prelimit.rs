//! The in-memory pre-limit in front of the shared Postgres counters, per instance. A client
//! address the shared counters already refused is turned away without a database round trip until
//! its window ends, so that a flood from one place never reaches the database; and the wider IPv6
//! blocks around a /64 (its /56 and /48) have budgets of their own, so that someone rotating
//! through the 2^16 /64s of one /48 is slowed down too.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};

use crate::domain::limit_key;

type Keyed = RateLimiter<String, HashMapStateStore<String>, DefaultClock>;

/// IPv6 blocks wider than a /64, with how many /64s' worth of requests each may make per hour.
const WIDE_BLOCKS: [(u8, u32); 2] = [(56, 4), (48, 16)];
/// Past this many entries, expired ones are dropped before another is added.
const TIDY_AT: usize = 10_000;

pub struct PreLimit {
    /// Address blocks the shared counters refused, per endpoint, until their window ends.
    refused: Mutex<HashMap<String, Instant>>,
    /// One limiter per wide IPv6 block size.
    wide: Vec<(u8, Keyed)>,
    clock: DefaultClock,
}

impl PreLimit {
    /// `per_hour` is one address's hourly budget per endpoint (`RECOVERY_REQUESTS_PER_IP_PER_HOUR`).
    pub fn new(per_hour: u32) -> Self {
        let wide = WIDE_BLOCKS
            .iter()
            .map(|&(bits, times)| {
                let n = NonZeroU32::new(per_hour.saturating_mul(times).max(1)).expect("at least 1");
                (
                    bits,
                    RateLimiter::hashmap(Quota::per_hour(n).allow_burst(n)),
                )
            })
            .collect();
        Self {
            refused: Mutex::new(HashMap::new()),
            wide,
            clock: DefaultClock::default(),
        }
    }

    /// `Some(seconds to wait)` when the request is turned away here, before the database.
    pub fn check(&self, endpoint: &str, ip: IpAddr) -> Option<u64> {
        let now = Instant::now();
        let key = format!("{endpoint}:{}", limit_key(ip));
        if let Some(until) = self.refused.lock().expect("not poisoned").get(&key) {
            if *until > now {
                return Some(seconds(*until - now));
            }
        }
        let IpAddr::V6(v6) = ip else {
            return None;
        };
        if v6.to_ipv4_mapped().is_some() {
            return None;
        }
        for (bits, limiter) in &self.wide {
            let block = ipnet::Ipv6Net::new(v6, *bits)
                .expect("a valid prefix length")
                .trunc();
            if let Err(not_until) = limiter.check_key(&format!("{endpoint}:{block}")) {
                return Some(seconds(not_until.wait_time_from(self.clock.now())));
            }
        }
        None
    }

    /// The shared counters refused this address block until `retry_after` seconds from now.
    pub fn refused(&self, endpoint: &str, ip: IpAddr, retry_after: u64) {
        let now = Instant::now();
        let mut refused = self.refused.lock().expect("not poisoned");
        if refused.len() >= TIDY_AT {
            refused.retain(|_, until| *until > now);
            for (_, limiter) in &self.wide {
                limiter.retain_recent();
            }
        }
        refused.insert(
            format!("{endpoint}:{}", limit_key(ip)),
            now + Duration::from_secs(retry_after),
        );
    }
}

fn seconds(d: Duration) -> u64 {
    d.as_secs_f64().ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_address_the_database_refused_is_turned_away_here_until_its_window_ends() {
        let pre = PreLimit::new(30);
        assert_eq!(pre.check("request", ip("203.0.113.7")), None);
        pre.refused("request", ip("203.0.113.7"), 600);
        let wait = pre.check("request", ip("203.0.113.7")).unwrap();
        assert!((599..=600).contains(&wait), "{wait}");
        assert_eq!(
            pre.check("confirm", ip("203.0.113.7")),
            None,
            "per endpoint"
        );
        assert_eq!(pre.check("request", ip("203.0.113.8")), None, "per address");
    }

    #[test]
    fn rotating_through_the_64s_of_one_56_is_limited_too() {
        let pre = PreLimit::new(1);
        // One request per /64 an hour: a /56 gets four /64s' worth.
        for i in 0..4 {
            assert_eq!(
                pre.check("request", ip(&format!("2001:db8:0:{i}::1"))),
                None
            );
        }
        assert!(pre.check("request", ip("2001:db8:0:4::1")).is_some());
        assert_eq!(
            pre.check("request", ip("2001:db8:0:100::1")),
            None,
            "another /56"
        );
        assert_eq!(
            pre.check("request", ip("198.51.100.1")),
            None,
            "IPv4 is per address"
        );
    }
}
