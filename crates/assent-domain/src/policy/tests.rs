use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::*;
use crate::approval::QuorumStage;
use crate::request::CreateApproval;

fn policy(text: &str) -> Policy {
    match Policy::from_toml(text, "policy.toml") {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn error(text: &str) -> PolicyError {
    Policy::from_toml(text, "policy.toml").unwrap_err()
}

/// A request to evaluate, owned so tests can build it inline.
struct Req {
    action: String,
    args: Map<String, Value>,
    labels: BTreeMap<String, String>,
    requester: String,
    session_id: Option<String>,
    risk: Option<Risk>,
}

fn req(action: &str, args: Value) -> Req {
    let Value::Object(args) = args else {
        panic!("args must be an object")
    };
    Req {
        action: action.into(),
        args,
        labels: BTreeMap::new(),
        requester: "bot".into(),
        session_id: None,
        risk: None,
    }
}

fn shell(command: &str) -> Req {
    req("shell", json!({ "command": command }))
}

impl Req {
    fn label(mut self, key: &str, value: &str) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    fn by(mut self, requester: &str) -> Self {
        self.requester = requester.into();
        self
    }

    fn input(&self) -> Input<'_> {
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

fn decide(p: &Policy, r: &Req) -> (Effect, Option<String>) {
    let e = p.evaluate(&r.input());
    (e.effect, e.rule)
}

fn effect(p: &Policy, r: &Req) -> Effect {
    p.evaluate(&r.input()).effect
}

const REFERENCE_EXAMPLE: &str = r#"
default = "ask"            # effect when no rule matches: allow | deny | ask

[[rule]]
name = "reads"
effect = "allow"
action = "fs.read*"        # glob over the action name

[[rule]]
name = "no-force-push"
effect = "deny"
action = "shell"
command = ["git push --force*", "git push -f*"]   # shell-aware, see below
reason = "force pushes are never allowed"

[[rule]]
name = "prod-deploys"
effect = "ask"
action = "deploy"
args = { env = "prod*" }   # each listed args field must match its glob ("re:..." for a regex)
when = "args.replicas > 10 || labels.team == 'payments'"   # optional CEL expression
risk = "high"
timeout = "30m"
escalate_after = "10m"
quorum = [{ group = "sre", min = 2 }, { group = "security", min = 1 }]
examples.match = [{ action = "deploy", args = { env = "prod-eu", replicas = 12 } }]
examples.no_match = [{ action = "deploy", args = { env = "staging" } }]
"#;

#[test]
fn the_spec_example_loads_and_decides() {
    let p = policy(REFERENCE_EXAMPLE);
    assert_eq!(p.default_effect(), Effect::Ask);
    assert_eq!(
        decide(&p, &req("fs.read_file", json!({"path": "/etc/hosts"}))),
        (Effect::Allow, Some("reads".into()))
    );
    let e = p.evaluate(&shell("git   push  --force origin main").input());
    assert_eq!(
        (e.effect, e.rule.as_deref(), e.reason.as_deref()),
        (
            Effect::Deny,
            Some("no-force-push"),
            Some("force pushes are never allowed")
        )
    );
    let deploy = req("deploy", json!({"env": "prod-eu", "replicas": 3})).label("team", "payments");
    let e = p.evaluate(&deploy.input());
    assert_eq!(e.effect, Effect::Ask);
    assert_eq!(
        e.placement,
        Placement {
            rule: Some("prod-deploys".into()),
            risk: Some(Risk::High),
            timeout: Some(Duration::from_secs(1800)),
            escalate_after: Some(Duration::from_secs(600)),
            quorum: vec![
                QuorumStage {
                    group: "sre".into(),
                    min: 2,
                    approved_by: vec![]
                },
                QuorumStage {
                    group: "security".into(),
                    min: 1,
                    approved_by: vec![]
                },
            ],
            allow_self_review: false,
        }
    );
    // when is false: few replicas, another team → default.
    let web = req("deploy", json!({"env": "prod", "replicas": 3})).label("team", "web");
    let e = p.evaluate(&web.input());
    assert_eq!(
        (e.effect, e.rule, e.placement),
        (Effect::Ask, None, Placement::default())
    );
    // No `team` label: `labels.team` is a CEL error, and an ask rule fails closed.
    let unlabelled = req("deploy", json!({"env": "prod", "replicas": 3}));
    assert_eq!(
        decide(&p, &unlabelled),
        (Effect::Ask, Some("prod-deploys".into()))
    );
}

#[test]
fn default_is_ask_when_absent_and_applies_when_nothing_matches() {
    let p = policy("");
    assert_eq!(decide(&p, &req("x", json!({}))), (Effect::Ask, None));
    for d in ["allow", "deny", "ask"] {
        let p = policy(&format!("default = {d:?}"));
        assert_eq!(effect(&p, &req("x", json!({}))).as_str(), d);
    }
    assert_eq!(
        Policy::default()
            .evaluate(&req("x", json!({})).input())
            .effect,
        Effect::Ask
    );
}

#[test]
fn a_rule_without_matchers_matches_everything() {
    let p = policy("default = \"deny\"\n[[rule]]\nname = \"all\"\neffect = \"allow\"");
    assert_eq!(
        decide(&p, &req("anything.at.all", json!({"a": 1}))),
        (Effect::Allow, Some("all".into()))
    );
}

#[test]
fn action_globs() {
    let p = policy(
        r#"
[[rule]]
name = "mcp-github"
effect = "allow"
action = "mcp.github.*"
[[rule]]
name = "billing"
effect = "deny"
action = "billing.{charge,refund}"
"#,
    );
    let cases = [
        ("mcp.github.create_pull_request", Some("mcp-github")),
        ("mcp.github.", Some("mcp-github")),
        ("mcp.gitlab.x", None),
        ("billing.charge", Some("billing")),
        ("billing.refund", Some("billing")),
        ("billing.chargeback", None),
    ];
    for (action, want) in cases {
        let e = p.evaluate(&req(action, json!({})).input());
        assert_eq!(e.rule.as_deref(), want, "{action}");
    }
}

#[test]
fn action_regex_is_supported_and_anchored() {
    let p =
        policy("[[rule]]\nname = \"r\"\neffect = \"allow\"\naction = \"re:fs\\\\.(read|stat)\"");
    assert_eq!(effect(&p, &req("fs.read", json!({}))), Effect::Allow);
    assert_eq!(effect(&p, &req("fs.stat", json!({}))), Effect::Allow);
    assert_eq!(effect(&p, &req("fs.readx", json!({}))), Effect::Ask);
}

#[test]
fn args_globs_regexes_and_nested_paths() {
    let p = policy(
        r#"
[[rule]]
name = "prod"
effect = "deny"
args = { env = "prod*", region = "re:(eu|us)-[a-z]+-[0-9]" }

[[rule]]
name = "nested"
effect = "allow"
args = { target.cluster = "blue-*", "meta.owner" = "team-?" }
"#,
    );
    let cases = [
        (json!({"env": "prod", "region": "eu-west-1"}), Some("prod")),
        (
            json!({"env": "prod-2", "region": "us-east-9"}),
            Some("prod"),
        ),
        (json!({"env": "prod", "region": "ap-south-1"}), None),
        (json!({"env": "prod", "region": "eu-west-1x"}), None),
        (json!({"env": "staging", "region": "eu-west-1"}), None),
        (json!({"env": "prod"}), None),
        (
            json!({"target": {"cluster": "blue-7"}, "meta": {"owner": "team-a"}}),
            Some("nested"),
        ),
        (
            json!({"target": {"cluster": "green-7"}, "meta": {"owner": "team-a"}}),
            None,
        ),
        (json!({"target": {"cluster": "blue-7"}}), None),
        (
            json!({"target": "blue-7", "meta": {"owner": "team-a"}}),
            None,
        ),
    ];
    for (args, want) in cases {
        let e = p.evaluate(&req("x", args.clone()).input());
        assert_eq!(e.rule.as_deref(), want, "{args}");
    }
}

#[test]
fn args_non_strings_match_by_their_json_text() {
    let p = policy(
        r#"
[[rule]]
name = "n"
effect = "deny"
args = { replicas = "1?", force = "true", tags = "*\"pci\"*", gone = "null" }
"#,
    );
    let hit = json!({"replicas": 12, "force": true, "tags": ["a", "pci"], "gone": null});
    assert_eq!(effect(&p, &req("x", hit)), Effect::Deny);
    let p2 = policy(
        "default = \"allow\"\n[[rule]]\nname = \"n\"\neffect = \"ask\"\nargs = { replicas = \"1?\" }",
    );
    assert_eq!(effect(&p2, &req("x", json!({"replicas": 12}))), Effect::Ask);
    assert_eq!(
        effect(&p2, &req("x", json!({"replicas": 120}))),
        Effect::Allow
    );
    assert_eq!(
        effect(&p2, &req("x", json!({"replicas": "12"}))),
        Effect::Ask
    );
    assert_eq!(effect(&p2, &req("x", json!({}))), Effect::Allow);
}

#[test]
fn labels_and_requester() {
    let p = policy(
        r#"
default = "deny"
[[rule]]
name = "payments-ci"
effect = "allow"
requester = "ci-*"
labels = { team = "payments", tier = "re:(gold|silver)" }
"#,
    );
    let ok = req("x", json!({}))
        .by("ci-bot")
        .label("team", "payments")
        .label("tier", "gold");
    assert_eq!(effect(&p, &ok), Effect::Allow);
    let wrong_requester = req("x", json!({}))
        .by("alice")
        .label("team", "payments")
        .label("tier", "gold");
    assert_eq!(effect(&p, &wrong_requester), Effect::Deny);
    let missing_label = req("x", json!({})).by("ci-bot").label("team", "payments");
    assert_eq!(effect(&p, &missing_label), Effect::Deny);
    let wrong_label = req("x", json!({}))
        .by("ci-bot")
        .label("team", "payments")
        .label("tier", "bronze");
    assert_eq!(effect(&p, &wrong_label), Effect::Deny);
}

#[test]
fn cel_when_true_false_and_every_variable() {
    let p = policy(
        r#"
default = "deny"
[[rule]]
name = "cel"
effect = "allow"
when = """
action == 'deploy' && args.replicas <= 10 && labels.team == 'web'
&& requester.startsWith('ci-') && session_id == 's1' && risk == 'low'
"""
"#,
    );
    let mut r = req("deploy", json!({"replicas": 3}))
        .by("ci-bot")
        .label("team", "web");
    r.session_id = Some("s1".into());
    r.risk = Some(Risk::Low);
    assert_eq!(effect(&p, &r), Effect::Allow);
    r.args.insert("replicas".into(), json!(11));
    assert_eq!(effect(&p, &r), Effect::Deny);
    r.args.insert("replicas".into(), json!(1));
    r.risk = Some(Risk::High);
    assert_eq!(effect(&p, &r), Effect::Deny);
    r.risk = Some(Risk::Low);
    r.session_id = None;
    assert_eq!(effect(&p, &r), Effect::Deny);
}

#[test]
fn cel_errors_fail_closed() {
    // `args.missing` is an error (no such key); a string is not a bool.
    for when in ["args.missing > 1", "'yes'", "1 / 0 == 1"] {
        let allow = policy(&format!(
            "default = \"ask\"\n[[rule]]\nname = \"a\"\neffect = \"allow\"\nwhen = {when:?}"
        ));
        assert_eq!(effect(&allow, &req("x", json!({}))), Effect::Ask, "{when}");
        for strict in ["deny", "ask"] {
            let p = policy(&format!(
                "default = \"allow\"\n[[rule]]\nname = \"d\"\neffect = {strict:?}\nwhen = {when:?}"
            ));
            assert_eq!(effect(&p, &req("x", json!({}))).as_str(), strict, "{when}");
        }
    }
}

#[test]
fn cel_presence_tests_and_dotted_keys_avoid_errors() {
    let p = policy(
        r#"
default = "allow"
[[rule]]
name = "payments"
effect = "ask"
when = "has(labels.team) && labels.team == 'payments'"
[[rule]]
name = "dotted"
effect = "deny"
when = "'a.b' in args && args['a.b'] == 'x'"
"#,
    );
    assert_eq!(decide(&p, &req("x", json!({}))), (Effect::Allow, None));
    assert_eq!(
        decide(&p, &req("x", json!({})).label("team", "payments")),
        (Effect::Ask, Some("payments".into()))
    );
    assert_eq!(
        decide(&p, &req("x", json!({"a.b": "x"}))),
        (Effect::Deny, Some("dotted".into()))
    );
    assert_eq!(
        decide(&p, &req("x", json!({"a.b": "y"}))),
        (Effect::Allow, None)
    );
}

#[test]
fn precedence_is_deny_then_ask_then_allow_whatever_the_order() {
    let rules = [
        ("allow-1", "allow"),
        ("ask-1", "ask"),
        ("deny-1", "deny"),
        ("allow-2", "allow"),
        ("ask-2", "ask"),
        ("deny-2", "deny"),
    ];
    let text = |order: &[usize]| {
        order
            .iter()
            .map(|&i| {
                format!(
                    "[[rule]]\nname = {:?}\neffect = {:?}\n",
                    rules[i].0, rules[i].1
                )
            })
            .collect::<String>()
    };
    let p = policy(&text(&[0, 1, 2, 3, 4, 5]));
    assert_eq!(
        decide(&p, &req("x", json!({}))),
        (Effect::Deny, Some("deny-1".into()))
    );
    let p = policy(&text(&[5, 3, 4, 0, 1, 2]));
    assert_eq!(
        decide(&p, &req("x", json!({}))),
        (Effect::Deny, Some("deny-2".into()))
    );
    let p = policy(&text(&[0, 3, 4, 1]));
    assert_eq!(
        decide(&p, &req("x", json!({}))),
        (Effect::Ask, Some("ask-2".into()))
    );
    let p = policy(&text(&[3, 0]));
    assert_eq!(
        decide(&p, &req("x", json!({}))),
        (Effect::Allow, Some("allow-2".into()))
    );
}

#[test]
fn precedence_only_among_matching_rules() {
    let p = policy(
        r#"
[[rule]]
name = "allow-reads"
effect = "allow"
action = "fs.read*"
[[rule]]
name = "deny-writes"
effect = "deny"
action = "fs.write*"
[[rule]]
name = "ask-secrets"
effect = "ask"
args = { path = "/secrets/*" }
"#,
    );
    assert_eq!(
        decide(&p, &req("fs.read", json!({"path": "/tmp/x"}))),
        (Effect::Allow, Some("allow-reads".into()))
    );
    assert_eq!(
        decide(&p, &req("fs.read", json!({"path": "/secrets/db"}))),
        (Effect::Ask, Some("ask-secrets".into()))
    );
    assert_eq!(
        decide(&p, &req("fs.write", json!({"path": "/secrets/db"}))),
        (Effect::Deny, Some("deny-writes".into()))
    );
    assert_eq!(
        p.matching_rules(&req("fs.write", json!({"path": "/secrets/db"})).input()),
        ["deny-writes", "ask-secrets"]
    );
}

#[test]
fn allow_self_review_and_placement_come_from_the_deciding_rule() {
    let p = policy(
        "[[rule]]\nname = \"self\"\neffect = \"ask\"\nallow_self_review = true\nrisk = \"critical\"",
    );
    let e = p.evaluate(&req("x", json!({})).input());
    assert!(e.placement.allow_self_review);
    assert_eq!(e.placement.risk, Some(Risk::Critical));
    assert_eq!(e.placement.rule.as_deref(), Some("self"));
}

const SHELL_POLICY: &str = r#"
default = "ask"
[[rule]]
name = "tests"
effect = "allow"
action = "shell"
command = ["npm test*", "ls*", "echo *"]
[[rule]]
name = "no-rm"
effect = "deny"
action = "shell"
command = ["rm -rf*"]
"#;

#[test]
fn shell_aware_command_matching() {
    let p = policy(SHELL_POLICY);
    let cases: &[(&str, Effect)] = &[
        ("npm test", Effect::Allow),
        ("npm   test  --watch", Effect::Allow),
        ("npm test && ls -la", Effect::Allow),
        ("npm test | echo done", Effect::Allow),
        ("npm test && rm -rf /", Effect::Deny),
        ("npm test && curl x | sh", Effect::Ask),
        ("npm test; make", Effect::Ask),
        ("npm test $(curl x)", Effect::Ask),
        ("echo 'a && b'", Effect::Allow),
        ("echo 'rm -rf /'", Effect::Allow),
        ("sudo npm test", Effect::Ask),
        ("FOO=1 npm test", Effect::Ask),
        ("sudo rm -rf /", Effect::Deny),
        ("env X=1 rm -rf /", Effect::Deny),
        ("bash -c 'rm -rf /'", Effect::Deny),
        ("echo $(rm -rf /)", Effect::Deny),
        ("echo `rm -rf /`", Effect::Deny),
        ("nice -n 5 rm -rf /", Effect::Deny),
        ("timeout 5 rm -rf /", Effect::Deny),
        ("timeout -s KILL 5 rm -rf /", Effect::Deny),
        ("nohup rm -rf /", Effect::Deny),
        ("FOO=bar rm -rf /", Effect::Deny),
        ("true; rm -rf /", Effect::Deny),
        ("a | rm -rf /", Effect::Deny),
        ("x & rm -rf /", Effect::Deny),
        ("ls\nrm -rf /", Effect::Deny),
        ("rm   -rf   /tmp/x", Effect::Deny),
        ("echo \"$(rm -rf /)\"", Effect::Deny),
        ("echo '>'& rm -rf /", Effect::Deny),
        // Unparseable: never allowed, always caught by deny/ask.
        ("npm test 'oops", Effect::Deny),
        ("npm test $(oops", Effect::Deny),
        ("", Effect::Ask),
        ("   ", Effect::Ask),
    ];
    for (command, want) in cases {
        assert_eq!(effect(&p, &shell(command)), *want, "{command:?}");
    }
}

#[test]
fn unparseable_commands_never_allow_and_are_caught_by_ask() {
    let p = policy(
        "default = \"deny\"\n[[rule]]\nname = \"all\"\neffect = \"allow\"\ncommand = [\"*\"]",
    );
    assert_eq!(effect(&p, &shell("anything at all")), Effect::Allow);
    assert_eq!(effect(&p, &shell("echo \"unbalanced")), Effect::Deny);
    assert_eq!(effect(&p, &shell("echo `x")), Effect::Deny);
    let p = policy(
        "default = \"allow\"\n[[rule]]\nname = \"git\"\neffect = \"ask\"\ncommand = [\"git push*\"]",
    );
    assert_eq!(effect(&p, &shell("echo \"unbalanced")), Effect::Ask);
    assert_eq!(effect(&p, &shell("ls")), Effect::Allow);
}

#[test]
fn command_matcher_needs_a_string_command() {
    let p = policy(
        "default = \"allow\"\n[[rule]]\nname = \"d\"\neffect = \"deny\"\ncommand = [\"*\"]\n\
         [[rule]]\nname = \"a\"\neffect = \"allow\"\ncommand = [\"*\"]",
    );
    for args in [
        json!({}),
        json!({"command": ["rm", "-rf"]}),
        json!({"command": 1}),
    ] {
        assert_eq!(
            decide(&p, &req("shell", args.clone())),
            (Effect::Allow, None),
            "{args}"
        );
    }
}

#[test]
fn examples_run_at_load_and_name_rule_and_example() {
    let e = error(
        r#"
[[rule]]
name = "prod-deploys"
effect = "ask"
action = "deploy"
args = { env = "prod*" }
examples.match = [{ action = "deploy", args = { env = "prod" } }, { action = "deploy", args = { env = "dev" } }]
"#,
    );
    assert_eq!(e.rule, Some(RuleRef::Name("prod-deploys".into())));
    assert_eq!(e.field.as_deref(), Some("examples.match[1]"));
    let text = e.to_string();
    assert!(
        text.starts_with("policy.toml: rule \"prod-deploys\": field examples.match[1]: "),
        "{text}"
    );
    assert!(text.contains("the policy answers ask by default"), "{text}");

    let e = error(
        r#"
[[rule]]
name = "all"
effect = "allow"
[[rule]]
name = "prod"
effect = "deny"
args = { env = "prod*" }
examples.no_match = [{ action = "deploy", args = { env = "production" } }]
"#,
    );
    assert_eq!(e.field.as_deref(), Some("examples.no_match[0]"));
    assert!(
        e.to_string().contains("answers deny by rule \"prod\""),
        "{e}"
    );
}

#[test]
fn examples_can_carry_labels_requester_session_and_risk() {
    policy(
        r#"
[[rule]]
name = "r"
effect = "ask"
requester = "ci-*"
labels = { team = "web" }
when = "session_id == 's' && risk == 'high'"
examples.match = [{ action = "x", requester = "ci-1", labels = { team = "web" }, session_id = "s", risk = "high" }]
examples.no_match = [{ action = "x", requester = "ci-1", labels = { team = "web" }, session_id = "s" }]
"#,
    );
}

#[test]
fn run_examples_reports_every_failure() {
    let p = policy("[[rule]]\nname = \"r\"\neffect = \"ask\"\naction = \"a\"");
    assert!(p.run_examples().is_empty());
    let text = r#"
[[rule]]
name = "a"
effect = "deny"
action = "a"
examples.match = [{ action = "b" }, { action = "a" }]
examples.no_match = [{ action = "a" }]
[[rule]]
name = "b"
effect = "allow"
action = "b"
examples.match = [{ action = "c" }]
"#;
    assert!(Policy::from_toml(text, "p.toml").is_err());
    let p = Policy::compile(text, "p.toml").unwrap();
    let failures: Vec<_> = p
        .run_examples()
        .into_iter()
        .map(|f| (f.rule, f.kind, f.index, f.got_effect, f.got_rule))
        .collect();
    assert_eq!(
        failures,
        [
            (
                "a".into(),
                ExampleKind::Match,
                0,
                Effect::Allow,
                Some("b".into())
            ),
            (
                "a".into(),
                ExampleKind::NoMatch,
                0,
                Effect::Deny,
                Some("a".into())
            ),
            ("b".into(), ExampleKind::Match, 0, Effect::Ask, None),
        ]
    );
}

#[test]
fn rules_are_listed_with_their_matchers() {
    let p = policy(REFERENCE_EXAMPLE);
    let rules = p.rules();
    assert_eq!(
        rules.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["reads", "no-force-push", "prod-deploys"]
    );
    assert_eq!(rules[0].matchers, ["action = \"fs.read*\""]);
    assert_eq!(
        rules[1].matchers,
        [
            "action = \"shell\"",
            "command = [\"git push --force*\", \"git push -f*\"]"
        ]
    );
    assert_eq!(
        rules[1].reason.as_deref(),
        Some("force pushes are never allowed")
    );
    assert_eq!(rules[2].effect, Effect::Ask);
    assert!(
        rules[2]
            .matchers
            .contains(&"args.env = \"prod*\"".to_string())
    );
    let listed = serde_json::to_value(&rules[0]).unwrap();
    assert_eq!(
        listed,
        json!({"name": "reads", "effect": "allow", "matchers": ["action = \"fs.read*\""]})
    );
    assert_eq!(
        serde_json::to_value(&rules[2]).unwrap(),
        json!({
            "name": "prod-deploys",
            "effect": "ask",
            "matchers": [
                "action = \"deploy\"",
                "args.env = \"prod*\"",
                "when = \"args.replicas > 10 || labels.team == 'payments'\""
            ],
            "risk": "high",
            "timeout": "30m",
            "escalate_after": "10m",
            "quorum": [{"group": "sre", "min": 2}, {"group": "security", "min": 1}]
        })
    );
}

fn assert_error(text: &str, rule: Option<RuleRef>, field: &str, needle: &str) {
    let e = error(text);
    assert_eq!(e.source, "policy.toml");
    assert_eq!(e.rule, rule, "{e}");
    assert_eq!(e.field.as_deref(), Some(field), "{e}");
    assert!(e.to_string().contains(needle), "{e} lacks {needle:?}");
}

fn named(name: &str) -> Option<RuleRef> {
    Some(RuleRef::Name(name.into()))
}

#[test]
fn every_error_names_file_rule_and_field() {
    let head = "[[rule]]\nname = \"r\"\neffect = \"ask\"\n";
    let cases: Vec<(String, Option<RuleRef>, &str, &str)> = vec![
        (
            format!("{head}acton = \"x\""),
            named("r"),
            "acton",
            "unknown key",
        ),
        ("defualt = \"ask\"".into(), None, "defualt", "unknown key"),
        ("default = \"maybe\"".into(), None, "default", "must be"),
        ("rule = 1".into(), None, "rule", "[[rule]]"),
        (
            format!("{head}args = {{ env = \"[\" }}"),
            named("r"),
            "args.env",
            "invalid glob",
        ),
        (
            format!("{head}args = {{ env = \"re:(\" }}"),
            named("r"),
            "args.env",
            "invalid regex",
        ),
        (
            format!("{head}args = {{ a = {{ b = \"re:[\" }} }}"),
            named("r"),
            "args.a.b",
            "invalid regex",
        ),
        (
            format!("{head}args = {{ n = 1 }}"),
            named("r"),
            "args.n",
            "must be a string",
        ),
        (
            format!("{head}action = \"a[\""),
            named("r"),
            "action",
            "invalid glob",
        ),
        (
            format!("{head}requester = \"re:*\""),
            named("r"),
            "requester",
            "invalid regex",
        ),
        (
            format!("{head}labels = {{ team = \"[\" }}"),
            named("r"),
            "labels.team",
            "invalid glob",
        ),
        (
            format!("{head}command = [\"ok\", \"[\"]"),
            named("r"),
            "command[1]",
            "invalid glob",
        ),
        (
            format!("{head}command = []"),
            named("r"),
            "command",
            "at least one",
        ),
        (
            format!("{head}when = \"args.x >\""),
            named("r"),
            "when",
            "invalid CEL",
        ),
        (
            format!("{head}when = \"arg.x > 1\""),
            named("r"),
            "when",
            "unknown variable `arg`",
        ),
        (
            format!("{head}timeout = \"soon\""),
            named("r"),
            "timeout",
            "invalid duration",
        ),
        (
            format!("{head}timeout = \"0s\""),
            named("r"),
            "timeout",
            "longer than zero",
        ),
        (
            format!("{head}escalate_after = \"1x\""),
            named("r"),
            "escalate_after",
            "invalid duration",
        ),
        (
            format!("{head}timeout = \"10m\"\nescalate_after = \"1h\""),
            named("r"),
            "escalate_after",
            "shorter than timeout",
        ),
        (
            format!("{head}quorum = [{{ group = \"sre\", min = 0 }}]"),
            named("r"),
            "quorum[0].min",
            "at least 1",
        ),
        (
            format!("{head}quorum = [{{ group = \"\", min = 1 }}]"),
            named("r"),
            "quorum[0].group",
            "must not be empty",
        ),
        (
            format!("{head}quorum = [{{ group = \"sre\", min = 1, max = 2 }}]"),
            named("r"),
            "quorum[0].max",
            "unknown field `max`, expected `group` or `min`",
        ),
        (
            format!("{head}risk = \"extreme\""),
            named("r"),
            "risk",
            "unknown variant `extreme`",
        ),
        (
            format!("{head}allow_self_review = \"yes\""),
            named("r"),
            "allow_self_review",
            "invalid type",
        ),
        (
            format!("{head}examples.match = [{{ action = \"x\", argz = {{}} }}]"),
            named("r"),
            "examples.match[0].argz",
            "unknown field `argz`",
        ),
        (
            format!("{head}examples.maybe = []"),
            named("r"),
            "examples.maybe",
            "unknown field `maybe`",
        ),
        (
            "[[rule]]\neffect = \"ask\"".into(),
            Some(RuleRef::Index(1)),
            "rule",
            "missing field `name`",
        ),
        (
            "[[rule]]\nname = \"a\"\neffect = \"ask\"\n[[rule]]\nname = \"b\"".into(),
            named("b"),
            "rule",
            "missing field `effect`",
        ),
        (format!("{head}effect = \"ask\""), None, "", ""),
        (
            format!("{head}[[rule]]\nname = \"r\"\neffect = \"deny\""),
            Some(RuleRef::Index(0)),
            "name",
            "duplicate rule name (rule #1",
        ),
        (
            format!("{head}effect2 = 1"),
            named("r"),
            "effect2",
            "unknown key",
        ),
        (
            "[[rule]]\nname = \"\"\neffect = \"ask\"".into(),
            Some(RuleRef::Index(1)),
            "name",
            "non-empty",
        ),
    ];
    for (text, rule, field, needle) in cases {
        if field.is_empty() {
            // A TOML syntax error: a line, no rule or field.
            let e = error(&text);
            assert_eq!(e.line, Some(4), "{e}");
            assert!(
                e.to_string().starts_with("policy.toml:4: invalid TOML"),
                "{e}"
            );
            continue;
        }
        let rule = match rule {
            Some(RuleRef::Index(0)) => named("r"),
            other => other,
        };
        assert_error(&text, rule, field, needle);
    }
}

#[test]
fn error_display_reads_like_the_spec() {
    let e = error("[[rule]]\nname = \"prod-deploys\"\neffect = \"ask\"\nargs = { env = \"re:(\" }");
    assert!(
        e.to_string()
            .starts_with("policy.toml: rule \"prod-deploys\": field args.env: invalid regex"),
        "{e}"
    );
    let e = error("[[rule]]\neffect = \"ask\"\naction = \"[\"");
    assert!(
        e.to_string().starts_with("policy.toml: rule #1: field "),
        "{e}"
    );
}

#[test]
fn policy_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Policy>();
}

#[test]
fn input_from_a_create_request() {
    let p = policy(
        "[[rule]]\nname = \"r\"\neffect = \"deny\"\nwhen = \"session_id == 's' && risk == 'low'\"",
    );
    let request = CreateApproval {
        action: "x".into(),
        session_id: Some("s".into()),
        risk: Some(Risk::Low),
        ..Default::default()
    };
    // A deny rule whose `when` is true; with session_id missing, CEL compares
    // null to a string, which is false rather than an error.
    assert_eq!(
        p.evaluate(&Input::new(&request, "bot")).effect,
        Effect::Deny
    );
    let other = CreateApproval {
        action: "x".into(),
        ..Default::default()
    };
    assert_eq!(p.evaluate(&Input::new(&other, "bot")).effect, Effect::Ask);
}

fn with_no_trailing_backslash(mut prefix: String) -> String {
    if prefix.ends_with('\\') {
        prefix.push('x');
    }
    prefix
}

/// Pieces of shell syntax, combined at random to reach the lexer's corners.
const SHELL_TOKENS: &[&str] = &[
    "npm test",
    "echo",
    " ",
    "\t",
    "'",
    "\"",
    "$(",
    ")",
    "(",
    "`",
    "\\",
    ";",
    "&",
    "&&",
    "|",
    "||",
    "#",
    "\n",
    "${",
    "}",
    "{",
    "<(",
    ">(",
    ">",
    "<",
    "&>",
    "2>&1",
    "bash -c ",
    "sh -c '",
    "eval ",
    "sudo ",
    "env X=1 ",
    "x",
    "$'",
    "$\"",
    "\\`",
    "timeout 5 ",
    "<<EOF",
];

/// Words an allow rule `npm test*` accepts after `npm test`.
fn safe_words() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[a-zA-Z0-9_./=:-]{1,12}", 0..6)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn appending_a_command_never_yields_allow(
        words in safe_words(),
        spaces in "[ \t]{1,3}",
        suffix in prop::sample::select(vec![
            "; rm -rf /",
            "&& curl x | sh",
            " $(rm -rf /)",
            " `rm -rf /`",
            "\nrm -rf /",
            " & rm -rf /",
            " || rm -rf /",
            " | sh",
            " \"$(rm -rf /)\"",
            " <(rm -rf /)",
        ]),
    ) {
        let p = policy(
            "default = \"ask\"\n[[rule]]\nname = \"tests\"\neffect = \"allow\"\ncommand = [\"npm test*\"]",
        );
        let mut command = format!("npm{spaces}test");
        for w in &words {
            command.push(' ');
            command.push_str(w);
        }
        prop_assert_eq!(effect(&p, &shell(&command)), Effect::Allow, "{}", command);
        let attacked = format!("{command}{suffix}");
        prop_assert_eq!(effect(&p, &shell(&attacked)), Effect::Ask, "{}", attacked);
    }

    #[test]
    fn any_line_ending_in_rm_is_denied_or_refused(prefix in "[ -~\n]{0,40}") {
        // Whatever precedes it, a new line running `rm -rf /` is either seen
        // (deny) or the whole line is refused (deny, fail closed). A trailing
        // backslash would join the lines in a shell too, so it is escaped away.
        let prefix = with_no_trailing_backslash(prefix);
        let p = policy(
            "default = \"allow\"\n[[rule]]\nname = \"no-rm\"\neffect = \"deny\"\ncommand = [\"rm -rf*\"]",
        );
        let line = format!("{prefix}\nrm -rf /");
        prop_assert_eq!(effect(&p, &shell(&line)), Effect::Deny, "{:?}", line);
    }

    #[test]
    fn shell_shaped_prefixes_never_let_a_new_line_through(
        tokens in prop::collection::vec(prop::sample::select(SHELL_TOKENS.to_vec()), 0..12),
    ) {
        let prefix = with_no_trailing_backslash(tokens.concat());
        let line = format!("{prefix}\nrm -rf /");
        let allow = policy(
            "default = \"ask\"\n[[rule]]\nname = \"t\"\neffect = \"allow\"\ncommand = [\"npm test*\", \"echo *\"]",
        );
        prop_assert_ne!(effect(&allow, &shell(&line)), Effect::Allow, "{:?}", line);
        let deny = policy(
            "default = \"allow\"\n[[rule]]\nname = \"no-rm\"\neffect = \"deny\"\ncommand = [\"rm -rf*\"]",
        );
        prop_assert_eq!(effect(&deny, &shell(&line)), Effect::Deny, "{:?}", line);
    }

    #[test]
    fn splitting_never_panics(line in "\\PC{0,80}") {
        let _ = shell::split(&line);
    }
}

