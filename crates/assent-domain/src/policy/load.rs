//! Reading a policy file: TOML into raw tables, raw tables into compiled
//! rules. Every refusal names the file, the rule and the field.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value as Json};
use toml::{Table, Value as Toml};

use super::error::{PolicyError, RuleRef};
use super::example::{Example, Examples};
use super::input::Effect;
use super::pattern::{self, Pattern};
use super::rule::{ArgMatcher, CommandMatcher, Rule};
use super::when::When;
use crate::approval::{QuorumStage, Risk};

const TOP_LEVEL_KEYS: &[&str] = &["default", "rule"];

const RULE_KEYS: &[&str] = &[
    "name",
    "effect",
    "action",
    "args",
    "command",
    "requester",
    "labels",
    "when",
    "risk",
    "timeout",
    "escalate_after",
    "quorum",
    "allow_self_review",
    "reason",
    "examples",
    "ignore_case",
    "allow_redirects",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    effect: Effect,
    action: Option<String>,
    args: Option<Table>,
    command: Option<Vec<String>>,
    requester: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    when: Option<String>,
    risk: Option<Risk>,
    timeout: Option<String>,
    escalate_after: Option<String>,
    quorum: Option<Vec<RawStage>>,
    #[serde(default)]
    allow_self_review: bool,
    reason: Option<String>,
    #[serde(default)]
    examples: RawExamples,
    #[serde(default)]
    ignore_case: bool,
    #[serde(default)]
    allow_redirects: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStage {
    group: String,
    min: u32,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExamples {
    #[serde(rename = "match", default)]
    matching: Vec<RawExample>,
    #[serde(default)]
    no_match: Vec<RawExample>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExample {
    action: String,
    #[serde(default)]
    args: Table,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    requester: String,
    session_id: Option<String>,
    risk: Option<Risk>,
}

/// The parsed file: the default effect and the compiled rules in file order.
pub(crate) struct Loaded {
    pub default: Effect,
    pub rules: Vec<Rule>,
    pub examples: Vec<Examples>,
}

pub(crate) fn load(text: &str, source: &str) -> Result<Loaded, PolicyError> {
    let top: Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e.span().map(|span| line_of(text, span.start));
        PolicyError::new(source, format!("invalid TOML: {}", e.message())).at_line(line)
    })?;
    for key in top.keys() {
        if !TOP_LEVEL_KEYS.contains(&key.as_str()) {
            return Err(
                PolicyError::new(source, "unknown key (expected `default` or `[[rule]]`)")
                    .in_field(key.as_str()),
            );
        }
    }
    let default = match top.get("default") {
        None => Effect::Ask,
        Some(value) => value.as_str().and_then(Effect::parse).ok_or_else(|| {
            PolicyError::new(source, "must be \"allow\", \"deny\" or \"ask\"").in_field("default")
        })?,
    };
    let raw_rules = match top.get("rule") {
        None => &[][..],
        Some(Toml::Array(rules)) => rules.as_slice(),
        Some(_) => {
            return Err(
                PolicyError::new(source, "must be an array of tables: write `[[rule]]`")
                    .in_field("rule"),
            );
        }
    };
    let mut rules = Vec::with_capacity(raw_rules.len());
    let mut examples = Vec::with_capacity(raw_rules.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, value) in raw_rules.iter().enumerate() {
        let rule_ref = value
            .get("name")
            .and_then(Toml::as_str)
            .filter(|name| !name.is_empty())
            .map_or(RuleRef::Index(index + 1), |name| {
                RuleRef::Name(name.to_owned())
            });
        let fail = |field: &str, message: String| {
            PolicyError::new(source, message)
                .in_rule(rule_ref.clone())
                .in_field(field)
        };
        let (rule, rule_examples) = compile(value, &fail)?;
        if let Some(first) = seen.insert(rule.name.clone(), index + 1) {
            return Err(fail(
                "name",
                format!("duplicate rule name (rule #{first} has it too)"),
            ));
        }
        rules.push(rule);
        examples.push(rule_examples);
    }
    Ok(Loaded {
        default,
        rules,
        examples,
    })
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()
        .iter()
        .take(offset)
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn compile(
    value: &Toml,
    fail: &dyn Fn(&str, String) -> PolicyError,
) -> Result<(Rule, Examples), PolicyError> {
    let Some(table) = value.as_table() else {
        return Err(fail("rule", "must be a table: write `[[rule]]`".into()));
    };
    for key in table.keys() {
        if !RULE_KEYS.contains(&key.as_str()) {
            return Err(fail(key, "unknown key".into()));
        }
    }
    let raw: RawRule = serde_path_to_error::deserialize(value.clone()).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "rule".to_owned() } else { path };
        fail(&field, e.into_inner().message().to_owned())
    })?;
    if raw.name.is_empty() || raw.name.chars().any(char::is_control) {
        return Err(fail(
            "name",
            "must be non-empty, without control characters".into(),
        ));
    }
    let pattern_of =
        |field: &str, source: &str| Pattern::new(source).map_err(|message| fail(field, message));
    let action = raw
        .action
        .as_deref()
        .map(|a| Pattern::with_case(a, raw.ignore_case).map_err(|message| fail("action", message)))
        .transpose()?;
    let requester = raw
        .requester
        .as_deref()
        .map(|r| pattern_of("requester", r))
        .transpose()?;
    let mut labels = Vec::new();
    for (key, source) in raw.labels.iter().flatten() {
        labels.push((key.clone(), pattern_of(&format!("labels.{key}"), source)?));
    }
    let mut args = Vec::new();
    if let Some(table) = &raw.args {
        flatten_args(table, "", raw.ignore_case, &mut args, fail)?;
    }
    if raw.allow_redirects && (raw.effect != Effect::Allow || raw.command.is_none()) {
        return Err(fail(
            "allow_redirects",
            "only applies to an allow rule with a `command` matcher".into(),
        ));
    }
    let command = raw
        .command
        .as_deref()
        .map(|globs| command_matcher(globs, raw.effect, raw.allow_redirects, fail))
        .transpose()?;
    let when = raw
        .when
        .as_deref()
        .map(|w| When::new(w).map_err(|message| fail("when", message)))
        .transpose()?;
    let timeout = raw
        .timeout
        .as_deref()
        .map(|t| duration("timeout", t, fail))
        .transpose()?;
    let escalate_after = raw
        .escalate_after
        .as_deref()
        .map(|t| duration("escalate_after", t, fail))
        .transpose()?;
    if let (Some(timeout), Some(escalate)) = (timeout, escalate_after)
        && escalate >= timeout
    {
        return Err(fail(
            "escalate_after",
            "must be shorter than timeout, or it can never fire".into(),
        ));
    }
    let mut quorum = Vec::new();
    for (i, stage) in raw.quorum.into_iter().flatten().enumerate() {
        if stage.group.is_empty() {
            return Err(fail(
                &format!("quorum[{i}].group"),
                "must not be empty".into(),
            ));
        }
        if stage.min == 0 {
            return Err(fail(
                &format!("quorum[{i}].min"),
                "must be at least 1".into(),
            ));
        }
        quorum.push(QuorumStage {
            group: stage.group,
            min: stage.min,
            approved_by: Vec::new(),
        });
    }
    let examples = Examples {
        matching: examples(raw.examples.matching, "match", fail)?,
        no_match: examples(raw.examples.no_match, "no_match", fail)?,
    };
    let rule = Rule {
        name: raw.name,
        effect: raw.effect,
        action,
        args,
        command,
        requester,
        labels,
        when,
        reason: raw.reason,
        risk: raw.risk,
        timeout,
        escalate_after,
        quorum,
        allow_self_review: raw.allow_self_review,
        ignore_case: raw.ignore_case,
    };
    Ok((rule, examples))
}

