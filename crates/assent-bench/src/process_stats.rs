//! CPU time and memory of a process, read from Linux's `/proc`: the
//! gateway's and the load generator's own, so a figure limited by the load
//! generator says so.

use crate::error::Error;

/// `/proc/<pid>/stat` counts CPU time in clock ticks: USER_HZ, which Linux
/// fixes at 100 on every architecture the project builds for.
const TICKS_PER_SECOND: f64 = 100.0;

/// User + system CPU seconds the process has used so far (`None`: this process).
pub fn cpu_seconds(pid: Option<u32>) -> Result<f64, Error> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(&path)?;
    // The command name (field 2) may hold spaces; the fields after it don't.
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or("unreadable /proc stat")?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line (1-based);
    // `fields` starts at field 3.
    let ticks = |i: usize| -> Result<f64, Error> {
        Ok(fields.get(i).ok_or("short /proc stat")?.parse::<f64>()?)
    };
    Ok((ticks(11)? + ticks(12)?) / TICKS_PER_SECOND)
}

/// The process's resident memory now and at its peak, in MB (10^6 bytes).
pub fn rss_mb(pid: u32) -> Result<(f64, f64), Error> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb = |key: &str| -> Result<f64, Error> {
        let line = status
            .lines()
            .find(|l| l.starts_with(key))
            .ok_or_else(|| format!("no {key} in /proc/{pid}/status"))?;
        let value = line[key.len()..].trim().trim_end_matches("kB").trim();
        Ok(value.parse::<f64>()?)
    };
    Ok((kb("VmRSS:")? * 1024.0 / 1e6, kb("VmHWM:")? * 1024.0 / 1e6))
}

/// CPU use of the gateway and of this process over an interval.
pub struct CpuMeter {
    gateway: u32,
    started: std::time::Instant,
    gateway_at_start: f64,
    own_at_start: f64,
}

/// Cores used on average over the interval.
pub struct CpuUse {
    pub gateway: f64,
    pub load_generator: f64,
}

impl CpuMeter {
    pub fn start(gateway: u32) -> Result<CpuMeter, Error> {
        Ok(CpuMeter {
            gateway,
            started: std::time::Instant::now(),
            gateway_at_start: cpu_seconds(Some(gateway))?,
            own_at_start: cpu_seconds(None)?,
        })
    }

    pub fn stop(&self) -> Result<CpuUse, Error> {
        let seconds = self.started.elapsed().as_secs_f64();
        Ok(CpuUse {
            gateway: (cpu_seconds(Some(self.gateway))? - self.gateway_at_start) / seconds,
            load_generator: (cpu_seconds(None)? - self.own_at_start) / seconds,
        })
    }
}
