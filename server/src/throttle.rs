//! The log-in and sign-up throttle's decisions, and whose address a request comes from. Pure:
//! the store counts attempts (atomically, before any password is checked) and these functions
//! decide with the counts and a clock.
//!
//! Log-in failures are counted per (account, client address) — so that an attacker elsewhere
//! cannot lock the owner out — with delays that grow after a few free attempts, and per client
//! address across all accounts, with a budget per window.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use ipnet::IpNet;

use crate::store::AttemptCount;

/// Counters forget attempts older than this.
pub const WINDOW: Duration = Duration::minutes(15);
/// Attempts one (account, address) pair makes without any delay.
pub const FREE_ATTEMPTS_PER_PAIR: i64 = 5;
/// The longest delay between two attempts of one pair.
pub const MAX_DELAY: Duration = Duration::minutes(15);
/// Log-in attempts one client address may fail within the window, over all accounts.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 50;
/// Sign-ups one client address may attempt within the window: each costs a password hash and
/// may create an account, so a burst from one address is slowed down.
pub const MAX_SIGN_UPS_PER_ADDRESS: i64 = 50;

/// What to do with a counted attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Check the password.
    Evaluate,
    /// Refuse without checking; the client may try again after this many seconds.
    Refuse { retry_after_secs: u64 },
}

/// The counter scopes of a log-in attempt, in the order the store counts them.
pub fn log_in_scopes(email: &str, address: IpAddr) -> [String; 2] {
    [
        format!("pair:{email}|{address}"),
        format!("address:{address}"),
    ]
}

/// The counter scope of a sign-up attempt.
pub fn sign_up_scope(address: IpAddr) -> String {
    format!("sign-up:{address}")
}

/// The delay a pair must leave before its `attempt`-th attempt: none for the free ones, then
/// 1 s, 2 s, 4 s, … up to [`MAX_DELAY`].
pub fn delay_before(attempt: i64) -> Duration {
    let beyond_free = attempt - FREE_ATTEMPTS_PER_PAIR;
    if beyond_free <= 0 {
        return Duration::zero();
    }
    let exponent = u32::try_from(beyond_free - 1).unwrap_or(u32::MAX).min(20);
    Duration::seconds(1i64 << exponent).min(MAX_DELAY)
}

/// Whether a log-in attempt, already counted on its pair and its address, is evaluated.
/// Attempts made too early count too, so hammering only lengthens the hammerer's own delay.
pub fn decide_log_in(pair: AttemptCount, address: AttemptCount, now: DateTime<Utc>) -> Decision {
    if address.attempts > MAX_FAILURES_PER_ADDRESS {
        return refuse_for(WINDOW);
    }
    let delay = delay_before(pair.attempts);
    match pair.previous_at {
        Some(previous) if previous + delay > now => refuse_for(previous + delay - now),
        _ => Decision::Evaluate,
    }
}

/// Whether a sign-up attempt, already counted on its address, goes ahead.
pub fn decide_sign_up(address: AttemptCount) -> Decision {
    if address.attempts > MAX_SIGN_UPS_PER_ADDRESS {
        refuse_for(WINDOW)
    } else {
        Decision::Evaluate
    }
}

fn refuse_for(wait: Duration) -> Decision {
    let millis = wait.num_milliseconds().max(0);
    Decision::Refuse {
        retry_after_secs: u64::try_from((millis + 999) / 1000).unwrap_or(1).max(1),
    }
}