const LOOK_POLICY: &str = r#"
default = "ask"

[[rule]]
name = "look"
effect = "allow"
command = ["git status*", "ls*"]
"#;

#[test]
fn redirecting_output_to_a_file_never_matches_an_allow_rule() {
    let p = policy(LOOK_POLICY);
    for line in [
        "git status > /etc/passwd",
        "git status >> ~/.bashrc",
        "ls > /dev/sda",
        "ls &> out.txt",
        "ls >| x",
        "ls 1>x",
        "ls>x",
        "ls 2> err.log",
        "ls &>> out.txt",
        "ls >& out.txt",
        "ls <> f",
        "> /etc/passwd",
        "ls && git status > /etc/passwd",
        "ls > \"/dev/null\"x",
        "ls >",
    ] {
        assert_eq!(effect(&p, &shell(line)), Effect::Ask, "{line:?}");
    }
    let cat = policy("[[rule]]\nname = \"cat\"\neffect = \"allow\"\ncommand = [\"cat *\"]");
    assert_eq!(effect(&cat, &shell("cat README <<< x > y")), Effect::Ask);
    assert_eq!(effect(&cat, &shell("cat README <<< x")), Effect::Allow);
    assert_eq!(effect(&cat, &shell("cat < README")), Effect::Allow);
}

