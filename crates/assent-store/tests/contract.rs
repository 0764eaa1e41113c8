//! Store contract tests: what every backend must do, run against real
//! databases — each test on SQLite and, in the PostgreSQL suite, on
//! PostgreSQL (`#[backends]`).

use std::sync::Arc;
use std::time::Duration;

use assent_domain::event::{ChainHead, verify_chain};
use assent_domain::request::{Placement, TimeoutLimits};
use assent_domain::timestamp::to_millis_precision;
use assent_domain::{
    CreateApproval, EventType, LifecycleError, Principal, ReviewRequest, Role, Status,
};
use assent_store::{
    ApprovalFilter, CreateOutcome, IdempotencyKey, Redemption, SigningKey, Store, StoreError,
};
use assent_store::{SqlStore, StoreOptions};
use assent_testdb::{Backend, TestDb, backends};
use time::OffsetDateTime;
use uuid::Uuid;

const LIMITS: TimeoutLimits = TimeoutLimits {
    default: Duration::from_secs(3600),
    max: Duration::from_secs(7 * 86400),
};

fn now() -> OffsetDateTime {
    to_millis_precision(OffsetDateTime::now_utc())
}

fn approver(name: &str) -> Principal {
    Principal {
        name: name.into(),
        role: Role::Approver,
        groups: vec![],
    }
}

fn new_approval(
    action: &str,
    requester: &str,
    timeout_seconds: Option<u64>,
) -> assent_domain::Approval {
    CreateApproval {
        action: action.into(),
        timeout_seconds,
        ..Default::default()
    }
    .into_pending(
        Uuid::now_v7(),
        requester,
        Placement::default(),
        LIMITS,
        now(),
    )
}

async fn create(store: &dyn Store, action: &str, requester: &str) -> assent_domain::Approval {
    match store
        .create_approval(new_approval(action, requester, None), None)
        .await
        .unwrap()
    {
        CreateOutcome::Created(a) => a,
        other => panic!("expected a new approval, got {other:?}"),
    }
}

async fn all_events(store: &dyn Store) -> Vec<assent_domain::Event> {
    store.events_after(0, 100_000).await.unwrap()
}

#[backends]
async fn create_get_and_list_with_filters_and_paging(backend: Backend) {
    let db = TestDb::create(backend, None).await;
    let store = SqlStore::open(db.url(), StoreOptions::default())
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..7 {
        let mut a = new_approval(if i % 2 == 0 { "deploy" } else { "shell" }, "bot", None);
        a.labels.insert(
            "team".into(),
            if i < 3 {
                "payments".into()
            } else {
                "infra".into()
            },
        );
        let CreateOutcome::Created(a) = store.create_approval(a, None).await.unwrap() else {
            panic!()
        };
        ids.push(a.id);
    }
    let got = store.get_approval(ids[0]).await.unwrap().unwrap();
    assert_eq!(
        (got.action.as_str(), got.status),
        ("deploy", Status::Pending)
    );
    assert!(store.get_approval(Uuid::now_v7()).await.unwrap().is_none());

    let mut seen = Vec::new();
    let mut filter = ApprovalFilter {
        limit: 3,
        ..Default::default()
    };
    loop {
        let page = store.list_approvals(&filter).await.unwrap();
        seen.extend(page.items.iter().map(|a| a.id));
        match page.next {
            Some(next) => filter.before = Some(next),
            None => break,
        }
    }
    let newest_first: Vec<Uuid> = ids.iter().rev().copied().collect();
    assert_eq!(
        seen, newest_first,
        "paging walks every approval once, newest first"
    );

    let deploys = ApprovalFilter {
        action: Some("deploy".into()),
        limit: 50,
        ..Default::default()
    };
    assert_eq!(store.list_approvals(&deploys).await.unwrap().items.len(), 4);
    let payments = ApprovalFilter {
        labels: vec![("team".into(), "payments".into())],
        limit: 50,
        ..Default::default()
    };
    assert_eq!(
        store.list_approvals(&payments).await.unwrap().items.len(),
        3
    );
    let both = ApprovalFilter {
        action: Some("shell".into()),
        ..payments.clone()
    };
    assert_eq!(store.list_approvals(&both).await.unwrap().items.len(), 1);
}

