//! The policy engine: a TOML file of rules, compiled once at load, that
//! answers allow, deny or ask for a request (reference: `docs/policy.md`).
//!
//! Among all matching rules `deny` beats `ask` beats `allow`, and among
//! equals the first in the file decides. Evaluation is pure and never
//! re-parses the file.

mod error;
mod example;
mod index;
mod input;
mod load;
mod pattern;
mod rule;
pub mod shell;
mod when;

use std::sync::Arc;

use serde::Serialize;

pub use error::{PolicyError, RuleRef};
pub use example::{Example, ExampleFailure, ExampleKind};
pub use input::{Effect, Input};

use crate::approval::Risk;
use crate::request::Placement;
use example::Examples;
use index::{GlobIndex, GlobIndexBuilder};
use rule::{CommandIndex, Facts, Rule};

/// The policy's answer for one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub effect: Effect,
    /// The deciding rule; `None` when no rule matched and the default applied.
    pub rule: Option<String>,
    pub reason: Option<String>,
    /// What the deciding rule adds to a new approval (empty for the default).
    pub placement: Placement,
}

/// A rule as `GET /v1/policy` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleSummary {
    pub name: String,
    pub effect: Effect,
    /// One entry per matcher, as written: `action = "deploy"`. Empty when
    /// the rule matches every request.
    pub matchers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk: Option<Risk>,
    /// As written in the file's duration syntax, e.g. `30m`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalate_after: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub quorum: Vec<StageSummary>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_self_review: bool,
    /// Action and args globs match without regard to case.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ignore_case: bool,
    /// The command matcher lets simple commands that write to a file through.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_redirects: bool,
}

/// One quorum stage of a listed rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StageSummary {
    pub group: String,
    pub min: u32,
}

/// A loaded policy. Cheap to share (`Arc<Policy>`); evaluation takes `&self`.
pub struct Policy {
    source: String,
    default: Effect,
    rules: Vec<Rule>,
    examples: Vec<Examples>,
    /// Action globs of all rules that have one (keyed by rule index), to
    /// find candidate rules in one pass instead of one match per rule.
    action_index: GlobIndex,
    /// Rules the index cannot rule out: no action matcher, or a regex one.
    unindexed: Vec<usize>,
    command_index: CommandIndex,
    cel: Arc<cel::Env>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("source", &self.source)
            .field("default", &self.default)
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

impl Default for Policy {
    /// No rules, default `ask`: what runs when no policy file is configured.
    fn default() -> Self {
        Self {
            source: String::new(),
            default: Effect::Ask,
            rules: Vec::new(),
            examples: Vec::new(),
            action_index: GlobIndex::default(),
            unindexed: Vec::new(),
            command_index: CommandIndex::default(),
            cel: Arc::new(cel::Env::stdlib()),
        }
    }
}

impl Policy {
    /// Parses and compiles a policy file, then runs every rule's examples.
    /// `source` names the file in error messages; the caller reads the file.
    pub fn from_toml(text: &str, source: &str) -> Result<Policy, PolicyError> {
        let policy = Self::compile(text, source)?;
        if let Some(failure) = policy.run_examples().into_iter().next() {
            return Err(PolicyError::new(source, failure.to_string())
                .in_rule(RuleRef::Name(failure.rule.clone()))
                .in_field(failure.field()));
        }
        Ok(policy)
    }

    /// Parses and compiles a policy file without running its examples, so
    /// `assent policy test` can report every failing example through
    /// [`Policy::run_examples`] instead of only the first. Serving code wants
    /// [`Policy::from_toml`].
    pub fn compile(text: &str, source: &str) -> Result<Policy, PolicyError> {
        let loaded = load::load(text, source)?;
        Self::build(
            source.to_owned(),
            loaded.default,
            loaded.rules,
            loaded.examples,
        )
    }