#[test]
fn dev_null_and_descriptor_copies_stay_harmless() {
    let p = policy(LOOK_POLICY);
    for line in [
        "ls 2>&1",
        "ls 2>/dev/null",
        "ls > /dev/null",
        "ls &>/dev/null",
        "git status 2>&1 | ls",
        "ls >&2",
        "ls 2>&-",
        "ls",
        "ls -la",
        "git status -s",
    ] {
        assert_eq!(effect(&p, &shell(line)), Effect::Allow, "{line:?}");
    }
}

#[test]
fn allow_redirects_lets_a_rule_allow_writing_files() {
    let p = policy(
        r#"
[[rule]]
name = "build"
effect = "allow"
command = ["make build*"]
allow_redirects = true
"#,
    );
    assert_eq!(
        effect(&p, &shell("make build > build.log 2>&1")),
        Effect::Allow
    );
    assert_eq!(effect(&p, &shell("make buildx > x")), Effect::Ask);
    assert!(
        error(
            "[[rule]]\nname = \"x\"\neffect = \"deny\"\ncommand = [\"a\"]\nallow_redirects = true"
        )
        .to_string()
        .contains("field allow_redirects")
    );
    assert!(
        error("[[rule]]\nname = \"x\"\neffect = \"allow\"\nallow_redirects = true")
            .to_string()
            .contains("only applies to an allow rule with a `command` matcher")
    );
}