#[backends]
async fn idempotency_key_replays_same_body_and_refuses_another(backend: Backend) {
    let db = TestDb::create(backend, None).await;
    let store = SqlStore::open(db.url(), StoreOptions::default())
        .await
        .unwrap();
    let key = |body: &str| {
        Some(IdempotencyKey {
            key: "k1".into(),
            body_sha256: body.into(),
        })
    };
    let CreateOutcome::Created(first) = store
        .create_approval(new_approval("deploy", "bot", None), key("aaa"))
        .await
        .unwrap()
    else {
        panic!()
    };
    let CreateOutcome::Replayed(again) = store
        .create_approval(new_approval("deploy", "bot", None), key("aaa"))
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(first.id, again.id);
    let err = store
        .create_approval(new_approval("deploy", "bot", None), key("bbb"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::IdempotencyMismatch));
    // Keys are per requester.
    let other = store
        .create_approval(new_approval("deploy", "other-bot", None), key("bbb"))
        .await
        .unwrap();
    assert!(matches!(other, CreateOutcome::Created(a) if a.id != first.id));
    assert_eq!(
        all_events(&store).await.len(),
        2,
        "a replay or a mismatch writes nothing"
    );
}

#[backends]
async fn fifty_concurrent_reviews_make_exactly_one_decision(backend: Backend) {
    let db = TestDb::create(backend, None).await;
    let store: Arc<dyn Store> = Arc::new(
        SqlStore::open(db.url(), StoreOptions::default())
            .await
            .unwrap(),
    );
    let a = create(store.as_ref(), "deploy", "bot").await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let review = if i % 2 == 0 {
                ReviewRequest::approve()
            } else {
                ReviewRequest::reject()
            };
            store
                .review(a.id, approver(&format!("r{i}")), review, now())
                .await
        }));
    }
    let mut wins = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => wins += 1,
            Err(StoreError::Lifecycle(LifecycleError::AlreadyDecided(_))) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(wins, 1);
    let events = all_events(store.as_ref()).await;
    let decisions = events.iter().filter(|e| e.kind.is_terminal()).count();
    let reviews = events
        .iter()
        .filter(|e| e.kind == EventType::ApprovalReviewed)
        .count();
    assert_eq!((decisions, reviews), (1, 1));
    verify_chain(ChainHead::default(), &events).unwrap();
}

#[backends]
async fn a_commit_publishes_its_events_and_decisions(backend: Backend) {
    let db = TestDb::create(backend, None).await;
    let store = SqlStore::open(db.url(), StoreOptions::default())
        .await
        .unwrap();
    let mut changes = store.subscribe();
    let a = create(&store, "deploy", "bot").await;
    let requested = changes.recv().await.unwrap();
    assert_eq!(requested.events[0].kind, EventType::ApprovalRequested);
    assert!(requested.decided.is_empty());
    store
        .review(a.id, approver("alice"), ReviewRequest::approve(), now())
        .await
        .unwrap();
    let decided = changes.recv().await.unwrap();
    assert_eq!(decided.decided.len(), 1);
    assert_eq!(decided.decided[0].status, Status::Approved);
    assert_eq!(
        decided.events.iter().map(|e| e.kind).collect::<Vec<_>>(),
        [EventType::ApprovalReviewed, EventType::ApprovalApproved]
    );
}

