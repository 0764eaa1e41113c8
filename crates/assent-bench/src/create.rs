//! `create`: how close durable creates come to the gateway's own limits.
//!
//! - durable creates/s (SQLite, `synchronous=FULL`) ÷ authenticated
//!   `GET /v1/approvals/{id}` reads/s from the same clients on the same
//!   gateway: what durability, policy and the audit chain cost against the
//!   HTTP ceiling;
//! - ÷ the same gateway with `synchronous=OFF`: what fsync costs once group
//!   commit has batched it;
//! - with a PostgreSQL server: creates/s on PostgreSQL ÷ on SQLite.

use serde_json::json;

use crate::error::Error;
use crate::figure::{Figure, Report, Target};
use crate::gateway::{Gateway, Settings};
use crate::load::{Throughput, answered, client, closed_loop};
use crate::{Ctx, SCENARIO_CREATE as SCENARIO};

/// Approvals the read run cycles through.
const READ_SET: usize = 1000;

pub async fn run(ctx: &Ctx, report: &mut Report) -> Result<(), Error> {
    println!("create: {} clients, {} s per run", ctx.clients, ctx.seconds);
    let durable = Gateway::start(&ctx.assent, Settings::default()).await?;
    let creates = create_load(ctx, &durable).await?;
    let reads = read_load(ctx, &durable).await?;
    drop(durable);
    let unsynced = Gateway::start(
        &ctx.assent,
        Settings {
            env: vec![("ASSENT_SQLITE_SYNCHRONOUS", "off".into())],
            ..Settings::default()
        },
    )
    .await?;
    let unsynced_creates = create_load(ctx, &unsynced).await?;
    drop(unsynced);

    let per_second = |figure: &str, run: &Throughput| {
        Figure::new(SCENARIO, figure, run.per_second, "/s", Target::None)
    };
    report.add(per_second(
        "durable creates/s, SQLite synchronous=FULL",
        &creates,
    ));
    creates.report_cpu(SCENARIO, "durable creates", report);
    report.add(per_second(
        "authenticated GET /v1/approvals/{id} reads/s",
        &reads,
    ));
    reads.report_cpu(SCENARIO, "reads", report);
    report.add(Figure::new(
        SCENARIO,
        "durable creates/s ÷ reads/s",
        creates.per_second / reads.per_second,
        "ratio",
        Target::AtLeast(0.5),
    ));
    report.add(per_second(
        "creates/s, SQLite synchronous=OFF",
        &unsynced_creates,
    ));
    report.add(Figure::new(
        SCENARIO,
        "durable creates/s ÷ synchronous=OFF creates/s",
        creates.per_second / unsynced_creates.per_second,
        "ratio",
        Target::AtLeast(0.8),
    ));
    if let Some(server) = &ctx.postgres {
        let db = assent_testdb::TestDb::postgres(server).await;
        let postgres = Gateway::start(
            &ctx.assent,
            Settings {
                database_url: Some(db.url().to_owned()),
                ..Settings::default()
            },
        )
        .await?;
        let pg_creates = create_load(ctx, &postgres).await?;
        drop(postgres);
        report.add(per_second(
            "durable creates/s, PostgreSQL (one instance)",
            &pg_creates,
        ));
        pg_creates.report_cpu(SCENARIO, "PostgreSQL creates", report);
        report.add(Figure::new(
            SCENARIO,
            "PostgreSQL creates/s ÷ SQLite creates/s",
            pg_creates.per_second / creates.per_second,
            "ratio",
            Target::AtLeast(0.5),
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

/// Reads approvals by id with the agent's token.
async fn read_load(ctx: &Ctx, gateway: &Gateway) -> Result<Throughput, Error> {
    let http = client(ctx.clients)?;
    let mut urls = Vec::with_capacity(READ_SET);
    for _ in 0..READ_SET {
        let id = crate::create_one(&http, gateway, "bench.read").await?;
        urls.push(format!("{}/v1/approvals/{id}", gateway.url));
    }
    let agent = gateway.tokens.agent.clone();
    closed_loop(ctx.clients, ctx.seconds, gateway.pid(), move |client, n| {
        let url = &urls[(client * 7919 + n as usize) % urls.len()];
        let request = http.get(url).bearer_auth(&agent);
        answered(request, 200)
    })
    .await
}
