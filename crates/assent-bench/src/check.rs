//! `check`: policy evaluation with a generated 1,000-rule policy, over HTTP
//! (`POST /v1/check`, req/s) and in this process (one evaluation, p50/p99).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use assent_domain::policy::Policy;

use crate::ctx::{Ctx, SCENARIO_CHECK as SCENARIO};
use crate::error::Error;
use crate::figure::{Figure, Report, Target};
use crate::gateway::{Gateway, Settings};
use crate::load::{ROUNDS, answered, client, closed_loop};
use crate::policy_gen::{RULES, policy_text, requests};

/// Timed in-process evaluations (after as many untimed ones).
const EVALUATIONS: usize = 100_000;

pub async fn run(ctx: &Ctx, report: &mut Report) -> Result<(), Error> {
    println!(
        "check: a generated {RULES}-rule policy; {} clients, {} s over HTTP; {EVALUATIONS} evaluations in process",
        ctx.clients, ctx.seconds
    );
    let gateway = Gateway::start(
        &ctx.assent,
        Settings {
            policy: Some(policy_text()),
            ..Settings::default()
        },
    )
    .await?;
    let http = client(ctx.clients)?;
    let url = format!("{}/v1/check", gateway.url);
    let agent = gateway.tokens.agent.clone();
    let bodies: Arc<Vec<String>> =
        Arc::new(requests().iter().map(|r| r.body().to_string()).collect());
    let mut runs = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let (http, url, agent, bodies) = (http.clone(), url.clone(), agent.clone(), bodies.clone());
        let run = closed_loop(ctx.clients, ctx.seconds, gateway.pid(), move |client, n| {
            let body = bodies[(client + n as usize) % bodies.len()].clone();
            let request = http
                .post(&url)
                .bearer_auth(&agent)
                .header("content-type", "application/json")
                .body(body);
            answered(request, 200)
        })
        .await?;
        runs.push(run);
    }
    drop(gateway);
    runs.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
    let checks = &runs[runs.len() / 2];
    report.add(Figure::new(
        SCENARIO,
        format!("POST /v1/check, {RULES}-rule policy (median of {ROUNDS} runs)"),
        checks.per_second,
        "req/s",
        Target::AtLeast(20_000.0),
    ));
    checks.report_cpu(SCENARIO, "POST /v1/check", report);

    let samples = tokio::task::spawn_blocking(in_process).await??;
    for (figure, p, target) in [
        ("in-process evaluation p50", 50.0, Target::None),
        ("in-process evaluation p99", 99.0, Target::AtMost(10.0)),
    ] {
        let value = crate::figure::percentile_ms(&samples, p) * 1000.0;
        report.add(Figure::new(SCENARIO, figure, value, "µs", target));
    }
    Ok(())
}

/// Times single evaluations over the mixed requests.
fn in_process() -> Result<Vec<Duration>, Error> {
    let policy = Policy::from_toml(&policy_text(), "bench.toml").map_err(|e| e.to_string())?;
    let requests = requests();
    for i in 0..EVALUATIONS {
        black_box(policy.evaluate(black_box(&requests[i % requests.len()].input())));
    }
    let mut samples = Vec::with_capacity(EVALUATIONS);
    for i in 0..EVALUATIONS {
        let input = requests[i % requests.len()].input();
        let started = Instant::now();
        black_box(policy.evaluate(black_box(&input)));
        samples.push(started.elapsed());
    }
    samples.sort_unstable();
    Ok(samples)
}
