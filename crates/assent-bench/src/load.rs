//! Closed-loop HTTP load: C clients, each sending its next request as soon
//! as the previous one is answered, counted over a measured interval after
//! a warm-up.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::figure::{Figure, Report, Target};
use crate::process_stats::{CpuMeter, CpuUse};

/// Before counting starts: connections open, caches fill.
const WARM_UP: Duration = Duration::from_secs(1);

/// An HTTP/1.1 client that keeps up to `connections` connections open.
pub fn client(connections: usize) -> Result<reqwest::Client, Error> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .http1_only()
        .build()?)
}

/// Sends the request and reads the whole answer (so its connection goes
/// back to the pool); whether it had the expected status.
pub async fn answered(request: reqwest::RequestBuilder, status: u16) -> bool {
    match request.send().await {
        Ok(response) if response.status().as_u16() == status => response.bytes().await.is_ok(),
        _ => false,
    }
}

/// What one run measured.
/// Throughput figures are taken in this many runs and the median reported,
/// so a slow moment of a shared machine lands in one run, not in the figure.
pub const ROUNDS: usize = 3;

/// The median of `values` (0 for none).
pub fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

pub struct Throughput {
    pub per_second: f64,
    pub cpu: CpuUse,
}

impl Throughput {
    /// The CPU figures that say whether the load generator or the gateway
    /// was the limit.
    pub fn report_cpu(&self, scenario: &'static str, what: &str, report: &mut Report) {
        for (who, cores) in [
            ("gateway", self.cpu.gateway),
            ("load generator", self.cpu.load_generator),
        ] {
            report.add(Figure::new(
                scenario,
                format!("{what}: {who} CPU"),
                cores,
                "cores",
                Target::None,
            ));
        }
    }
}

/// Runs `request(client_index, n)` from `clients` concurrent clients for
/// `seconds` (after a warm-up); a request reports whether it succeeded.
pub async fn closed_loop<F, Fut>(
    clients: usize,
    seconds: u64,
    gateway_pid: u32,
    request: F,
) -> Result<Throughput, Error>
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let request = Arc::new(request);
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let (request, stop) = (request.clone(), stop.clone());
            let (ok, failed) = (ok.clone(), failed.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let counter = if request(client, n).await {
                        &ok
                    } else {
                        &failed
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                    n += 1;
                }
            })
        })
        .collect();
    tokio::time::sleep(WARM_UP).await;
    let meter = CpuMeter::start(gateway_pid)?;
    let (ok_before, failed_before) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let (ok_after, failed_after) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = meter.stop()?;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await?;
    }
    let failed = failed_after - failed_before;
    if failed > 0 {
        println!("  ({failed} requests failed during the run)");
    }
    Ok(Throughput {
        per_second: (ok_after - ok_before) as f64 / elapsed,
        cpu,
    })
}