#[test]
fn allow_globs_stop_at_word_boundaries_deny_globs_do_not() {
    let p =
        policy("[[rule]]\nname = \"t\"\neffect = \"allow\"\ncommand = [\"npm test*\", \"ls*\"]");
    for (line, want) in [
        ("npm test", Effect::Allow),
        ("npm test --watch", Effect::Allow),
        ("npm testx", Effect::Ask),
        ("npm test-evil", Effect::Ask),
        ("lsblk", Effect::Ask),
        ("ls", Effect::Allow),
    ] {
        assert_eq!(effect(&p, &shell(line)), want, "{line:?}");
    }
    let deny = policy(
        "default = \"allow\"\n[[rule]]\nname = \"f\"\neffect = \"deny\"\ncommand = [\"git push -f*\"]",
    );
    assert_eq!(effect(&deny, &shell("git push -fu origin")), Effect::Deny);
    assert_eq!(
        effect(&deny, &shell("git push -f origin > /tmp/x")),
        Effect::Deny
    );
}

#[test]
fn deny_rules_still_see_redirections() {
    let p = policy(
        "default = \"allow\"\n[[rule]]\nname = \"etc\"\neffect = \"deny\"\ncommand = [\"*>/etc/*\"]",
    );
    assert_eq!(effect(&p, &shell("echo x > /etc/passwd")), Effect::Deny);
    assert_eq!(effect(&p, &shell("echo x")), Effect::Allow);
}

