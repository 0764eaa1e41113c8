//! One compiled rule and how it matches a request.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::sync::Arc;
use std::time::Duration;

use globset::Glob;
use serde_json::Value;

use super::index::GlobIndex;
use super::input::{Effect, Input};
use super::pattern::Pattern;
use super::shell;
use super::when::{Variables, When};
use crate::approval::{QuorumStage, Risk};
use crate::request::Placement;

#[derive(Debug)]
pub(crate) struct Rule {
    pub name: String,
    pub effect: Effect,
    pub action: Option<Pattern>,
    pub args: Vec<ArgMatcher>,
    pub command: Option<CommandMatcher>,
    pub requester: Option<Pattern>,
    pub labels: Vec<(String, Pattern)>,
    pub when: Option<When>,
    pub reason: Option<String>,
    pub risk: Option<Risk>,
    pub timeout: Option<Duration>,
    pub escalate_after: Option<Duration>,
    pub quorum: Vec<QuorumStage>,
    pub allow_self_review: bool,
    /// Action and args globs match without regard to case.
    pub ignore_case: bool,
}

/// `args.<path> = "<pattern>"`.
#[derive(Debug)]
pub(crate) struct ArgMatcher {
    /// The dotted path as written, for messages and listings.
    pub path: String,
    pub segments: Vec<String>,
    pub pattern: Pattern,
}

/// `command = [globs]`, applied shell-aware to `args.command`.
#[derive(Debug)]
pub(crate) struct CommandMatcher {
    /// As written, for listings.
    pub globs: Vec<String>,
    /// Whether a simple command that writes to a file may still match (allow rules).
    pub allow_redirects: bool,
    /// Whitespace-normalised, and compiled, for the policy's command index.
    /// For allow rules a trailing `*` is split into "the prefix alone" and
    /// "the prefix, a space, anything", so it stops at a word boundary.
    pub normalised: Vec<String>,
    pub compiled: Vec<Glob>,
    /// This matcher's position in [`CommandIndex`].
    pub slot: usize,
}

/// Every command glob of the policy in one index (keyed by matcher slot),
/// so a command line is matched once per evaluation rather than per rule.
#[derive(Debug, Default)]
pub(crate) struct CommandIndex {
    pub globs: GlobIndex,
    pub slots: usize,
}

/// How `args.command` fares against every command matcher at once.
enum CommandHits {
    /// No `args.command` string: command matchers do not match.
    Absent,
    /// The line could not be split: fail closed.
    Unparseable,
    Parsed {
        /// Per slot: some form of some simple command matched.
        any: Vec<bool>,
        /// Per slot: there is a simple command and every one's text, or its
        /// text with its redirections, matched.
        every: Vec<bool>,
        /// Some simple command redirects output to a file.
        writes_file: bool,
    },
}

impl CommandHits {
    fn compute(index: &CommandIndex, command: Option<&Value>) -> Self {
        let Some(Value::String(line)) = command else {
            return CommandHits::Absent;
        };
        let Ok(parts) = shell::split(line) else {
            return CommandHits::Unparseable;
        };
        let mut any = vec![false; index.slots];
        let mut every = vec![!parts.is_empty(); index.slots];
        let mut row = vec![false; index.slots];
        let mut scratch = Vec::new();
        let mut writes_file = false;
        for part in &parts {
            row.fill(false);
            writes_file |= part.writes_file();
            // `seen_as` starts with the text as written and ends with the
            // text and its redirections (when it has any).
            let last = part.seen_as.len().saturating_sub(1);
            let with_redirects = !part.redirects.is_empty();
            for (i, form) in part.seen_as.iter().enumerate() {
                let written = i == 0 || (with_redirects && i == last);
                index.globs.for_each_match(form, &mut scratch, |slot| {
                    any[slot] = true;
                    if written {
                        row[slot] = true;
                    }
                });
            }
            for (e, r) in every.iter_mut().zip(&row) {
                *e &= *r;
            }
        }
        CommandHits::Parsed {
            any,
            every,
            writes_file,
        }
    }
}

/// What one evaluation knows about its request; the costly views (the
/// command hits, the CEL variables) are built at most once, and only when
/// a rule needs them.
pub(crate) struct Facts<'a> {
    input: &'a Input<'a>,
    env: &'a Arc<cel::Env>,
    command_index: &'a CommandIndex,
    commands: OnceCell<CommandHits>,
    variables: OnceCell<Variables>,
}

impl<'a> Facts<'a> {
    pub fn new(
        input: &'a Input<'a>,
        env: &'a Arc<cel::Env>,
        command_index: &'a CommandIndex,
    ) -> Self {
        Self {
            input,
            env,
            command_index,
            commands: OnceCell::new(),
            variables: OnceCell::new(),
        }
    }

    fn commands(&self) -> &CommandHits {
        self.commands.get_or_init(|| {
            CommandHits::compute(self.command_index, self.input.args.get("command"))
        })
    }

    fn variables(&self) -> &Variables {
        self.variables
            .get_or_init(|| Variables::new(self.env, self.input))
    }
}

