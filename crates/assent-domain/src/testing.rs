//! Fixtures shared by the domain's unit tests.

use std::time::Duration;

use time::OffsetDateTime;

use crate::principal::{Principal, Role};
use crate::request::TimeoutLimits;
use crate::timestamp::from_unix_millis;

pub const LIMITS: TimeoutLimits = TimeoutLimits {
    default: Duration::from_secs(60),
    max: Duration::from_secs(3600),
};

/// A fixed instant plus `secs` seconds.
pub fn t(secs: i64) -> OffsetDateTime {
    from_unix_millis(1_795_000_000_000 + secs * 1000)
}

pub fn who(name: &str, role: Role, groups: &[&str]) -> Principal {
    Principal {
        name: name.into(),
        role,
        groups: groups.iter().map(|g| g.to_string()).collect(),
    }
}