#[backends]
async fn overdue_approvals_expire_and_refuse_reviews_with_expired(backend: Backend) {
    let db = TestDb::create(backend, None).await;
    let store = SqlStore::open(db.url(), StoreOptions::default())
        .await
        .unwrap();
    let a = match store
        .create_approval(new_approval("deploy", "bot", Some(1)), None)
        .await
        .unwrap()
    {
        CreateOutcome::Created(a) => a,
        _ => panic!(),
    };
    assert_eq!(store.next_deadline().await.unwrap(), Some(a.expires_at));
    assert!(
        store
            .expire_due(a.expires_at - time::Duration::milliseconds(1), 100)
            .await
            .unwrap()
            .is_empty()
    );
    // A review after the deadline records the expiry and is refused.
    let err = store
        .review(
            a.id,
            approver("alice"),
            ReviewRequest::approve(),
            a.expires_at,
        )
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::Lifecycle(LifecycleError::Expired)
    ));
    let stored = store.get_approval(a.id).await.unwrap().unwrap();
    assert_eq!(stored.status, Status::Expired);
    assert_eq!(store.next_deadline().await.unwrap(), None);
    assert!(
        store
            .expire_due(a.expires_at + time::Duration::hours(1), 100)
            .await
            .unwrap()
            .is_empty(),
        "expires once"
    );
}

#[backends]
async fn reopening_continues_the_chain(backend: Backend) {
    let db = TestDb::create(backend, None).await;
    {
        let store = SqlStore::open(db.url(), StoreOptions::default())
            .await
            .unwrap();
        create(&store, "deploy", "bot").await;
        create(&store, "deploy", "bot").await;
    }
    let store = SqlStore::open(db.url(), StoreOptions::default())
        .await
        .unwrap();
    create(&store, "shell", "bot").await;
    let events = all_events(&store).await;
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
    verify_chain(ChainHead::default(), &events).unwrap();
}

#[backends]
async fn token_names_are_unique_and_revocation_removes_the_token(backend: Backend) {
    let db = TestDb::create(backend, None).await;
    let store = SqlStore::open(db.url(), StoreOptions::default())
        .await
        .unwrap();
    let token = |hash: &str| assent_store::NewToken {
        name: "ci-bot".into(),
        token_sha256: hash.into(),
        role: Role::Agent,
        groups: vec!["ci".into()],
        created_by: "admin".into(),
    };
    let t = store.create_token(token("h1"), now()).await.unwrap();
    assert_eq!(store.token_by_hash("h1").await.unwrap(), Some(t));
    assert!(matches!(
        store.create_token(token("h2"), now()).await,
        Err(StoreError::Conflict(_))
    ));
    store.revoke_token("ci-bot", "admin", now()).await.unwrap();
    assert_eq!(store.token_by_hash("h1").await.unwrap(), None);
    assert!(matches!(
        store.revoke_token("ci-bot", "admin", now()).await,
        Err(StoreError::NotFound)
    ));
    let kinds: Vec<_> = all_events(&store).await.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [EventType::TokenCreated, EventType::TokenRevoked],
        "the failed create wrote nothing"
    );
}

#[backends]
async fn revoked_names_stay_taken_and_rotation_swaps_the_secret_at_once(backend: Backend) {
    let db = TestDb::create(backend, None).await;
    let store = SqlStore::open(db.url(), StoreOptions::default())
        .await
        .unwrap();
    let token = |name: &str, hash: &str| assent_store::NewToken {
        name: name.into(),
        token_sha256: hash.into(),
        role: Role::Approver,
        groups: vec!["sre".into()],
        created_by: "admin".into(),
    };
    store
        .create_token(token("gone", "g1"), now())
        .await
        .unwrap();
    store.revoke_token("gone", "admin", now()).await.unwrap();
    assert!(matches!(
        store.create_token(token("gone", "g2"), now()).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.rotate_token("gone", "g3", "admin", now()).await,
        Err(StoreError::NotFound)
    ));

    store
        .create_token(token("alice", "a1"), now())
        .await
        .unwrap();
    let before = all_events(&store).await.len();
    let rotated = store
        .rotate_token("alice", "a2", "root", now())
        .await
        .unwrap();
    assert_eq!(
        (rotated.name.as_str(), rotated.role, rotated.groups.clone()),
        ("alice", Role::Approver, vec!["sre".to_string()])
    );
    assert_eq!(store.token_by_hash("a1").await.unwrap(), None);
    assert_eq!(store.token_by_hash("a2").await.unwrap(), Some(rotated));
    let events = all_events(&store).await;
    let kinds: Vec<_> = events[before..].iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventType::TokenRevoked, EventType::TokenCreated]);
    assert!(events[before..].iter().all(|e| e.data["rotated"] == true));
    verify_chain(ChainHead::default(), &events).unwrap();
}

