//! `wake` and `wake-pg`: N long-poll waiters, each approval decided in
//! turn; the time from the decision call returning to its waiter being
//! answered. `wake-pg` runs two instances on one PostgreSQL database,
//! waiters on B and decisions on A.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::ctx::{Ctx, SCENARIO_WAKE, SCENARIO_WAKE_PG};
use crate::error::Error;
use crate::figure::{Figure, Report, Target, percentile_ms};
use crate::gateway::{Gateway, Settings};

pub async fn sqlite(ctx: &Ctx, report: &mut Report) -> Result<(), Error> {
    let gateway = Gateway::start(&ctx.assent, Settings::default()).await?;
    println!("wake: {} waiters, SQLite", ctx.waiters);
    let (after_return, after_send) = wake_up(&gateway, &gateway, ctx.waiters).await?;
    let figure = |name: &str, value, target| {
        Figure::new(
            SCENARIO_WAKE,
            format!("decision returned → waiter answered, {name}"),
            value,
            "ms",
            target,
        )
    };
    report.add(figure(
        "p50",
        percentile_ms(&after_return, 50.0),
        Target::AtMost(1.0),
    ));
    report.add(figure(
        "p99",
        percentile_ms(&after_return, 99.0),
        Target::AtMost(5.0),
    ));
    report.add(Figure::new(
        SCENARIO_WAKE,
        "review sent → waiter answered, p99",
        percentile_ms(&after_send, 99.0),
        "ms",
        Target::None,
    ));
    Ok(())
}

pub async fn postgres(ctx: &Ctx, server: &str, report: &mut Report) -> Result<(), Error> {
    let db = assent_testdb::TestDb::postgres(server).await;
    let on_postgres = || Settings {
        database_url: Some(db.url().to_owned()),
        ..Settings::default()
    };
    let a = Gateway::start(&ctx.assent, on_postgres()).await?;
    let b = Gateway::start(
        &ctx.assent,
        Settings {
            tokens: Some(a.tokens.clone()),
            ..on_postgres()
        },
    )
    .await?;
    println!(
        "wake-pg: {} waiters on instance B, decisions on instance A, one PostgreSQL database",
        ctx.waiters
    );
    let (after_return, after_send) = wake_up(&a, &b, ctx.waiters).await?;
    for (figure, value, target) in [
        (
            "decision on A returned → waiter on B answered, p50",
            percentile_ms(&after_return, 50.0),
            Target::None,
        ),
        (
            "decision on A returned → waiter on B answered, p99",
            percentile_ms(&after_return, 99.0),
            Target::AtMost(20.0),
        ),
        (
            "review sent to A → waiter on B answered, p99",
            percentile_ms(&after_send, 99.0),
            Target::None,
        ),
    ] {
        report.add(Figure::new(SCENARIO_WAKE_PG, figure, value, "ms", target));
    }
    Ok(())
}

/// Waiters long-poll on `waiting`; each approval is decided on `deciding`.
/// Returns, sorted, the times from each review's answer to its waiter's
/// answer (0 when the waiter was answered first), and from each review
/// being sent.
async fn wake_up(
    deciding: &Gateway,
    waiting: &Gateway,
    waiters: usize,
) -> Result<(Vec<Duration>, Vec<Duration>), Error> {
    let http = crate::load::client(waiters + 16)?;
    let mut ids = Vec::with_capacity(waiters);
    for _ in 0..waiters {
        ids.push(crate::gateway::create_one(&http, deciding, "bench.deploy").await?);
    }
    let mut answered = Vec::with_capacity(waiters);
    for id in &ids {
        let request = http
            .get(format!("{}/v1/approvals/{id}?wait=300s", waiting.url))
            .bearer_auth(&waiting.tokens.agent);
        answered.push(tokio::spawn(async move {
            let response = request.send().await?.error_for_status()?;
            let at = Instant::now();
            let body: Value = response.json().await?;
            Ok::<_, Error>((at, body["status"].as_str().unwrap_or_default().to_owned()))
        }));
    }
    crate::waiters::until_waiting(&http, waiting, waiters).await?;
    let mut after_return = Vec::with_capacity(waiters);
    let mut after_send = Vec::with_capacity(waiters);
    for (id, waiter) in ids.iter().zip(answered) {
        let sent = Instant::now();
        crate::gateway::approve(&http, &deciding.url, &deciding.tokens.approver, id).await?;
        let returned = Instant::now();
        let (at, status) = waiter.await??;
        if status != "approved" {
            return Err(format!("a waiter was answered {status}").into());
        }
        after_return.push(at.saturating_duration_since(returned));
        after_send.push(at - sent);
    }
    after_return.sort();
    after_send.sort();
    Ok((after_return, after_send))
}