/// `args = { env = "prod*", meta = { team = "x" } }` and
/// `args = { "meta.team" = "x" }` both give the path `meta.team`.
fn flatten_args(
    table: &Table,
    prefix: &str,
    ignore_case: bool,
    out: &mut Vec<ArgMatcher>,
    fail: &dyn Fn(&str, String) -> PolicyError,
) -> Result<(), PolicyError> {
    for (key, value) in table {
        let path = format!("{prefix}{key}");
        let field = format!("args.{path}");
        match value {
            Toml::String(source) => {
                let segments: Vec<String> = path.split('.').map(str::to_owned).collect();
                if segments.iter().any(String::is_empty) {
                    return Err(fail(&field, "empty segment in field path".into()));
                }
                let pattern = Pattern::with_case(source, ignore_case)
                    .map_err(|message| fail(&field, message))?;
                out.push(ArgMatcher {
                    path,
                    segments,
                    pattern,
                });
            }
            Toml::Table(nested) => {
                flatten_args(nested, &format!("{path}."), ignore_case, out, fail)?
            }
            _ => {
                return Err(fail(
                    &field,
                    "must be a string: a glob, or \"re:<regex>\"".into(),
                ));
            }
        }
    }
    Ok(())
}

/// Deny and ask rules index each glob as written (whitespace-normalised);
/// allow rules index its word-bounded forms.
fn command_matcher(
    globs: &[String],
    effect: Effect,
    allow_redirects: bool,
    fail: &dyn Fn(&str, String) -> PolicyError,
) -> Result<CommandMatcher, PolicyError> {
    if globs.is_empty() {
        return Err(fail("command", "must list at least one glob".into()));
    }
    let mut normalised = Vec::with_capacity(globs.len());
    let mut compiled = Vec::with_capacity(globs.len());
    for (i, source) in globs.iter().enumerate() {
        let words = source.split_whitespace().collect::<Vec<_>>().join(" ");
        pattern::glob(&words).map_err(|message| fail(&format!("command[{i}]"), message))?;
        let forms = match effect {
            Effect::Allow => pattern::word_bounded(&words),
            Effect::Ask | Effect::Deny => vec![words],
        };
        for form in forms {
            compiled.push(
                pattern::glob(&form).map_err(|message| fail(&format!("command[{i}]"), message))?,
            );
            normalised.push(form);
        }
    }
    Ok(CommandMatcher {
        globs: globs.to_vec(),
        allow_redirects,
        normalised,
        compiled,
        slot: 0,
    })
}

