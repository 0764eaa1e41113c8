//! Measures the performance figures of docs/benchmarks.md against real gateways started in this process
//! (release build: `cargo run --release -p assent-bench`).
//!
//! - wake-up: N long-poll waiters, each approval decided in turn; the time
//!   from the review call returning to its waiter being answered.
//! - creates: durable creates/s from C concurrent clients, divided by raw
//!   single-row durable SQLite inserts/s on the same disk (group commit gain).
//! - with `--postgres URL`: the wake-up figure across two instances on a
//!   fresh database on that server — waiters on B, decisions on A.
//! - agent integrations (`integrations`; alone with `--integrations-only`):
//!   an allowed MCP `tools/call` through `assent mcp-proxy` against the same
//!   server called directly, and the whole `assent hook claude-code`
//!   process for an allowed call; both use the release `assent` binary and
//!   a gateway run as `assent serve`.

mod assent_process;
mod error;
mod figure;
mod hook;
mod integrations;
mod mcp;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use assent_server::{Config, Server};
use clap::Parser;
use error::Error;
use serde_json::{Value, json};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

#[derive(Parser)]
struct Args {
    /// Long-poll waiters for the wake-up figure.
    #[arg(long, default_value_t = 1000)]
    waiters: usize,
    /// Concurrent clients for the create throughput figure.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Seconds each throughput run lasts.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// A PostgreSQL server (URL of any database there) for the
    /// two-instance wake-up figure; it gets a temporary database.
    #[arg(long)]
    postgres: Option<String>,
    #[command(flatten)]
    integrations: integrations::Args,
}

struct Gateway {
    server: Server,
    base: String,
    agent: String,
    approver: String,
    http: reqwest::Client,
}

impl Gateway {
    /// A gateway in `dir` on `database_url` (default: SQLite in `dir`), with
    /// a bench agent and approver.
    async fn start(dir: &Path, database_url: Option<String>) -> Result<Gateway, Error> {
        let server = serve(dir, database_url).await?;
        let admin = std::fs::read_to_string(dir.join("admin.token"))?
            .trim()
            .to_owned();
        let mut gw = Gateway {
            base: format!("http://{}", server.addr()),
            server,
            agent: String::new(),
            approver: String::new(),
            http: http_client()?,
        };
        gw.agent = gw.token(&admin, "bench-agent", "agent").await?;
        gw.approver = gw.token(&admin, "bench-approver", "approver").await?;
        Ok(gw)
    }

    /// Another instance on the same database, with the same tokens.
    async fn sibling(&self, dir: &Path, database_url: String) -> Result<Gateway, Error> {
        let server = serve(dir, Some(database_url)).await?;
        Ok(Gateway {
            base: format!("http://{}", server.addr()),
            server,
            agent: self.agent.clone(),
            approver: self.approver.clone(),
            http: http_client()?,
        })
    }

