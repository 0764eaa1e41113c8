//! Policy evaluation against a generated 1,000-rule policy (target, see
//! docs/benchmarks.md: in-process evaluation p99 ≤ 10 µs). Criterion reports mean/median per input; the
//! `percentiles` bench times 100,000 single evaluations and prints p50/p99.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::hint::black_box;
use std::time::{Duration, Instant};

use assent_domain::policy::{Input, Policy, shell};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};

const RULES: usize = 1_000;

/// Mixed rules: action globs (some with args globs or regexes), shell
/// command rules, `when` conditions, and args-only rules with no action.
fn policy_text() -> String {
    let mut text = String::from("default = \"ask\"\n");
    for i in 0..RULES {
        let effect = ["allow", "ask", "deny"][i % 3];
        let _ = write!(
            text,
            "\n[[rule]]\nname = \"rule-{i}\"\neffect = \"{effect}\"\n"
        );
        match i % 20 {
            0..=9 => {
                let _ = writeln!(text, "action = \"svc{i}.read*\"");
            }
            10..=13 => {
                let _ = writeln!(
                    text,
                    "action = \"svc{i}.deploy\"\nargs = {{ env = \"prod-*\", version = \"re:v[0-9]+\\\\.[0-9]+\" }}"
                );
            }
            14..=16 => {
                let _ = writeln!(
                    text,
                    "action = \"shell\"\ncommand = [\"tool{i} *\", \"make target{i}*\"]"
                );
            }
            17 | 18 => {
                let _ = writeln!(
                    text,
                    "action = \"deploy{i}\"\nwhen = \"args.replicas > 10 || labels.team == 'payments'\""
                );
            }
            _ => {
                let _ = writeln!(text, "args = {{ tenant = \"tenant-{i}-*\" }}");
            }
        }
    }
    text
}

struct Request {
    name: &'static str,
    action: String,
    args: Map<String, Value>,
    labels: BTreeMap<String, String>,
}

fn request(name: &'static str, action: &str, args: Value, team: Option<&str>) -> Request {
    let Value::Object(args) = args else {
        unreachable!("args are objects")
    };
    let labels = team
        .map(|t| BTreeMap::from([("team".to_owned(), t.to_owned())]))
        .unwrap_or_default();
    Request {
        name,
        action: action.to_owned(),
        args,
        labels,
    }
}

fn requests() -> Vec<Request> {
    vec![
        request(
            "action-glob-hit",
            "svc500.read_file",
            json!({"path": "/tmp/x"}),
            None,
        ),
        request(
            "args-glob-and-regex",
            "svc710.deploy",
            json!({"env": "prod-eu", "version": "v2.3"}),
            None,
        ),
        request(
            "shell-pipeline",
            "shell",
            json!({"command": "sudo make target954 && git status | grep x; echo $(date)"}),
            None,
        ),
        request(
            "cel-when",
            "deploy957",
            json!({"replicas": 12}),
            Some("web"),
        ),
        request(
            "no-match-default",
            "unknown.action",
            json!({"a": 1, "b": "two"}),
            None,
        ),
        request(
            "args-only-rule",
            "billing.charge",
            json!({"tenant": "tenant-999-acme"}),
            None,
        ),
    ]
}

fn input(r: &Request) -> Input<'_> {
    Input {
        action: &r.action,
        args: &r.args,
        labels: &r.labels,
        requester: "ci-bot",
        session_id: Some("sess-1"),
        risk: None,
    }
}

fn load() -> Policy {
    match Policy::from_toml(&policy_text(), "bench.toml") {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn per_input(c: &mut Criterion) {
    let policy = load();
    let mut group = c.benchmark_group("evaluate-1000-rules");
    for r in requests() {
        group.bench_function(r.name, |b| {
            b.iter(|| black_box(policy.evaluate(black_box(&input(&r)))))
        });
    }
    group.finish();
    c.bench_function("shell-split", |b| {
        b.iter(|| {
            black_box(shell::split(black_box(
                "sudo make target954 && git status | grep x; echo $(date)",
            )))
        })
    });
    let text = policy_text();
    c.bench_function("load-1000-rules", |b| {
        b.iter(|| black_box(Policy::from_toml(black_box(&text), "bench.toml")))
    });
}

fn percentiles(_: &mut Criterion) {
    const N: usize = 100_000;
    let policy = load();
    let requests = requests();
    let mut samples: Vec<Duration> = Vec::with_capacity(N);
    for i in 0..N {
        let r = &requests[i % requests.len()];
        let start = Instant::now();
        black_box(policy.evaluate(black_box(&input(r))));
        samples.push(start.elapsed());
    }
    samples.sort_unstable();
    let at = |q: f64| samples[((N as f64 * q) as usize).min(N - 1)];
    println!(
        "policy evaluation, {RULES} rules, {N} evaluations over {} inputs: p50 {:?}, p99 {:?}, p99.9 {:?}, max {:?}",
        requests.len(),
        at(0.50),
        at(0.99),
        at(0.999),
        samples[N - 1]
    );
}

criterion_group!(benches, per_input, percentiles);
criterion_main!(benches);