    /// Builds the indexes over the compiled rules. Each glob compiled on its
    /// own already; a combined set can still fail on regex size limits.
    fn build(
        source: String,
        default: Effect,
        mut rules: Vec<Rule>,
        examples: Vec<Examples>,
    ) -> Result<Self, PolicyError> {
        let mut actions = GlobIndexBuilder::default();
        let mut unindexed = Vec::new();
        let mut commands = GlobIndexBuilder::default();
        let mut slots = 0;
        for (i, rule) in rules.iter_mut().enumerate() {
            match &rule.action {
                Some(action) if action.is_glob() && action.ignores_case() => {
                    match pattern::glob_with_case(action.source(), true) {
                        Ok(glob) => actions.add_glob(glob, i),
                        Err(_) => unindexed.push(i),
                    }
                }
                Some(action) if action.is_glob() => match pattern::glob(action.source()) {
                    Ok(glob) => actions.add(action.source(), glob, i),
                    Err(_) => unindexed.push(i),
                },
                _ => unindexed.push(i),
            }
            if let Some(command) = &mut rule.command {
                command.slot = slots;
                for (source, glob) in command.normalised.iter().zip(&command.compiled) {
                    commands.add(source, glob.clone(), slots);
                }
                slots += 1;
            }
        }
        let too_big = |field: &str, e: globset::Error| {
            PolicyError::new(&source, format!("the combined globs do not compile: {e}"))
                .in_field(field)
        };
        let action_index = actions.build().map_err(|e| too_big("action", e))?;
        let command_globs = commands.build().map_err(|e| too_big("command", e))?;
        Ok(Self {
            source,
            default,
            rules,
            examples,
            action_index,
            unindexed,
            command_index: CommandIndex {
                globs: command_globs,
                slots,
            },
            cel: Arc::new(cel::Env::stdlib()),
        })
    }

    /// The name the policy was loaded under (the file path).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The effect when no rule matches.
    pub fn default_effect(&self) -> Effect {
        self.default
    }

    /// Decides a request: the highest-precedence matching rule, the first
    /// in the file among equals, else the default.
    pub fn evaluate(&self, input: &Input<'_>) -> Evaluation {
        let facts = Facts::new(input, &self.cel, &self.command_index);
        let mut best: Option<&Rule> = None;
        for i in self.candidates(input.action) {
            let rule = &self.rules[i];
            if best.is_some_and(|b| b.effect >= rule.effect) {
                continue;
            }
            if rule.matches(&facts) {
                best = Some(rule);
                if rule.effect == Effect::Deny {
                    break;
                }
            }
        }
        match best {
            Some(rule) => Evaluation {
                effect: rule.effect,
                rule: Some(rule.name.clone()),
                reason: rule.reason.clone(),
                placement: rule.placement(),
            },
            None => Evaluation {
                effect: self.default,
                rule: None,
                reason: None,
                placement: Placement::default(),
            },
        }
    }

    /// Names of every rule that matches, in file order (for explaining).
    pub fn matching_rules(&self, input: &Input<'_>) -> Vec<&str> {
        let facts = Facts::new(input, &self.cel, &self.command_index);
        self.rules
            .iter()
            .filter(|r| r.matches(&facts))
            .map(|r| r.name.as_str())
            .collect()
    }

    /// Runs every rule's examples; empty when all pass.
    pub fn run_examples(&self) -> Vec<ExampleFailure> {
        let mut failures = Vec::new();
        for (rule, examples) in self.rules.iter().zip(&self.examples) {
            let lists = [
                (ExampleKind::Match, &examples.matching),
                (ExampleKind::NoMatch, &examples.no_match),
            ];
            for (kind, list) in lists {
                for (index, example) in list.iter().enumerate() {
                    let input = example.input();
                    let matched = rule.matches(&Facts::new(&input, &self.cel, &self.command_index));
                    if matched != (kind == ExampleKind::Match) {
                        let got = self.evaluate(&input);
                        failures.push(ExampleFailure {
                            rule: rule.name.clone(),
                            kind,
                            index,
                            example: example.clone(),
                            got_effect: got.effect,
                            got_rule: got.rule,
                        });
                    }
                }
            }
        }
        failures
    }

    /// The rules in file order, for listing.
    pub fn rules(&self) -> Vec<RuleSummary> {
        self.rules
            .iter()
            .map(|r| RuleSummary {
                name: r.name.clone(),
                effect: r.effect,
                matchers: r.matcher_summary(),
                reason: r.reason.clone(),
                risk: r.risk,
                timeout: r.timeout.map(|d| humantime::format_duration(d).to_string()),
                escalate_after: r
                    .escalate_after
                    .map(|d| humantime::format_duration(d).to_string()),
                quorum: r
                    .quorum
                    .iter()
                    .map(|s| StageSummary {
                        group: s.group.clone(),
                        min: s.min,
                    })
                    .collect(),
                allow_self_review: r.allow_self_review,
                ignore_case: r.ignore_case,
                allow_redirects: r.allow_redirects(),
            })
            .collect()
    }

    /// Indices of the rules whose action matcher does not exclude `action`,
    /// in file order.
    fn candidates(&self, action: &str) -> Vec<usize> {
        let mut out = self.unindexed.clone();
        self.action_index
            .for_each_match(action, &mut Vec::new(), |rule| out.push(rule));
        out.sort_unstable();
        out
    }
}

#[cfg(test)]
mod tests;