    async fn token(&self, admin: &str, name: &str, role: &str) -> Result<String, Error> {
        let body: Value = self
            .http
            .post(format!("{}/v1/tokens", self.base))
            .bearer_auth(admin)
            .json(&json!({"name": name, "role": role}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        body["token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "no token in the answer".into())
    }

    async fn create(&self) -> Result<String, Error> {
        let body: Value = self
            .http
            .post(format!("{}/v1/approvals", self.base))
            .bearer_auth(&self.agent)
            .json(&json!({"action": "bench.deploy", "args": {"service": "billing", "env": "prod"}}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        body["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "no id in the answer".into())
    }
}

async fn serve(dir: &Path, database_url: Option<String>) -> Result<Server, Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The gateway refuses a data dir others can read.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.to_path_buf(),
        database_url,
        ..Config::default()
    };
    Ok(Server::start(config).await?)
}

fn http_client() -> Result<reqwest::Client, Error> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(20_000)
        .build()?)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// Waiters long-poll on `waiting`; each approval is decided on `deciding`.
async fn wake_up(
    deciding: &Gateway,
    waiting: &Gateway,
    waiters: usize,
    label: &str,
) -> Result<(), Error> {
    let gw = deciding;
    let mut ids = Vec::with_capacity(waiters);
    for _ in 0..waiters {
        ids.push(gw.create().await?);
    }
    let mut answered = Vec::with_capacity(waiters);
    for id in &ids {
        let req = waiting
            .http
            .get(format!("{}/v1/approvals/{id}?wait=300s", waiting.base))
            .bearer_auth(&waiting.agent);
        answered.push(tokio::spawn(async move {
            let response = req.send().await?.error_for_status()?;
            let at = Instant::now();
            let body: Value = response.json().await?;
            Ok::<_, Error>((at, body["status"].as_str().unwrap_or_default().to_owned()))
        }));
    }
    // Let every long-poll reach the server and register.
    tokio::time::sleep(Duration::from_millis(500 + waiters as u64 / 2)).await;
    let mut after_return = Vec::with_capacity(waiters);
    let mut after_send = Vec::with_capacity(waiters);
    for (id, waiter) in ids.iter().zip(answered) {
        let sent = Instant::now();
        gw.http
            .post(format!("{}/v1/approvals/{id}/reviews", gw.base))
            .bearer_auth(&gw.approver)
            .json(&json!({"decision": "approve"}))
            .send()
            .await?
            .error_for_status()?;
        let returned = Instant::now();
        let (at, status) = waiter.await??;
        if status != "approved" {
            return Err(format!("waiter answered {status}").into());
        }
        after_return.push(at.saturating_duration_since(returned));
        after_send.push(at - sent);
    }
    after_return.sort();
    after_send.sort();
    println!("wake-up, {waiters} waiters, {label} (decision call returned -> waiter answered):");
    println!(
        "  p50 {}  p99 {}  max {}",
        ms(percentile(&after_return, 50.0)),
        ms(percentile(&after_return, 99.0)),
        ms(percentile(&after_return, 100.0))
    );
    println!(
        "  (review sent -> waiter answered: p50 {}  p99 {})",
        ms(percentile(&after_send, 50.0)),
        ms(percentile(&after_send, 99.0))
    );
    Ok(())
}

async fn creates_per_second(gw: &Gateway, clients: usize, seconds: u64) -> Result<f64, Error> {
    let done = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, base, agent) = (gw.http.clone(), gw.base.clone(), gw.agent.clone());
        let (done, count) = (done.clone(), count.clone());
        tasks.push(tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                let ok = http
                    .post(format!("{base}/v1/approvals"))
                    .bearer_auth(&agent)
                    .json(&json!({"action": "bench.create", "args": {"n": 1}}))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().as_u16() == 201);
                if ok {
                    count.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    done.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    for t in tasks {
        t.await?;
    }
    Ok(count.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64())
}

/// One row per transaction, WAL + synchronous=FULL: what a naive gateway gets.
async fn raw_inserts_per_second(dir: &Path, seconds: u64) -> Result<f64, Error> {
    let options = SqliteConnectOptions::new()
        .filename(dir.join("raw.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
    sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, doc TEXT NOT NULL)")
        .execute(&mut conn)
        .await?;
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < Duration::from_secs(seconds) {
        sqlx::query("INSERT INTO t (doc) VALUES ($1)")
            .bind("{\"action\":\"bench.create\"}")
            .execute(&mut conn)
            .await?;
        n += 1;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    if args.integrations.integrations_only {
        return integrations::run(&args.integrations).await;
    }
    let dir = tempfile::tempdir_in(".")?;
    println!(
        "data dir: {} (same disk for both throughput figures)",
        dir.path().display()
    );
    let gw = Gateway::start(dir.path(), None).await?;
    wake_up(&gw, &gw, args.waiters, "SQLite").await?;
    let creates = creates_per_second(&gw, args.clients, args.seconds).await?;
    let raw = raw_inserts_per_second(dir.path(), args.seconds).await?;
    println!(
        "durable creates/s, {} clients, SQLite synchronous=FULL: {creates:.0}",
        args.clients
    );
    println!("raw single-row durable SQLite inserts/s, same disk: {raw:.0}");
    println!("group commit ratio: {:.1}x (target >= 10x)", creates / raw);
    gw.server.shutdown().await?;
    if let Some(server) = &args.postgres {
        two_postgres_instances(server, args.waiters).await?;
    }
    integrations::run(&args.integrations).await
}

async fn two_postgres_instances(server: &str, waiters: usize) -> Result<(), Error> {
    let db = assent_testdb::TestDb::postgres(server).await;
    let (dir_a, dir_b) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let a = Gateway::start(dir_a.path(), Some(db.url().to_owned())).await?;
    let b = a.sibling(dir_b.path(), db.url().to_owned()).await?;
    wake_up(
        &a,
        &b,
        waiters,
        "two instances on PostgreSQL, decided on A, waiting on B",
    )
    .await?;
    b.server.shutdown().await?;
    a.server.shutdown().await?;
    Ok(())
}
