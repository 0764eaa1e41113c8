//! One measured figure, printed twice: as a table row for people and as one
//! JSON line for tools that collect results.

use serde_json::json;

pub struct Figure<'a> {
    pub scenario: &'a str,
    pub figure: &'a str,
    pub value: f64,
    pub unit: &'a str,
    /// The target as a bound on `value` (`value <= target`), when there is one.
    pub target: Option<f64>,
    /// How the target reads, e.g. `<= direct + 2 ms`.
    pub target_text: &'a str,
}

impl<'a> Figure<'a> {
    /// A figure in milliseconds.
    pub fn ms(
        scenario: &'a str,
        figure: &'a str,
        value: f64,
        target: Option<f64>,
        target_text: &'a str,
    ) -> Figure<'a> {
        Figure {
            scenario,
            figure,
            value,
            unit: "ms",
            target,
            target_text,
        }
    }

    pub fn print(&self) {
        let met = self.target.map(|t| self.value <= t);
        let target = match self.target {
            Some(t) => format!("{} ({t:.3} {})", self.target_text, self.unit),
            None => "-".to_owned(),
        };
        let verdict = match met {
            Some(true) => "met",
            Some(false) => "NOT met",
            None => "-",
        };
        println!(
            "| {} | {} | {:.3} {} | {target} | {verdict} |",
            self.scenario, self.figure, self.value, self.unit
        );
        println!(
            "{}",
            json!({
                "scenario": self.scenario,
                "figure": self.figure,
                "value": self.value,
                "unit": self.unit,
                "target": self.target,
                "met": met,
            })
        );
    }
}

/// The `p`th percentile (0–100) of sorted samples, in milliseconds.
pub fn percentile_ms(sorted: &[std::time::Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}
