//! Measured figures, each printed twice as it is taken: a table row for
//! people and one JSON line for tools that collect results
//! (`{"scenario", "figure", "value", "unit", "target", "met"}`). The
//! report keeps them all for the summary table at the end of a run.

use std::time::Duration;

use serde_json::json;

/// A figure's target: a bound on its value.
#[derive(Clone, Copy)]
pub enum Target {
    /// Context only.
    None,
    AtMost(f64),
    AtLeast(f64),
}

pub struct Figure {
    pub scenario: &'static str,
    pub figure: String,
    pub value: f64,
    pub unit: &'static str,
    pub target: Target,
}

impl Figure {
    pub fn new(
        scenario: &'static str,
        figure: impl Into<String>,
        value: f64,
        unit: &'static str,
        target: Target,
    ) -> Figure {
        Figure {
            scenario,
            figure: figure.into(),
            value,
            unit,
            target,
        }
    }

    fn met(&self) -> Option<bool> {
        match self.target {
            Target::None => None,
            Target::AtMost(t) => Some(self.value <= t),
            Target::AtLeast(t) => Some(self.value >= t),
        }
    }

    fn target_text(&self) -> String {
        let number = |t: f64| format!("{} {}", number(t), self.unit);
        match self.target {
            Target::None => "-".to_owned(),
            Target::AtMost(t) => format!("<= {}", number(t)),
            Target::AtLeast(t) => format!(">= {}", number(t)),
        }
    }

    fn row(&self) -> String {
        let verdict = match self.met() {
            Some(true) => "met",
            Some(false) => "NOT met",
            None => "-",
        };
        format!(
            "| {} | {} | {} {} | {} | {verdict} |",
            self.scenario,
            self.figure,
            number(self.value),
            self.unit,
            self.target_text()
        )
    }

    fn json(&self) -> String {
        let target = match self.target {
            Target::None => None,
            Target::AtMost(t) | Target::AtLeast(t) => Some(t),
        };
        json!({
            "scenario": self.scenario,
            "figure": self.figure,
            "value": self.value,
            "unit": self.unit,
            "target": target,
            "met": self.met(),
        })
        .to_string()
    }
}

/// Three significant decimals for small values, none for large ones.
fn number(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

/// Every figure of a run, in the order taken.
#[derive(Default)]
pub struct Report {
    figures: Vec<Figure>,
}

const HEADER: &str = "| scenario | figure | value | target | met |\n|---|---|---|---|---|";

impl Report {
    /// Prints the figure's row and JSON line now, and keeps it.
    pub fn add(&mut self, figure: Figure) {
        println!("{}", figure.row());
        println!("{}", figure.json());
        self.figures.push(figure);
    }

    /// The table of every figure, and how many targets were missed.
    pub fn summary(&self) {
        println!("\n{HEADER}");
        for figure in &self.figures {
            println!("{}", figure.row());
        }
        let missed = self.figures.iter().filter(|f| f.met() == Some(false));
        let names: Vec<String> = missed
            .map(|f| format!("{} / {}", f.scenario, f.figure))
            .collect();
        if names.is_empty() {
            println!("\nevery target met");
        } else {
            println!("\ntargets not met: {}", names.join("; "));
        }
    }
}

/// The `p`th percentile (0–100) of sorted samples, in milliseconds.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}
