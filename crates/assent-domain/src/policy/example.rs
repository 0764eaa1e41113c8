//! `examples.match` / `examples.no_match`: unit tests a rule carries, run at
//! load (a failure refuses the file) and by `assent policy test`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use super::input::{Effect, Input};
use crate::approval::Risk;

/// One example request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Example {
    pub action: String,
    pub args: Map<String, Value>,
    pub labels: BTreeMap<String, String>,
    pub requester: String,
    pub session_id: Option<String>,
    pub risk: Option<Risk>,
}

impl Example {
    pub fn input(&self) -> Input<'_> {
        Input {
            action: &self.action,
            args: &self.args,
            labels: &self.labels,
            requester: &self.requester,
            session_id: self.session_id.as_deref(),
            risk: self.risk,
        }
    }
}

/// A rule's examples, in file order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Examples {
    pub matching: Vec<Example>,
    pub no_match: Vec<Example>,
}

/// Which list an example came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExampleKind {
    Match,
    NoMatch,
}

impl ExampleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExampleKind::Match => "match",
            ExampleKind::NoMatch => "no_match",
        }
    }
}

/// An example whose rule did (or did not) match against expectations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExampleFailure {
    pub rule: String,
    pub kind: ExampleKind,
    /// 0-based position in `examples.match` / `examples.no_match`.
    pub index: usize,
    pub example: Example,
    /// What the whole policy answers for the example, and which rule decided.
    pub got_effect: Effect,
    pub got_rule: Option<String>,
}

impl ExampleFailure {
    /// The field the failure is reported under: `examples.match[0]`.
    pub fn field(&self) -> String {
        format!("examples.{}[{}]", self.kind.as_str(), self.index)
    }
}

impl fmt::Display for ExampleFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let expected = match self.kind {
            ExampleKind::Match => "should match this rule but does not",
            ExampleKind::NoMatch => "should not match this rule but does",
        };
        let args = Value::Object(self.example.args.clone());
        write!(
            f,
            "example (action {:?}, args {args}) {expected}; the policy answers {}",
            self.example.action,
            self.got_effect.as_str()
        )?;
        match &self.got_rule {
            Some(rule) => write!(f, " by rule {rule:?}"),
            None => write!(f, " by default"),
        }
    }
}
