//! A compiled value pattern: a glob, or a regex when written `re:<regex>`.
//! Both must match the whole value.

use globset::{Glob, GlobBuilder};
use regex::Regex;

/// Prefix that turns a pattern into a regular expression.
pub const REGEX_PREFIX: &str = "re:";

#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    kind: Kind,
    ignore_case: bool,
}

/// Plain and prefix globs (most real patterns) skip the regex engine.
#[derive(Debug, Clone)]
enum Kind {
    Literal(String),
    Prefix(String),
    Glob(regex::bytes::Regex),
    Regex(Regex),
}

/// Characters that make a glob more than literal text.
const GLOB_META: &[char] = &['*', '?', '[', ']', '{', '}', '\\'];

impl Pattern {
    /// Compiles `source`; the error is a message for [`super::PolicyError`].
    pub fn new(source: &str) -> Result<Self, String> {
        Self::with_case(source, false)
    }

    /// Compiles `source`, matching globs without regard to case when
    /// `ignore_case` (a regex keeps its own flags: write `re:(?i)...`).
    pub fn with_case(source: &str, ignore_case: bool) -> Result<Self, String> {
        let kind = match source.strip_prefix(REGEX_PREFIX) {
            Some(re) => {
                let invalid =
                    |e: regex::Error| format!("invalid regex: {}", one_line(&e.to_string()));
                // Checked alone first so the message quotes what was written.
                Regex::new(re).map_err(invalid)?;
                Kind::Regex(Regex::new(&format!("^(?:{re})$")).map_err(invalid)?)
            }
            None if ignore_case => {
                let glob = glob_with_case(source, true)?;
                let re = regex::bytes::Regex::new(glob.regex())
                    .map_err(|e| format!("invalid glob: {e}"))?;
                Kind::Glob(re)
            }
            None => {
                let glob = glob(source)?;
                match shape(source) {
                    Shape::Literal => Kind::Literal(source.to_owned()),
                    Shape::Prefix(prefix) => Kind::Prefix(prefix.to_owned()),
                    Shape::Other => {
                        let re = regex::bytes::Regex::new(glob.regex())
                            .map_err(|e| format!("invalid glob: {e}"))?;
                        Kind::Glob(re)
                    }
                }
            }
        };
        Ok(Self {
            source: source.to_owned(),
            kind,
            ignore_case,
        })
    }

    pub fn is_match(&self, value: &str) -> bool {
        match &self.kind {
            Kind::Literal(literal) => value == literal,
            Kind::Prefix(prefix) => value.starts_with(prefix.as_str()),
            Kind::Glob(re) => re.is_match(value.as_bytes()),
            Kind::Regex(re) => re.is_match(value),
        }
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether this is a glob (not a regex), so it can go in a [`super::index::GlobIndex`].
    pub fn is_glob(&self) -> bool {
        !matches!(self.kind, Kind::Regex(_))
    }

    /// Whether this glob ignores case (then the index must not take its
    /// case-sensitive fast paths).
    pub fn ignores_case(&self) -> bool {
        self.ignore_case
    }
}

/// Error texts that draw carets over several lines, folded into one line.
pub fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a glob needs to be matched: plain text, a prefix (`abc*`), or a
/// real glob.
pub enum Shape<'a> {
    Literal,
    Prefix(&'a str),
    Other,
}

pub fn shape(source: &str) -> Shape<'_> {
    if !source.contains(GLOB_META) {
        return Shape::Literal;
    }
    match source.strip_suffix('*') {
        Some(prefix) if !prefix.contains(GLOB_META) => Shape::Prefix(prefix),
        _ => Shape::Other,
    }
}

/// Builds a glob where `*` also crosses `/` (actions, commands and paths are
/// plain strings here, not file paths) and `\` escapes the next character.
pub fn glob(source: &str) -> Result<Glob, String> {
    glob_with_case(source, false)
}

/// [`glob`], optionally matching without regard to case.
pub fn glob_with_case(source: &str, ignore_case: bool) -> Result<Glob, String> {
    GlobBuilder::new(source)
        .literal_separator(false)
        .backslash_escape(true)
        .case_insensitive(ignore_case)
        .build()
        .map_err(|e| format!("invalid glob: {}", e.kind()))
}

/// A command glob for an allow rule, as one or two globs that stop at a
/// word boundary: a trailing `*` right after a word (`npm test*`) becomes
/// `npm test` and `npm test *`, so it never matches `npm testx`.
pub fn word_bounded(source: &str) -> Vec<String> {
    let Some(prefix) = source.strip_suffix('*') else {
        return vec![source.to_owned()];
    };
    let escapes = prefix.chars().rev().take_while(|&c| c == '\\').count();
    if prefix.is_empty() || prefix.ends_with(' ') || prefix.ends_with('*') || escapes % 2 == 1 {
        return vec![source.to_owned()];
    }
    vec![prefix.to_owned(), format!("{prefix} *")]
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
    fn fast_paths_agree_with_globset() {
        let patterns = [
            "deploy", "fs.read*", "a*b", "prod-?", "x[ab]", "{a,b}*", "a\\*", "", "*", "a**",
        ];
        let values = [
            "deploy", "fs.read", "fs.readx", "ab", "axb", "prod-1", "xa", "a*", "", "a", "bz",
        ];
        for p in patterns {
            let ours = Pattern::new(p).unwrap();
            let theirs = glob(p).unwrap().compile_matcher();
            for v in values {
                assert_eq!(ours.is_match(v), theirs.is_match(v), "{p:?} on {v:?}");
            }
        }
    }

    #[test]
    fn ignore_case_globs_fold_case_and_regexes_keep_their_flags() {
        let p = Pattern::with_case("billing.*", true).unwrap();
        assert!(p.is_match("Billing.Charge") && p.is_match("billing.x"));
        assert!(
            !Pattern::new("billing.*")
                .unwrap()
                .is_match("Billing.Charge")
        );
        assert!(Pattern::with_case("prod", true).unwrap().is_match("PROD"));
        assert!(
            !Pattern::with_case("re:prod", true)
                .unwrap()
                .is_match("PROD")
        );
        assert!(
            Pattern::with_case("re:(?i)prod", true)
                .unwrap()
                .is_match("PROD")
        );
    }

    #[test]
    fn trailing_stars_of_allow_command_globs_stop_at_a_word_boundary() {
        assert_eq!(word_bounded("npm test*"), ["npm test", "npm test *"]);
        assert_eq!(word_bounded("npm test *"), ["npm test *"]);
        assert_eq!(word_bounded("*"), ["*"]);
        assert_eq!(word_bounded("a\\*"), ["a\\*"]);
        assert_eq!(word_bounded("ls"), ["ls"]);
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
