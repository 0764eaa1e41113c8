//! Why a policy file was refused. Operators fix policies from this message
//! alone, so it always names the file, and when it can, the line, the rule
//! and the field.

use std::fmt;

/// The rule an error is about: by name, or by position when it has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleRef {
    Name(String),
    /// 1-based position among the `[[rule]]` tables.
    Index(usize),
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleRef::Name(name) => write!(f, "rule {name:?}"),
            RuleRef::Index(index) => write!(f, "rule #{index}"),
        }
    }
}

/// A policy file that cannot be loaded, e.g.
/// `policy.toml: rule "prod-deploys": field args.env: invalid regex ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// The file (or other source) the text came from.
    pub source: String,
    /// 1-based line, when the error has a position in the text.
    pub line: Option<usize>,
    pub rule: Option<RuleRef>,
    /// Dotted path of the key inside the rule (or the file): `args.env`,
    /// `examples.match[0]`, `default`.
    pub field: Option<String>,
    pub message: String,
}

impl PolicyError {
    pub(crate) fn new(source: &str, message: impl Into<String>) -> Self {
        Self {
            source: source.to_owned(),
            line: None,
            rule: None,
            field: None,
            message: message.into(),
        }
    }

    pub(crate) fn at_line(mut self, line: Option<usize>) -> Self {
        self.line = line;
        self
    }

    pub(crate) fn in_rule(mut self, rule: RuleRef) -> Self {
        self.rule = Some(rule);
        self
    }

    pub(crate) fn in_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(rule) = &self.rule {
            write!(f, ": {rule}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for PolicyError {}