#[backends]
async fn an_approval_decided_before_it_is_stored_records_its_decision(backend: Backend) {
    let db = TestDb::create(backend, None).await;
    let store = SqlStore::open(db.url(), StoreOptions::default())
        .await
        .unwrap();
    let mut a = new_approval("shell", "bot", None);
    assent_domain::lifecycle::decide_by_policy(
        &mut a,
        false,
        Some("no-rm"),
        Some("never".into()),
        now(),
    );
    let CreateOutcome::Created(stored) = store.create_approval(a, None).await.unwrap() else {
        panic!()
    };
    assert_eq!(stored.status, Status::Rejected);
    let kinds: Vec<_> = all_events(&store)
        .await
        .iter()
        .map(|e| (e.kind, e.actor.clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            (EventType::ApprovalRequested, "bot".to_string()),
            (EventType::ApprovalRejected, "policy:no-rm".to_string())
        ]
    );
    assert_eq!(
        store.next_deadline().await.unwrap(),
        None,
        "nothing pending to expire"
    );
}

#[backends]
async fn grants_are_matched_without_side_effects_and_events_can_be_recorded_alone(
    backend: Backend,
) {
    let db = TestDb::create(backend, None).await;
    let store = SqlStore::open(db.url(), StoreOptions::default())
        .await
        .unwrap();
    let mut a = new_approval("deploy", "bot", None);
    a.session_id = Some("s1".into());
    let CreateOutcome::Created(a) = store.create_approval(a, None).await.unwrap() else {
        panic!()
    };
    let mut session = ReviewRequest::approve();
    session.scope = assent_domain::Scope::Session;
    store
        .review(a.id, approver("alice"), session, now())
        .await
        .unwrap();
    let hash = assent_domain::grant::args_sha256(&a.args);
    let request = |requester, session| assent_domain::grant::GrantRequest {
        action: "deploy",
        args: &a.args,
        args_sha256: &hash,
        requester,
        session_id: session,
    };
    let grant = store
        .matching_grant(&request("bot", Some("s1")), now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            grant.approval_id,
            grant.created_by.as_str(),
            grant.requester.as_deref()
        ),
        (a.id, "alice", Some("bot"))
    );
    for (requester, session) in [("bot", Some("s2")), ("agent-2", Some("s1"))] {
        assert!(
            store
                .matching_grant(&request(requester, session), now())
                .await
                .unwrap()
                .is_none(),
            "{requester} {session:?}"
        );
    }
    let before = all_events(&store).await.len();
    let reload = assent_domain::NewEvent {
        kind: EventType::PolicyReloaded,
        actor: "admin".into(),
        approval_id: None,
        data: serde_json::json!({"rules": 3}),
    };
    store.record_event(reload, now()).await.unwrap();
    let events = all_events(&store).await;
    assert_eq!(
        (events.len(), events.last().unwrap().kind),
        (before + 1, EventType::PolicyReloaded)
    );
    verify_chain(ChainHead::default(), &events).unwrap();
}

/// The shared signing key: race-safe across instances and durable.
fn candidate(kid: &str) -> SigningKey {
    SigningKey {
        kid: kid.into(),
        private_key: format!("private-{kid}"),
        public_key: format!("public-{kid}"),
        created_at: to_millis_precision(OffsetDateTime::now_utc()),
    }
}

