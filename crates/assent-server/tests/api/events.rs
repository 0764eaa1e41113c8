//! Server-Sent Events: history then live, resume without gaps or duplicates,
//! agents see only their own approvals' events.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, assert_chain_verifies};
use assent_testdb::{Backend, backends};

/// A connected SSE stream, parsed frame by frame.
struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    async fn open(
        app: &TestApp,
        token: &str,
        query: &str,
        last_event_id: Option<i64>,
    ) -> EventStream {
        let mut req = app
            .http
            .get(app.url(&format!("/v1/events{query}")))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let response = req.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        EventStream {
            response,
            buffer: String::new(),
        }
    }

    /// The next event frame as (id, event type, data), or None if none comes within `within`.
    async fn next(&mut self, within: Duration) -> Option<(i64, String, Value)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut kind, mut data) = (None, None, String::new());
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = Some(v.trim().parse().unwrap());
                    } else if let Some(v) = line.strip_prefix("event:") {
                        kind = Some(v.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                match (id, kind) {
                    (Some(id), Some(kind)) => {
                        return Some((id, kind, serde_json::from_str(&data).unwrap()));
                    }
                    _ => continue, // a heartbeat comment
                }
            }
            match tokio::time::timeout(within, self.response.chunk()).await {
                Ok(Ok(Some(chunk))) => self.buffer.push_str(std::str::from_utf8(&chunk).unwrap()),
                _ => return None,
            }
        }
    }

    async fn take(&mut self, n: usize) -> Vec<(i64, String, Value)> {
        let mut got = Vec::new();
        while got.len() < n {
            match self.next(Duration::from_secs(5)).await {
                Some(frame) => got.push(frame),
                None => panic!("expected {n} events, got {}: {got:?}", got.len()),
            }
        }
        got
    }
}

const QUIET: Duration = Duration::from_millis(300);

#[backends]
async fn history_then_live_in_seq_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    let before = app.event_count().await as i64;
    let mut stream = EventStream::open(&app, &app.approver, "?after=0", None).await;
    let history = stream.take(before as usize).await;
    assert_eq!(
        history.iter().map(|(id, ..)| *id).collect::<Vec<_>>(),
        (1..=before).collect::<Vec<_>>()
    );
    app.review(&app.approver, &first, "approve").await;
    let live = stream.take(2).await;
    assert_eq!(
        (live[0].0, live[0].1.as_str(), live[1].1.as_str()),
        (before + 1, "approval.reviewed", "approval.approved")
    );
    assert_eq!(live[1].2["approval_id"], first.as_str());
    let all: Vec<Value> = history
        .iter()
        .chain(&live)
        .map(|(_, _, data)| data.clone())
        .collect();
    assert_chain_verifies(&all);
}

#[backends]
async fn without_a_starting_point_the_stream_begins_with_the_next_event(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(&app.agent, json!({"action": "old"})).await;
    let mut stream = EventStream::open(&app, &app.approver, "", None).await;
    tokio::time::sleep(QUIET).await;
    app.create(&app.agent, json!({"action": "new"})).await;
    let (_, kind, data) = stream.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        (kind.as_str(), data["data"]["approval"]["action"].as_str()),
        ("approval.requested", Some("new"))
    );
}

#[backends]
async fn resuming_with_last_event_id_sends_exactly_the_missed_events_even_across_a_restart(
    backend: Backend,
) {
    let mut app = TestApp::spawn(backend).await;
    let mut stream = EventStream::open(&app, &app.approver, "?after=0", None).await;
    let seen = app.event_count().await;
    let mut frames = stream.take(seen).await;
    let last_seen = frames.last().unwrap().0;
    drop(stream);
    for i in 0..3 {
        app.create(&app.agent, json!({"action": format!("missed-{i}")}))
            .await;
    }
    app.restart().await;
    app.create(&app.agent, json!({"action": "after-restart"}))
        .await;

    let mut resumed = EventStream::open(&app, &app.approver, "", Some(last_seen)).await;
    let missed = resumed.take(4).await;
    let ids: Vec<i64> = missed.iter().map(|(id, ..)| *id).collect();
    assert_eq!(
        ids,
        (last_seen + 1..=last_seen + 4).collect::<Vec<_>>(),
        "in order, no gaps"
    );
    let actions: Vec<&str> = missed
        .iter()
        .map(|(_, _, d)| d["data"]["approval"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["missed-0", "missed-1", "missed-2", "after-restart"]
    );
    assert!(resumed.next(QUIET).await.is_none(), "no duplicates");
    frames.extend(missed);
    assert_chain_verifies(&frames.into_iter().map(|(_, _, d)| d).collect::<Vec<_>>());
}

#[backends]
async fn agents_see_only_their_own_approvals_events(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut mine = EventStream::open(&app, &app.agent, "?after=0", None).await;
    let other = app
        .create_id(&app.other_agent, json!({"action": "theirs"}))
        .await;
    let own = app.create_id(&app.agent, json!({"action": "mine"})).await;
    app.review(&app.approver, &other, "approve").await;
    app.review(&app.approver, &own, "reject").await;
    app.token("late", "agent", &[]).await;
    let frames = mine.take(3).await;
    assert!(
        frames
            .iter()
            .all(|(_, _, d)| d["approval_id"] == own.as_str()),
        "{frames:?}"
    );
    assert_eq!(
        frames
            .iter()
            .map(|(_, k, _)| k.as_str())
            .collect::<Vec<_>>(),
        [
            "approval.requested",
            "approval.reviewed",
            "approval.rejected"
        ]
    );
    assert!(
        mine.next(QUIET).await.is_none(),
        "nothing about others' approvals or tokens"
    );
}

#[backends]
async fn types_filter_the_stream_and_bad_parameters_are_named(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut decisions = EventStream::open(
        &app,
        &app.approver,
        "?after=0&types=approval.approved,approval.rejected",
        None,
    )
    .await;
    let a = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    app.review(&app.approver, &a, "approve").await;
    let (_, kind, _) = decisions.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(kind, "approval.approved");
    assert!(decisions.next(QUIET).await.is_none());
    for (query, field) in [
        ("?types=approval.nope", "types"),
        ("?after=-3", "after"),
        ("?after=x", "after"),
        ("?since=1", "since"),
    ] {
        let (status, problem) = app
            .call(
                Method::GET,
                &format!("/v1/events{query}"),
                &app.approver,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(
            problem["detail"].as_str().unwrap().starts_with(field),
            "{problem}"
        );
    }
    assert_eq!(
        app.call(Method::GET, "/v1/events", "", None).await.0,
        StatusCode::UNAUTHORIZED
    );
}
