//! The signing key and spent receipts. Both are written through the writer
//! and both are race-safe across instances by their unique constraints:
//! concurrent first starts insert-if-absent and read back one active key;
//! concurrent redemptions of one receipt insert-if-absent and only one wins.

use assent_domain::timestamp::{from_unix_millis, unix_millis};
use async_trait::async_trait;
use sqlx::Row;

use super::change::{Applied, Change, WriteCtx, refuse};
use crate::{Redemption, SigningKey, StoreError};

/// Makes `candidate` the active signing key unless there already is one,
/// and answers with whichever is active.
pub(crate) struct EnsureSigningKey {
    pub candidate: SigningKey,
}

#[async_trait]
impl Change for EnsureSigningKey {
    type Output = SigningKey;

    async fn apply(self, ctx: &mut WriteCtx) -> Applied<SigningKey> {
        let key = self.candidate;
        sqlx::query(
            "INSERT INTO signing_keys (kid, private_key, public_key, created_at, active) \
             VALUES ($1, $2, $3, $4, 1) ON CONFLICT DO NOTHING",
        )
        .bind(&key.kid)
        .bind(&key.private_key)
        .bind(&key.public_key)
        .bind(unix_millis(key.created_at))
        .execute(&mut ctx.conn)
        .await?;
        let row = sqlx::query(
            "SELECT kid, private_key, public_key, created_at FROM signing_keys WHERE active = 1",
        )
        .fetch_one(&mut ctx.conn)
        .await?;
        Ok(SigningKey {
            kid: row.try_get("kid")?,
            private_key: row.try_get("private_key")?,
            public_key: row.try_get("public_key")?,
            created_at: from_unix_millis(row.try_get("created_at")?),
        })
    }
}

/// Spends a receipt; refused with `Conflict` when it was spent before.
pub(crate) struct RedeemReceipt {
    pub redemption: Redemption,
}

#[async_trait]
impl Change for RedeemReceipt {
    type Output = ();

    async fn apply(self, ctx: &mut WriteCtx) -> Applied<()> {
        let r = self.redemption;
        let inserted = sqlx::query(
            "INSERT INTO redeemed_receipts (jti, approval_id, redeemed_by, redeemed_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (jti) DO NOTHING",
        )
        .bind(&r.jti)
        .bind(r.approval_id.to_string())
        .bind(&r.redeemed_by)
        .bind(unix_millis(r.redeemed_at))
        .execute(&mut ctx.conn)
        .await?;
        if inserted.rows_affected() == 0 {
            return refuse(StoreError::Conflict(
                "this receipt was already redeemed".into(),
            ));
        }
        Ok(())
    }
}