#[test]
fn parts_show_each_command_and_its_redirections() {
    let parts = shell::parts("git status > /etc/passwd 2>&1 && ls").unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].text, "git status");
    let redirects: Vec<(&str, &str, bool)> = parts[0]
        .redirects
        .iter()
        .map(|r| (r.op.as_str(), r.target.as_str(), r.writes_file))
        .collect();
    assert_eq!(redirects, [(">", "/etc/passwd", true), ("2>&", "1", false)]);
    assert_eq!(
        (parts[1].text.as_str(), parts[1].redirects.len()),
        ("ls", 0)
    );
}

const STRUCTURE_POLICY: &str = r#"
default = "allow"

[[rule]]
name = "prod"
effect = "ask"
action = "deploy"
args = { env = "prod*" }

[[rule]]
name = "prod-any-case"
effect = "ask"
action = "release"
args = { env = "prod*" }
ignore_case = true

[[rule]]
name = "billing"
effect = "deny"
action = "billing.*"
ignore_case = true
"#;

#[test]
fn deny_and_ask_args_matchers_see_through_structure_whitespace_and_case() {
    let p = policy(STRUCTURE_POLICY);
    for args in [
        json!({"env": "prod"}),
        json!({"env": ["prod"]}),
        json!({"env": {"name": "prod"}}),
        json!({"env": " prod"}),
        json!({"env": "prod \n"}),
        json!({"env": [["x", {"deep": ["prod-eu"]}]]}),
    ] {
        assert_eq!(
            decide(&p, &req("deploy", args.clone())),
            (Effect::Ask, Some("prod".into())),
            "{args}"
        );
    }
    assert_eq!(
        effect(&p, &req("deploy", json!({"env": "PROD"}))),
        Effect::Allow
    );
    assert_eq!(
        effect(&p, &req("deploy", json!({"env": ["staging"]}))),
        Effect::Allow
    );
    assert_eq!(
        effect(&p, &req("release", json!({"env": "PROD"}))),
        Effect::Ask
    );
    assert_eq!(
        effect(&p, &req("release", json!({"env": [" Prod-EU "]}))),
        Effect::Ask
    );
    assert_eq!(
        decide(&p, &req("Billing.Charge", json!({}))),
        (Effect::Deny, Some("billing".into()))
    );
    assert_eq!(effect(&p, &req("BILLING.refund", json!({}))), Effect::Deny);
}

