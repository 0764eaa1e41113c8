//! The one clock of the gateway.

use time::OffsetDateTime;

/// The current time at the precision the whole system uses (milliseconds,
/// as stored), so a value read back equals the value written.
pub fn now() -> OffsetDateTime {
    assent_domain::timestamp::to_millis_precision(OffsetDateTime::now_utc())
}