fn duration(
    field: &str,
    text: &str,
    fail: &dyn Fn(&str, String) -> PolicyError,
) -> Result<Duration, PolicyError> {
    let parsed = humantime::parse_duration(text).map_err(|e| {
        fail(
            field,
            format!("invalid duration {text:?}: {e} (write e.g. \"30m\")"),
        )
    })?;
    if parsed.is_zero() {
        return Err(fail(field, "must be longer than zero".into()));
    }
    Ok(parsed)
}

fn examples(
    raw: Vec<RawExample>,
    kind: &str,
    fail: &dyn Fn(&str, String) -> PolicyError,
) -> Result<Vec<Example>, PolicyError> {
    raw.into_iter()
        .enumerate()
        .map(|(i, example)| {
            let Json::Object(args) = json(Toml::Table(example.args)) else {
                return Err(fail(
                    &format!("examples.{kind}[{i}].args"),
                    "must be a table".into(),
                ));
            };
            Ok(Example {
                action: example.action,
                args,
                labels: example.labels,
                requester: example.requester,
                session_id: example.session_id,
                risk: example.risk,
            })
        })
        .collect()
}

/// TOML to JSON; datetimes become their RFC 3339 text, non-finite floats null.
fn json(value: Toml) -> Json {
    match value {
        Toml::String(s) => Json::String(s),
        Toml::Integer(i) => Json::from(i),
        Toml::Float(f) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
        Toml::Boolean(b) => Json::Bool(b),
        Toml::Datetime(d) => Json::String(d.to_string()),
        Toml::Array(items) => Json::Array(items.into_iter().map(json).collect()),
        Toml::Table(table) => Json::Object(
            table
                .into_iter()
                .map(|(k, v)| (k, json(v)))
                .collect::<Map<_, _>>(),
        ),
    }
}