#[test]
fn deny_args_paths_fan_out_over_arrays() {
    let p = policy(
        "default = \"allow\"\n[[rule]]\nname = \"t\"\neffect = \"deny\"\nargs = { \"target.env\" = \"prod\" }",
    );
    assert_eq!(
        effect(
            &p,
            &req("x", json!({"target": [{"env": "dev"}, {"env": "prod"}]}))
        ),
        Effect::Deny
    );
}

#[test]
fn allow_args_matchers_need_a_matching_string() {
    let p = policy("[[rule]]\nname = \"srv\"\neffect = \"allow\"\nargs = { path = \"/srv/*\" }");
    assert_eq!(
        effect(&p, &req("fs.write", json!({"path": "/srv/x"}))),
        Effect::Allow
    );
    for args in [
        json!({"path": ["/srv/x", "/etc/shadow"]}),
        json!({"path": ["/srv/x"]}),
        json!({"path": {"p": "/srv/x"}}),
        json!({"path": " /srv/x"}),
    ] {
        assert_eq!(
            effect(&p, &req("fs.write", args.clone())),
            Effect::Ask,
            "{args}"
        );
    }
}

#[test]
fn ignore_case_and_allow_redirects_are_listed() {
    let p = policy(STRUCTURE_POLICY);
    let rules = p.rules();
    assert!(rules[1].ignore_case && !rules[0].ignore_case);
    let json = serde_json::to_value(&rules[1]).unwrap();
    assert_eq!(json["ignore_case"], true);
}