#[backends]
async fn racing_first_starts_all_get_the_same_key_and_it_stays(backend: Backend) {
    // Two stores on one database stand in for two gateways.
    let db = TestDb::create(backend, None).await;
    let a = SqlStore::open(db.url(), StoreOptions::default())
        .await
        .unwrap();
    let b = SqlStore::open(db.url(), StoreOptions::default())
        .await
        .unwrap();
    let (ka, kb) = tokio::join!(
        a.ensure_signing_key(candidate("a")),
        b.ensure_signing_key(candidate("b"))
    );
    let (ka, kb) = (ka.unwrap(), kb.unwrap());
    assert_eq!(ka, kb, "one key for every instance");
    assert!(["a", "b"].contains(&ka.kid.as_str()));
    drop((a, b));

    let reopened = SqlStore::open(db.url(), StoreOptions::default())
        .await
        .unwrap();
    assert_eq!(
        reopened.ensure_signing_key(candidate("c")).await.unwrap(),
        ka
    );
}

#[backends]
async fn a_receipt_is_spent_once_whichever_instance_redeems_it(backend: Backend) {
    // Two stores on one database stand in for two gateways.
    let db = TestDb::create(backend, None).await;
    let a = SqlStore::open(db.url(), StoreOptions::default())
        .await
        .unwrap();
    let b = SqlStore::open(db.url(), StoreOptions::default())
        .await
        .unwrap();
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

#[backends]
async fn sessions_are_found_by_hash_until_they_expire_or_end(backend: Backend) {
    let db = TestDb::create(backend, None).await;
    let store = SqlStore::open(db.url(), StoreOptions::default())
        .await
        .unwrap();
    let at = now();
    let session =
        |id: &str, created_at: OffsetDateTime, ttl: time::Duration| assent_store::Session {
            id_sha256: id.into(),
            token_sha256: "t1".into(),
            principal: "alice".into(),
            created_at,
            expires_at: created_at + ttl,
        };
    let short = session("s-short", at, time::Duration::seconds(1));
    store.create_session(short.clone()).await.unwrap();
    store
        .create_session(session("s-long", at, time::Duration::hours(1)))
        .await
        .unwrap();
    assert_eq!(
        store.session_by_hash("s-short", at).await.unwrap(),
        Some(short)
    );
    assert_eq!(store.session_by_hash("nope", at).await.unwrap(), None);
    let later = at + time::Duration::seconds(2);
    assert_eq!(
        store.session_by_hash("s-short", later).await.unwrap(),
        None,
        "expired"
    );
    assert!(
        store
            .session_by_hash("s-long", later)
            .await
            .unwrap()
            .is_some()
    );

    store.delete_session("s-long").await.unwrap();
    assert_eq!(store.session_by_hash("s-long", at).await.unwrap(), None);
    assert!(matches!(
        store.delete_session("s-long").await,
        Err(StoreError::NotFound)
    ));
    // A new session clears the expired ones out of the table.
    store
        .create_session(session("s-new", later, time::Duration::hours(1)))
        .await
        .unwrap();
    assert!(matches!(
        store.delete_session("s-short").await,
        Err(StoreError::NotFound)
    ));
    assert!(
        all_events(&store).await.is_empty(),
        "sessions write no events"
    );
}

#[backends]
async fn an_approvals_events_are_its_timeline(backend: Backend) {
    let db = TestDb::create(backend, None).await;
    let store = SqlStore::open(db.url(), StoreOptions::default())
        .await
        .unwrap();
    let a = create(&store, "deploy", "bot").await;
    let b = create(&store, "deploy", "bot").await;
    store
        .review(a.id, approver("alice"), ReviewRequest::approve(), now())
        .await
        .unwrap();
    let timeline = store.approval_events(a.id).await.unwrap();
    let kinds: Vec<_> = timeline.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventType::ApprovalRequested,
            EventType::ApprovalReviewed,
            EventType::ApprovalApproved
        ]
    );
    assert!(timeline.iter().all(|e| e.approval_id == Some(a.id)));
    assert_eq!(store.approval_events(b.id).await.unwrap().len(), 1);
    assert!(
        store
            .approval_events(Uuid::now_v7())
            .await
            .unwrap()
            .is_empty()
    );
}

#[cfg(not(postgres_suite))]
#[test]
fn postgres_suite_skipped() {
    assent_testdb::report_postgres_suite_skipped("store contract");
}

