//! `waiters`: many concurrent long-polls held by one gateway (its memory),
//! and how soon all are answered after a bulk decision: every approval
//! approved by concurrent reviewers as fast as the gateway takes them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::ctx::{Ctx, SCENARIO_WAITERS as SCENARIO};
use crate::error::Error;
use crate::figure::{Figure, Report, Target, percentile_ms};
use crate::gateway::{Gateway, Settings};
use crate::process_stats::rss_mb;

/// How long the gateway may take to register every long-poll.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(120);

pub async fn run(ctx: &Ctx, report: &mut Report) -> Result<(), Error> {
    let n = ctx.many_waiters;
    println!(
        "waiters: {n} concurrent long-polls from this process; bulk decision by {} reviewers",
        ctx.clients
    );
    let gateway = Gateway::start(&ctx.assent, Settings::default()).await?;
    let http = crate::load::client(ctx.clients)?;
    let ids = Arc::new(create_many(&http, &gateway, n, ctx.clients).await?);
    let (idle_rss, _) = rss_mb(gateway.pid())?;

    // One connection per long-poll, as separate agents would hold them.
    let pollers = crate::load::client(n)?;
    let answered: Vec<_> = ids
        .iter()
        .map(|id| {
            let request = pollers
                .get(format!("{}/v1/approvals/{id}?wait=600s", gateway.url))
                .bearer_auth(&gateway.tokens.agent);
            tokio::spawn(async move {
                let response = request.send().await?.error_for_status()?;
                let body: Value = response.json().await?;
                let at = Instant::now();
                match body["status"].as_str() {
                    Some("approved") => Ok::<_, Error>(at),
                    other => Err(format!("a waiter was answered {other:?}").into()),
                }
            })
        })
        .collect();
    until_waiting(&http, &gateway, n).await?;
    let (holding_rss, _) = rss_mb(gateway.pid())?;

    let returned = Arc::new(Mutex::new(vec![None; n]));
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let reviewers: Vec<_> = (0..ctx.clients)
        .map(|_| {
            let (http, ids, returned, next) =
                (http.clone(), ids.clone(), returned.clone(), next.clone());
            let url = gateway.url.clone();
            let approver = gateway.tokens.approver.clone();
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(id) = ids.get(i) else {
                        return Ok::<_, Error>(());
                    };
                    crate::gateway::approve(&http, &url, &approver, id).await?;
                    returned.lock().unwrap_or_else(PoisonError::into_inner)[i] =
                        Some(Instant::now());
                }
            })
        })
        .collect();
    for reviewer in reviewers {
        reviewer.await??;
    }
    let decided = Instant::now();
    let mut last_answer = started;
    let mut after_own_review = Vec::with_capacity(n);
    // Every reviewer has finished: the times are final.
    let returned = returned
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    for (waiter, review) in answered.into_iter().zip(returned.iter()) {
        let at = waiter.await??;
        last_answer = last_answer.max(at);
        if let Some(review) = review {
            after_own_review.push(at.saturating_duration_since(*review));
        }
    }
    after_own_review.sort();
    let (_, peak_rss) = rss_mb(gateway.pid())?;
    drop(gateway);

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    for (figure, value, unit, target) in [
        (
            "gateway RSS, idle with the approvals".to_owned(),
            idle_rss,
            "MB",
            Target::None,
        ),
        (
            format!("gateway RSS holding {n} long-polls"),
            holding_rss,
            "MB",
            Target::AtMost(250.0),
        ),
        ("gateway peak RSS".to_owned(), peak_rss, "MB", Target::None),
        (
            format!("bulk decision: {n} reviews, first sent → last answered"),
            ms(decided - started),
            "ms",
            Target::None,
        ),
        (
            "bulk decision done → every waiter answered".to_owned(),
            ms(last_answer.saturating_duration_since(decided)),
            "ms",
            Target::AtMost(1000.0),
        ),
        (
            "first review sent → last waiter answered".to_owned(),
            ms(last_answer - started),
            "ms",
            Target::None,
        ),
        (
            "own review answered → waiter answered, p99".to_owned(),
            percentile_ms(&after_own_review, 99.0),
            "ms",
            Target::None,
        ),
    ] {
        report.add(Figure::new(SCENARIO, figure, value, unit, target));
    }
    Ok(())
}

/// Creates `n` pending approvals from `clients` concurrent clients.
async fn create_many(
    http: &reqwest::Client,
    gateway: &Gateway,
    n: usize,
    clients: usize,
) -> Result<Vec<String>, Error> {
    let left = Arc::new(AtomicUsize::new(n));
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (http, left) = (http.clone(), left.clone());
            let (url, agent) = (gateway.url.clone(), gateway.tokens.agent.clone());
            tokio::spawn(async move {
                let mut ids = Vec::new();
                while left
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_sub(1))
                    .is_ok()
                {
                    ids.push(crate::gateway::create_at(&http, &url, &agent, "bench.wait").await?);
                }
                Ok::<_, Error>(ids)
            })
        })
        .collect();
    let mut ids = Vec::with_capacity(n);
    for task in tasks {
        ids.extend(task.await??);
    }
    Ok(ids)
}

/// Waits until `gateway` reports at least `n` calls waiting for a decision
/// (its `assent_waiters` gauge), so a measurement starts with every
/// long-poll registered.
pub async fn until_waiting(
    http: &reqwest::Client,
    gateway: &Gateway,
    n: usize,
) -> Result<(), Error> {
    let deadline = Instant::now() + REGISTER_TIMEOUT;
    loop {
        let text = http
            .get(format!("{}/metrics", gateway.url))
            .send()
            .await?
            .text()
            .await?;
        let waiting = text
            .lines()
            .find_map(|line| line.strip_prefix("assent_waiters "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        if waiting >= n as f64 {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("only {waiting} of {n} long-polls registered").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
