//! A generated 1,000-rule policy and the requests evaluated against it, for
//! both the in-process figure and `POST /v1/check`.
//!
//! The rules mix every matcher: action globs (some with args globs or
//! regexes), shell `command` rules, CEL `when` conditions, and args-only
//! rules with no action. The requests hit each kind, and one matches none.

use std::collections::BTreeMap;
use std::fmt::Write;

use assent_domain::policy::Input;
use serde_json::{Map, Value, json};

pub const RULES: usize = 1_000;

pub fn policy_text() -> String {
    let mut text = String::from("default = \"ask\"\n");
    for i in 0..RULES {
        let effect = ["allow", "ask", "deny"][i % 3];
        let _ = write!(
            text,
            "\n[[rule]]\nname = \"rule-{i}\"\neffect = \"{effect}\"\n"
        );
        let _ = match i % 20 {
            0..=9 => writeln!(text, "action = \"svc{i}.read*\""),
            10..=13 => writeln!(
                text,
                "action = \"svc{i}.deploy\"\nargs = {{ env = \"prod-*\", version = \"re:v[0-9]+\\\\.[0-9]+\" }}"
            ),
            14..=16 => writeln!(
                text,
                "action = \"shell\"\ncommand = [\"tool{i} *\", \"make target{i}*\"]"
            ),
            17 | 18 => writeln!(
                text,
                "action = \"deploy{i}\"\nwhen = \"args.replicas > 10 || labels.team == 'payments'\""
            ),
            _ => writeln!(text, "args = {{ tenant = \"tenant-{i}-*\" }}"),
        };
    }
    text
}

pub struct Request {
    pub action: String,
    pub args: Map<String, Value>,
    pub labels: BTreeMap<String, String>,
}

impl Request {
    /// The request as the policy sees it.
    pub fn input(&self) -> Input<'_> {
        Input {
            action: &self.action,
            args: &self.args,
            labels: &self.labels,
            requester: "bench-agent",
            session_id: Some("sess-1"),
            risk: None,
        }
    }

    /// The request as a `POST /v1/check` body.
    pub fn body(&self) -> Value {
        json!({"action": self.action, "args": self.args, "labels": self.labels, "session_id": "sess-1"})
    }
}

fn request(action: &str, args: Value, team: Option<&str>) -> Request {
    let args = match args {
        Value::Object(args) => args,
        _ => Map::new(),
    };
    let labels = team
        .map(|t| BTreeMap::from([("team".to_owned(), t.to_owned())]))
        .unwrap_or_default();
    Request {
        action: action.to_owned(),
        args,
        labels,
    }
}

/// An action glob hit, args glob + regex, a shell pipeline, a CEL
/// condition, no rule matching, and an args-only rule.
pub fn requests() -> Vec<Request> {
    vec![
        request("svc500.read_file", json!({"path": "/tmp/x"}), None),
        request(
            "svc710.deploy",
            json!({"env": "prod-eu", "version": "v2.3"}),
            None,
        ),
        request(
            "shell",
            json!({"command": "sudo make target954 && git status | grep x; echo $(date)"}),
            None,
        ),
        request("deploy957", json!({"replicas": 12}), Some("web")),
        request("unknown.action", json!({"a": 1, "b": "two"}), None),
        request("billing.charge", json!({"tenant": "tenant-999-acme"}), None),
    ]
}
