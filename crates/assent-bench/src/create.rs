//! `create`: how close durable creates come to the gateway's own limits.
//!
//! - durable creates/s (SQLite, `synchronous=FULL`) ÷ authenticated
//!   `GET /v1/approvals/{id}` reads/s from the same clients on the same
//!   gateway: what durability, policy and the audit chain cost against the
//!   HTTP ceiling;
//! - ÷ the same gateway with `synchronous=OFF`: what fsync costs once group
//!   commit has batched it;
//! - with a PostgreSQL server: creates/s on PostgreSQL ÷ on SQLite.

use std::sync::Arc;

use serde_json::json;

use crate::ctx::{Ctx, SCENARIO_CREATE as SCENARIO};
use crate::error::Error;
use crate::figure::{Figure, Report, Target};
use crate::gateway::{Gateway, Settings};
use crate::load::{ROUNDS, Throughput, answered, client, closed_loop, median};

/// Approvals the read run cycles through.
const READ_SET: usize = 1000;

/// One round: every load once, on gateways already running. Each ratio's
/// two sides are measured back to back in the same round.
struct Round {
    creates: Throughput,
    reads: Throughput,
    unsynced: Throughput,
    postgres: Option<Throughput>,
}

pub async fn run(ctx: &Ctx, report: &mut Report) -> Result<(), Error> {
    println!(
        "create: {} clients, {} s per run, {ROUNDS} rounds",
        ctx.clients, ctx.seconds
    );
    let durable = Gateway::start(&ctx.assent, Settings::default()).await?;
    let unsynced = Gateway::start(
        &ctx.assent,
        Settings {
            env: vec![("ASSENT_SQLITE_SYNCHRONOUS", "off".into())],
            ..Settings::default()
        },
    )
    .await?;
    let postgres_db = match &ctx.postgres {
        Some(server) => Some(assent_testdb::TestDb::postgres(server).await),
        None => None,
    };
    let postgres = match &postgres_db {
        Some(db) => Some(
            Gateway::start(
                &ctx.assent,
                Settings {
                    database_url: Some(db.url().to_owned()),
                    ..Settings::default()
                },
            )
            .await?,
        ),
        None => None,
    };
    let read_urls = read_set(ctx, &durable).await?;
    let mut rounds = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        rounds.push(Round {
            creates: create_load(ctx, &durable).await?,
            reads: read_load(ctx, &durable, read_urls.clone()).await?,
            unsynced: create_load(ctx, &unsynced).await?,
            postgres: match &postgres {
                Some(gateway) => Some(create_load(ctx, gateway).await?),
                None => None,
            },
        });
    }
    drop((durable, unsynced, postgres));

    // The round with the median durable figure gives the CPU context.
    let mut by_creates: Vec<&Round> = rounds.iter().collect();
    by_creates.sort_by(|a, b| a.creates.per_second.total_cmp(&b.creates.per_second));
    let typical = by_creates[by_creates.len() / 2];
    let rate = |figure: &str, of: &dyn Fn(&Round) -> f64| {
        Figure::new(
            SCENARIO,
            format!("{figure} (median of {ROUNDS})"),
            median(rounds.iter().map(of)),
            "/s",
            Target::None,
        )
    };
    let ratio = |figure: &str, of: &dyn Fn(&Round) -> f64, target: f64| {
        Figure::new(
            SCENARIO,
            format!("{figure} (median of {ROUNDS} rounds)"),
            median(rounds.iter().map(of)),
            "ratio",
            Target::AtLeast(target),
        )
    };
    report.add(rate("durable creates/s, SQLite synchronous=FULL", &|r| {
        r.creates.per_second
    }));
    typical
        .creates
        .report_cpu(SCENARIO, "durable creates", report);
    report.add(rate("authenticated GET /v1/approvals/{id} reads/s", &|r| {
        r.reads.per_second
    }));
    typical.reads.report_cpu(SCENARIO, "reads", report);
    report.add(ratio(
        "durable creates/s ÷ reads/s",
        &|r| r.creates.per_second / r.reads.per_second,
        0.5,
    ));
    report.add(rate("creates/s, SQLite synchronous=OFF", &|r| {
        r.unsynced.per_second
    }));
    report.add(ratio(
        "durable creates/s ÷ synchronous=OFF creates/s",
        &|r| r.creates.per_second / r.unsynced.per_second,
        0.8,
    ));
    if let Some(pg) = &typical.postgres {
        let pg_rate = |r: &Round| r.postgres.as_ref().map_or(0.0, |t| t.per_second);
        report.add(rate(
            "durable creates/s, PostgreSQL (one instance)",
            &pg_rate,
        ));
        pg.report_cpu(SCENARIO, "PostgreSQL creates", report);
        report.add(ratio(
            "PostgreSQL creates/s ÷ SQLite creates/s",
            &|r| pg_rate(r) / r.creates.per_second,
            0.5,
        ));
    }
    Ok(())
}

/// Creates pending approvals (no policy: every request is asked), each an
/// audited, durable write.
async fn create_load(ctx: &Ctx, gateway: &Gateway) -> Result<Throughput, Error> {
    let http = client(ctx.clients)?;
    let url = format!("{}/v1/approvals", gateway.url);
    let agent = gateway.tokens.agent.clone();
    closed_loop(ctx.clients, ctx.seconds, gateway.pid(), move |_, _| {
        let request = http
            .post(&url)
            .bearer_auth(&agent)
            .json(&json!({"action": "bench.create", "args": {"n": 1}}));
        answered(request, 201)
    })
    .await
}

/// Approvals for the read runs to cycle through.
async fn read_set(ctx: &Ctx, gateway: &Gateway) -> Result<Arc<Vec<String>>, Error> {
    let http = client(ctx.clients)?;
    let mut urls = Vec::with_capacity(READ_SET);
    for _ in 0..READ_SET {
        let id = crate::gateway::create_one(&http, gateway, "bench.read").await?;
        urls.push(format!("{}/v1/approvals/{id}", gateway.url));
    }
    Ok(Arc::new(urls))
}

/// Reads approvals by id with the agent's token.
async fn read_load(
    ctx: &Ctx,
    gateway: &Gateway,
    urls: Arc<Vec<String>>,
) -> Result<Throughput, Error> {
    let http = client(ctx.clients)?;
    let agent = gateway.tokens.agent.clone();
    closed_loop(ctx.clients, ctx.seconds, gateway.pid(), move |client, n| {
        let url = &urls[(client * 7919 + n as usize) % urls.len()];
        let request = http.get(url).bearer_auth(&agent);
        answered(request, 200)
    })
    .await
}