/// The proxies whose `X-Forwarded-For` is believed (`--trusted-proxies`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a list of addresses and networks (`127.0.0.1`, `10.0.0.0/8`, `::1`).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        let mut nets = Vec::new();
        for entry in entries {
            let entry = entry.as_ref().trim();
            if entry.is_empty() {
                continue;
            }
            let net = match entry.parse::<IpNet>() {
                Ok(net) => net,
                Err(_) => entry.parse::<IpAddr>().map(IpNet::from).map_err(|_| {
                    format!(
                        "trusted proxy {entry:?} is neither an address nor a network \
                         (e.g. 10.0.0.1 or 10.0.0.0/8)"
                    )
                })?,
            };
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client's address: the peer's, unless the peer is a trusted proxy, in which case the
    /// nearest address in `X-Forwarded-For` (read from the right) that is not itself a trusted
    /// proxy. Entries a client wrote to the left of what our proxies appended are never used.
    pub fn client_address<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl Iterator<Item = &'a str>,
    ) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded_for.flat_map(|value| value.split(',')).collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop.trim().parse::<IpAddr>() {
                Ok(address) => {
                    client = canonical(address);
                    if !self.trusts(client) {
                        return client;
                    }
                }
                // A hop we cannot read: stop at the last address we could vouch for.
                Err(_) => return client,
            }
        }
        client
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) are the IPv4 address.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap_or_default()
    }

    fn count(attempts: i64, previous: Option<i64>) -> AttemptCount {
        AttemptCount {
            attempts,
            previous_at: previous.map(at),
        }
    }

    #[test]
    fn the_first_five_attempts_of_a_pair_are_evaluated_at_once() {
        for n in 1..=FREE_ATTEMPTS_PER_PAIR {
            let previous = (n > 1).then_some(0);
            assert_eq!(
                decide_log_in(count(n, previous), count(n, previous), at(0)),
                Decision::Evaluate
            );
        }
    }

    #[test]
    fn delays_grow_after_the_free_attempts_and_stop_at_fifteen_minutes() {
        let delays: Vec<i64> = (5..=12).map(|n| delay_before(n).num_seconds()).collect();
        assert_eq!(delays, vec![0, 1, 2, 4, 8, 16, 32, 64]);
        assert_eq!(delay_before(40), MAX_DELAY);
        assert_eq!(delay_before(i64::MAX), MAX_DELAY);
    }

    #[test]
    fn an_attempt_inside_its_delay_is_refused_with_the_time_left() {
        // The 8th attempt needs 4 s after the 7th; made after 1.5 s, 2.5 s are left → 3 s.
        let previous = at(100);
        let now = previous + Duration::milliseconds(1500);
        let pair = AttemptCount {
            attempts: 8,
            previous_at: Some(previous),
        };
        assert_eq!(
            decide_log_in(pair, count(8, Some(100)), now),
            Decision::Refuse {
                retry_after_secs: 3
            }
        );
        assert_eq!(
            decide_log_in(pair, count(8, Some(100)), previous + Duration::seconds(4)),
            Decision::Evaluate
        );
    }

    #[test]
    fn a_burst_gets_only_the_free_attempts_evaluated() {
        // 100 attempts in the same instant: the store numbers them 1..=100.
        let evaluated = (1..=100)
            .filter(|&n| {
                let previous = (n > 1).then_some(0);
                decide_log_in(count(n, previous), count(n, previous), at(0)) == Decision::Evaluate
            })
            .count();
        assert_eq!(evaluated, FREE_ATTEMPTS_PER_PAIR as usize);
    }

    #[test]
    fn an_address_over_its_budget_is_refused_for_the_window_whatever_the_account() {
        let decision = decide_log_in(count(1, None), count(51, Some(0)), at(10));
        assert_eq!(
            decision,
            Decision::Refuse {
                retry_after_secs: 900
            }
        );
    }

    #[test]
    fn sign_ups_are_budgeted_per_address() {
        assert_eq!(decide_sign_up(count(50, Some(0))), Decision::Evaluate);
        assert!(matches!(
            decide_sign_up(count(51, Some(0))),
            Decision::Refuse { .. }
        ));
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn forwarded_for_is_ignored_from_an_untrusted_peer() {
        let trusted = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap_or_default();
        assert_eq!(
            trusted.client_address(ip("203.0.113.9"), ["198.51.100.1"].into_iter()),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        let trusted = TrustedProxies::parse(&["127.0.0.1", "10.0.0.0/8"]).unwrap_or_default();
        // A client forged "1.1.1.1"; our edge proxy (10.0.0.2) appended the real address.
        let header = ["1.1.1.1, 198.51.100.7", "10.0.0.2"];
        assert_eq!(
            trusted.client_address(ip("127.0.0.1"), header.into_iter()),
            ip("198.51.100.7")
        );
        // No header: the proxy itself.
        assert_eq!(
            trusted.client_address(ip("::ffff:127.0.0.1"), std::iter::empty()),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn a_trusted_proxy_list_names_its_bad_entry() {
        let error = TrustedProxies::parse(&["10.0.0.0/8", "proxy.local"]).err();
        assert!(error.is_some_and(|e| e.contains("proxy.local")));
    }
}
