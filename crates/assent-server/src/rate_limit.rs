//! Rate limits (GCRA, from `governor`): failed authentications per client
//! address, and optionally requests per token. Keys that have recovered
//! their full allowance are forgotten every [`PURGE_EVERY`], so memory stays
//! bounded by the addresses and tokens active in the last minute or so.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

/// How often recovered keys are dropped.
const PURGE_EVERY: Duration = Duration::from_secs(30);

pub struct RateLimits {
    failed_auth: Option<DefaultKeyedRateLimiter<IpAddr>>,
    per_token: Option<DefaultKeyedRateLimiter<String>>,
}

impl RateLimits {
    /// `failed_auth_per_minute` and `token_requests_per_second`; 0 turns a limit off.
    pub fn new(failed_auth_per_minute: u32, token_requests_per_second: u32) -> RateLimits {
        RateLimits {
            failed_auth: NonZeroU32::new(failed_auth_per_minute)
                .map(|n| RateLimiter::keyed(Quota::per_minute(n))),
            per_token: NonZeroU32::new(token_requests_per_second)
                .map(|n| RateLimiter::keyed(Quota::per_second(n))),
        }
    }

    /// Records a failed authentication from `client`: `Ok` while it is within
    /// the limit, else 429 saying when to retry.
    pub fn failed_auth(&self, client: IpAddr) -> Result<(), ApiError> {
        let Some(limiter) = &self.failed_auth else {
            return Ok(());
        };
        limiter.check_key(&network(client)).map_err(|not_until| {
            ApiError::TooManyRequests(
                "too many failed authentications from this address; retry later".into(),
                not_until.wait_time_from(DefaultClock::default().now()),
            )
        })
    }

    /// Counts one request of `principal` against the per-token rate.
    pub fn request(&self, principal: &str) -> Result<(), ApiError> {
        let Some(limiter) = &self.per_token else {
            return Ok(());
        };
        // Keyed by an owned name only when the limit is on.
        limiter
            .check_key(&principal.to_owned())
            .map_err(|not_until| {
                ApiError::TooManyRequests(
                    "this token is over its request rate (token_requests_per_second); retry later"
                        .into(),
                    not_until.wait_time_from(DefaultClock::default().now()),
                )
            })
    }

    fn purge(&self) {
        if let Some(limiter) = &self.failed_auth {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        if let Some(limiter) = &self.per_token {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// How many keys are remembered (failed-auth addresses, tokens).
    #[cfg(test)]
    pub fn keys(&self) -> (usize, usize) {
        (
            self.failed_auth.as_ref().map_or(0, |l| l.len()),
            self.per_token.as_ref().map_or(0, |l| l.len()),
        )
    }
}

/// An IPv6 client is keyed by its /64, which one host usually owns whole.
fn network(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(prefix.into())
            }
        },
    }
}

/// Drops recovered keys every [`PURGE_EVERY`].
pub async fn purge(limits: Arc<RateLimits>) {
    let mut every = tokio::time::interval(PURGE_EVERY);
    loop {
        every.tick().await;
        limits.purge();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_beyond_the_limit_are_refused_per_address_and_purged_when_recovered() {
        let limits = RateLimits::new(3, 0);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            limits.failed_auth(a).unwrap();
        }
        match limits.failed_auth(a) {
            Err(ApiError::TooManyRequests(_, wait)) => {
                assert!(wait > Duration::ZERO && wait <= Duration::from_secs(20));
            }
            other => panic!("expected 429, got {other:?}"),
        }
        limits.failed_auth(b).unwrap();
        assert_eq!(limits.keys(), (2, 0));
        assert!(limits.request("anyone").is_ok(), "per-token limit is off");
    }

    #[test]
    fn an_ipv6_host_is_keyed_by_its_64() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let two: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        assert_eq!(network(one), network(two));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(network(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn the_per_token_rate_refuses_the_burst_beyond_its_size() {
        let limits = RateLimits::new(0, 2);
        assert!(limits.request("bot").is_ok());
        assert!(limits.request("bot").is_ok());
        assert!(matches!(
            limits.request("bot"),
            Err(ApiError::TooManyRequests(..))
        ));
        assert!(limits.request("other").is_ok());
        assert!(limits.failed_auth("192.0.2.1".parse().unwrap()).is_ok());
    }
}