/// Two stores on one PostgreSQL database behave as one: every commit on
/// either reaches both feeds once, in `seq` order, with no gaps; racing
/// reviews through both make one decision; the chain stays one chain.
#[cfg(postgres_suite)]
#[tokio::test]
async fn two_instances_share_one_gapless_chain_and_feed() {
    let db = TestDb::create(Backend::Postgres, None).await;
    let a: Arc<dyn Store> = Arc::new(
        SqlStore::open(db.url(), StoreOptions::default())
            .await
            .unwrap(),
    );
    let b: Arc<dyn Store> = Arc::new(
        SqlStore::open(db.url(), StoreOptions::default())
            .await
            .unwrap(),
    );
    let mut feed_b = b.subscribe();
    let mut feed_a = a.subscribe();

    let mut creates = Vec::new();
    for i in 0..40 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        creates.push(tokio::spawn(async move {
            create(store.as_ref(), "deploy", "bot").await
        }));
    }
    let mut ids = Vec::new();
    for c in creates {
        ids.push(c.await.unwrap().id);
    }
    let target = ids[0];
    let (on_a, on_b) = tokio::join!(
        a.review(target, approver("alice"), ReviewRequest::approve(), now()),
        b.review(target, approver("bob"), ReviewRequest::reject(), now()),
    );
    assert_eq!(
        [on_a.is_ok(), on_b.is_ok()]
            .iter()
            .filter(|ok| **ok)
            .count(),
        1,
        "one of two racing reviews decides: {on_a:?} {on_b:?}"
    );

    let events = all_events(a.as_ref()).await;
    verify_chain(ChainHead::default(), &events).unwrap();
    let last = events.last().unwrap().seq;
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=last).collect::<Vec<_>>(),
        "seq is gapless across instances"
    );
    for (name, feed) in [("a", &mut feed_a), ("b", &mut feed_b)] {
        let mut seen = Vec::new();
        let mut decided = Vec::new();
        while seen.last() != Some(&last) {
            let notice = tokio::time::timeout(Duration::from_secs(10), feed.recv())
                .await
                .unwrap_or_else(|_| panic!("feed {name} stalled after {seen:?}"))
                .unwrap();
            seen.extend(notice.events.iter().map(|e| e.seq));
            decided.extend(notice.decided.iter().map(|a| a.id));
        }
        assert_eq!(seen, (1..=last).collect::<Vec<_>>(), "feed {name}");
        assert_eq!(decided, [target], "feed {name} carries the decision");
    }
}

/// A database migrated before a migration's comment was reworded records the
/// earlier text's checksum; it still opens, with its data.
#[backends]
async fn a_database_migrated_with_earlier_migration_text_still_opens(backend: Backend) {
    let db = TestDb::create(backend, None).await;
    let store = SqlStore::open(db.url(), StoreOptions::default())
        .await
        .unwrap();
    let kept = create(&store, "deploy", "bot").await;
    drop(store);

    let earlier = match backend {
        Backend::Sqlite => {
            "UPDATE _sqlx_migrations SET checksum = X'a37f5db57c44b22856f940241427fd2a2bf8931fc765af1fa29b52f0201f43f9c4f869cb38eecabb185f55b8d8fbc32c' WHERE version = 20261122000002"
        }
        Backend::Postgres => {
            "UPDATE _sqlx_migrations SET checksum = '\\x53c5bc496e2407cb339b43b2268f24301da222e28ec0d473c6ecd125c12ca5afb6a6a8bc05b5edf0b0af5db7d932e5da'::bytea WHERE version = 20261122000002"
        }
    };
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(db.url())
        .await
        .unwrap();
    sqlx::Executor::execute(&mut conn, earlier).await.unwrap();
    sqlx::Connection::close(conn).await.unwrap();

    let store = SqlStore::open(db.url(), StoreOptions::default())
        .await
        .unwrap();
    assert_eq!(store.get_approval(kept.id).await.unwrap(), Some(kept));
}
