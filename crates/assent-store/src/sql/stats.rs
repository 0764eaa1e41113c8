//! The read behind `GET /v1/stats`. Portable SQL only (`$n` placeholders,
//! no dialect functions), so other backends can run the same text.

use assent_domain::timestamp::unix_millis;
use sqlx::AnyPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::approvals;
use crate::{StatsSample, StoreError};

pub async fn sample(
    readers: &AnyPool,
    since: OffsetDateTime,
    limit: u32,
) -> Result<StatsSample, StoreError> {
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM approvals WHERE status = $1")
        .bind("pending")
        .fetch_one(readers)
        .await?;
    let mut approvals = Vec::new();
    let mut truncated = false;
    if limit > 0 {
        // Ids are UUIDv7, so "created since" is a range of the primary key.
        let docs: Vec<String> = sqlx::query_scalar(
            "SELECT doc FROM approvals WHERE id >= $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(first_id_at(since).to_string())
        .bind(i64::from(limit) + 1)
        .fetch_all(readers)
        .await?;
        truncated = docs.len() > limit as usize;
        approvals = docs
            .iter()
            .take(limit as usize)
            .map(|doc| approvals::from_doc(doc))
            .collect::<Result<_, _>>()?;
    }
    Ok(StatsSample {
        pending: u64::try_from(pending).unwrap_or_default(),
        approvals,
        truncated,
    })
}

/// The smallest UUIDv7 made at `at`: its timestamp bits, everything else zero.
fn first_id_at(at: OffsetDateTime) -> Uuid {
    let millis = u128::try_from(unix_millis(at)).unwrap_or_default();
    Uuid::from_u128(millis << 80)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_made_at_or_after_the_instant_sort_after_its_first_id() {
        let at = OffsetDateTime::now_utc();
        let bound = first_id_at(at).to_string();
        let later = Uuid::now_v7().to_string();
        assert!(later >= bound, "{later} < {bound}");
        let earlier = first_id_at(at - time::Duration::milliseconds(1)).to_string();
        assert!(earlier < bound);
    }
}
