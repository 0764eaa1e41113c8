//! The shared signing key and spent receipts: race-safe across instances
//! (two stores on one database stand in for two gateways) and durable.

use assent_domain::timestamp::to_millis_precision;
use assent_store::sqlite::SqliteStore;
use assent_store::{Redemption, SigningKey, Store, StoreError};
use time::OffsetDateTime;
use uuid::Uuid;

fn candidate(kid: &str) -> SigningKey {
    SigningKey {
        kid: kid.into(),
        private_key: format!("private-{kid}"),
        public_key: format!("public-{kid}"),
        created_at: to_millis_precision(OffsetDateTime::now_utc()),
    }
}

#[tokio::test]
async fn racing_first_starts_all_get_the_same_key_and_it_stays() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("assent.db").display());
    let a = SqliteStore::open(&url).await.unwrap();
    let b = SqliteStore::open(&url).await.unwrap();
    let (ka, kb) = tokio::join!(
        a.ensure_signing_key(candidate("a")),
        b.ensure_signing_key(candidate("b"))
    );
    let (ka, kb) = (ka.unwrap(), kb.unwrap());
    assert_eq!(ka, kb, "one key for every instance");
    assert!(["a", "b"].contains(&ka.kid.as_str()));
    drop((a, b));

    let reopened = SqliteStore::open(&url).await.unwrap();
    assert_eq!(
        reopened.ensure_signing_key(candidate("c")).await.unwrap(),
        ka
    );
}

#[tokio::test]
async fn a_receipt_is_spent_once_whichever_instance_redeems_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("assent.db").display());
    let a = SqliteStore::open(&url).await.unwrap();
    let b = SqliteStore::open(&url).await.unwrap();
    let redemption = |by: &str| Redemption {
        jti: "jti-1".into(),
        approval_id: Uuid::nil(),
        redeemed_by: by.into(),
        redeemed_at: to_millis_precision(OffsetDateTime::now_utc()),
    };
    let (ra, rb) = tokio::join!(
        a.redeem_receipt(redemption("a")),
        b.redeem_receipt(redemption("b"))
    );
    let outcomes = [ra, rb];
    assert_eq!(
        outcomes.iter().filter(|r| r.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .any(|r| matches!(r, Err(StoreError::Conflict(_))))
    );
}