impl Rule {
    /// Whether every matcher of the rule accepts the request. Cheap matchers
    /// run first so the shell split and CEL run only when they decide.
    pub fn matches(&self, facts: &Facts<'_>) -> bool {
        let input = facts.input;
        if let Some(action) = &self.action
            && !action.is_match(input.action)
        {
            return false;
        }
        let see_through = self.effect != Effect::Allow;
        if let Some(requester) = &self.requester
            && !requester.is_match(input.requester)
        {
            return false;
        }
        let labels_match = self.labels.iter().all(|(key, pattern)| {
            input
                .labels
                .get(key)
                .is_some_and(|value| pattern.is_match(value))
        });
        if !labels_match {
            return false;
        }
        if !self.args.iter().all(|m| m.matches(input, see_through)) {
            return false;
        }
        if let Some(command) = &self.command
            && !command.matches(self.effect, facts.commands())
        {
            return false;
        }
        match &self.when {
            // A failing or non-bool condition fails closed: it never lets an
            // allow rule through, and always lets deny/ask rules catch.
            Some(when) => when
                .eval(facts.variables())
                .unwrap_or(self.effect != Effect::Allow),
            None => true,
        }
    }

    pub fn placement(&self) -> Placement {
        Placement {
            rule: Some(self.name.clone()),
            risk: self.risk,
            timeout: self.timeout,
            escalate_after: self.escalate_after,
            quorum: self.quorum.clone(),
            allow_self_review: self.allow_self_review,
        }
    }

    /// Whether the rule's command matcher lets file redirections through.
    pub fn allow_redirects(&self) -> bool {
        self.command.as_ref().is_some_and(|c| c.allow_redirects)
    }

    /// One line per matcher, as written in the file.
    pub fn matcher_summary(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(action) = &self.action {
            out.push(format!("action = {:?}", action.source()));
        }
        for m in &self.args {
            out.push(format!("args.{} = {:?}", m.path, m.pattern.source()));
        }
        if let Some(command) = &self.command {
            out.push(format!("command = {:?}", command.globs));
        }
        if let Some(requester) = &self.requester {
            out.push(format!("requester = {:?}", requester.source()));
        }
        for (key, pattern) in &self.labels {
            out.push(format!("labels.{key} = {:?}", pattern.source()));
        }
        if let Some(when) = &self.when {
            out.push(format!("when = {:?}", when.source()));
        }
        out
    }
}

impl ArgMatcher {
    /// A missing field never matches. For allow rules (`see_through` off)
    /// the field must be a string that matches as it is. For deny and ask
    /// rules it matches when any string inside it, at any depth of arrays
    /// and objects (and through arrays on the way to it), matches as it is
    /// or with surrounding whitespace trimmed; numbers, booleans, null and
    /// whole arrays or objects also match by their compact JSON text (`10`,
    /// `true`, `["a","b"]`).
    fn matches(&self, input: &Input<'_>, see_through: bool) -> bool {
        let mut segments = self.segments.iter();
        let Some(first) = segments.next() else {
            return false;
        };
        let Some(value) = input.args.get(first.as_str()) else {
            return false;
        };
        if !see_through {
            let mut value = Some(value);
            for segment in segments {
                value = value.and_then(|v| v.get(segment.as_str()));
            }
            return match value {
                Some(Value::String(s)) => self.pattern.is_match(s),
                _ => false,
            };
        }
        let rest: Vec<&str> = segments.map(String::as_str).collect();
        self.reaches(value, &rest, 0)
    }

    /// Follows `path` from `value` (fanning out over arrays), then looks
    /// for a matching value inside what it finds.
    fn reaches(&self, value: &Value, path: &[&str], depth: usize) -> bool {
        if depth > MAX_ARGS_DEPTH {
            return false;
        }
        match (path.split_first(), value) {
            (None, _) => self.holds(value, depth),
            (Some((segment, rest)), Value::Object(map)) => map
                .get(*segment)
                .is_some_and(|v| self.reaches(v, rest, depth + 1)),
            (Some(_), Value::Array(items)) => {
                items.iter().any(|v| self.reaches(v, path, depth + 1))
            }
            (Some(_), _) => false,
        }
    }

    /// Whether `value`, or anything inside it, matches.
    fn holds(&self, value: &Value, depth: usize) -> bool {
        if depth > MAX_ARGS_DEPTH {
            return false;
        }
        match value {
            Value::String(s) => {
                self.pattern.is_match(s) || {
                    let trimmed = s.trim();
                    trimmed.len() != s.len() && self.pattern.is_match(trimmed)
                }
            }
            Value::Array(items) => {
                self.whole(value) || items.iter().any(|v| self.holds(v, depth + 1))
            }
            Value::Object(map) => {
                self.whole(value) || map.values().any(|v| self.holds(v, depth + 1))
            }
            other => self.whole(other),
        }
    }

    /// A non-string value by its compact JSON text.
    fn whole(&self, value: &Value) -> bool {
        let text: Cow<'_, str> = Cow::Owned(value.to_string());
        self.pattern.is_match(&text)
    }
}

/// How deep deny/ask args matchers look into arrays and objects (request
/// bodies are bounded well below this by the JSON parser).
const MAX_ARGS_DEPTH: usize = 256;

impl CommandMatcher {
    /// Allow rules need every simple command to match one of the globs, and
    /// at least one command; deny/ask rules need any form of any command to
    /// match. A line that cannot be split never satisfies an allow rule and
    /// always satisfies a deny/ask rule. A missing or non-string
    /// `args.command` matches neither.
    /// An allow rule also needs no simple command to write to a file,
    /// unless it sets `allow_redirects`.
    fn matches(&self, effect: Effect, hits: &CommandHits) -> bool {
        match (effect, hits) {
            (_, CommandHits::Absent) => false,
            (Effect::Allow, CommandHits::Unparseable) => false,
            (_, CommandHits::Unparseable) => true,
            (
                Effect::Allow,
                CommandHits::Parsed {
                    every, writes_file, ..
                },
            ) => every[self.slot] && (self.allow_redirects || !writes_file),
            (_, CommandHits::Parsed { any, .. }) => any[self.slot],
        }
    }
}