/// Words after an allowed `ls` / `git status`.
fn redirect_targets() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "> /etc/passwd",
        ">> ~/.bashrc",
        "&> out.txt",
        ">| x",
        "1>x",
        "2>err",
        ">x",
        "&>>log",
        ">&f",
        "> \"$HOME/.profile\"",
        "<> f",
    ])
    .prop_map(str::to_owned)
}

/// Wraps a JSON value in arrays and objects, `layers` deep.
fn wrap(mut value: Value, layers: &[bool]) -> Value {
    for &array in layers {
        value = if array {
            json!(["noise", value, 1])
        } else {
            json!({"noise": "x", "inner": value})
        };
    }
    value
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_file_redirection_on_any_part_never_stays_allowed(
        parts in prop::collection::vec(
            (prop::sample::select(vec!["ls", "git status"]), safe_words()),
            1..4,
        ),
        at in 0usize..4,
        redirect in redirect_targets(),
        joiner in prop::sample::select(vec![" && ", " | ", "; ", " || "]),
    ) {
        let p = policy(LOOK_POLICY);
        let texts: Vec<String> = parts
            .iter()
            .map(|(head, words)| {
                let mut t = head.to_string();
                for w in words {
                    t.push(' ');
                    t.push_str(w);
                }
                t
            })
            .collect();
        let line = texts.join(joiner);
        prop_assert_eq!(effect(&p, &shell(&line)), Effect::Allow, "{}", line);
        let at = at % texts.len();
        let mut attacked = texts.clone();
        attacked[at] = format!("{} {redirect}", attacked[at]);
        let attacked = attacked.join(joiner);
        prop_assert_eq!(effect(&p, &shell(&attacked)), Effect::Ask, "{}", attacked);
    }

    #[test]
    fn wrapping_a_matched_value_keeps_deny_and_ask_matching(
        value in prop::sample::select(vec!["prod", "prod-eu", " prod ", "production"]),
        layers in prop::collection::vec(any::<bool>(), 0..6),
    ) {
        let p = policy(STRUCTURE_POLICY);
        let args = json!({ "env": wrap(json!(value), &layers) });
        prop_assert_eq!(effect(&p, &req("deploy", args.clone())), Effect::Ask, "{}", args);
    }
}
