//! A compiled value pattern: a glob, or a regex when written `re:<regex>`.
//! Both must match the whole value.

use globset::{Glob, GlobBuilder, GlobMatcher};
use regex::Regex;

/// Prefix that turns a pattern into a regular expression.
pub const REGEX_PREFIX: &str = "re:";

#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Glob(GlobMatcher),
    Regex(Regex),
}

impl Pattern {
    /// Compiles `source`; the error is a message for [`super::PolicyError`].
    pub fn new(source: &str) -> Result<Self, String> {
        let kind = match source.strip_prefix(REGEX_PREFIX) {
            Some(re) => Kind::Regex(
                Regex::new(&format!("^(?:{re})$")).map_err(|e| format!("invalid regex: {e}"))?,
            ),
            None => Kind::Glob(glob(source)?.compile_matcher()),
        };
        Ok(Self {
            source: source.to_owned(),
            kind,
        })
    }

    pub fn is_match(&self, value: &str) -> bool {
        match &self.kind {
            Kind::Glob(glob) => glob.is_match(value),
            Kind::Regex(re) => re.is_match(value),
        }
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The glob, when this pattern is one (for building a combined set).
    pub fn as_glob(&self) -> Option<&Glob> {
        match &self.kind {
            Kind::Glob(glob) => Some(glob.glob()),
            Kind::Regex(_) => None,
        }
    }
}

/// Builds a glob where `*` also crosses `/` (actions, commands and paths are
/// plain strings here, not file paths) and `\` escapes the next character.
pub fn glob(source: &str) -> Result<Glob, String> {
    GlobBuilder::new(source)
        .literal_separator(false)
        .backslash_escape(true)
        .build()
        .map_err(|e| format!("invalid glob: {}", e.kind()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_the_whole_value_and_cross_slashes() {
        let p = Pattern::new("fs.read*").unwrap();
        assert!(p.is_match("fs.read"));
        assert!(p.is_match("fs.read/etc/passwd"));
        assert!(!p.is_match("xfs.read"));
        assert!(Pattern::new("prod-{eu,us}").unwrap().is_match("prod-us"));
        assert!(Pattern::new("a\\*").unwrap().is_match("a*"));
        assert!(!Pattern::new("a\\*").unwrap().is_match("ab"));
    }

    #[test]
    fn regexes_are_anchored() {
        let p = Pattern::new("re:prod-(eu|us)").unwrap();
        assert!(p.is_match("prod-eu"));
        assert!(!p.is_match("prod-eu-2"));
        assert!(!p.is_match("xprod-eu"));
        assert!(Pattern::new("re:a|b").unwrap().is_match("b"));
    }

    #[test]
    fn bad_patterns_say_why() {
        assert!(Pattern::new("a[").unwrap_err().starts_with("invalid glob"));
        assert!(
            Pattern::new("re:(")
                .unwrap_err()
                .starts_with("invalid regex")
        );
    }
}
