//! Many globs matched against one value in about constant time, so a
//! 1,000-rule policy costs little more than a 10-rule one.
//!
//! Most policy globs are literals (`deploy`) or prefixes (`git push --force*`,
//! `fs.read*`): literals go in a hash map; prefixes with a space are bucketed
//! by their first word, the others by length (one lookup per distinct
//! length); only the remaining globs go to a `globset::GlobSet`.

use std::collections::HashMap;

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::pattern::{self, Shape};

#[derive(Debug)]
pub(crate) struct GlobIndexBuilder {
    literals: HashMap<String, Vec<usize>>,
    prefixes_by_word: HashMap<String, Vec<(String, usize)>>,
    short_prefixes: HashMap<String, Vec<usize>>,
    rest: GlobSetBuilder,
    rest_ids: Vec<usize>,
}

impl Default for GlobIndexBuilder {
    fn default() -> Self {
        Self {
            literals: HashMap::new(),
            prefixes_by_word: HashMap::new(),
            short_prefixes: HashMap::new(),
            rest: GlobSetBuilder::new(),
            rest_ids: Vec::new(),
        }
    }
}

impl GlobIndexBuilder {
    /// Adds `glob` (written as `source`) under `id`; ids may repeat.
    pub fn add(&mut self, source: &str, glob: Glob, id: usize) {
        match pattern::shape(source) {
            Shape::Literal => self.literals.entry(source.to_owned()).or_default().push(id),
            Shape::Prefix(prefix) => match prefix.split_once(' ') {
                Some((word, _)) => self
                    .prefixes_by_word
                    .entry(word.to_owned())
                    .or_default()
                    .push((prefix.to_owned(), id)),
                None => self
                    .short_prefixes
                    .entry(prefix.to_owned())
                    .or_default()
                    .push(id),
            },
            Shape::Other => {
                self.rest.add(glob);
                self.rest_ids.push(id);
            }
        }
    }

    /// Adds `glob` under `id` without the literal and prefix fast paths
    /// (for globs those paths cannot judge, such as case-insensitive ones).
    pub fn add_glob(&mut self, glob: Glob, id: usize) {
        self.rest.add(glob);
        self.rest_ids.push(id);
    }

    pub fn build(self) -> Result<GlobIndex, globset::Error> {
        let mut short_lengths: Vec<usize> = self.short_prefixes.keys().map(String::len).collect();
        short_lengths.sort_unstable();
        short_lengths.dedup();
        Ok(GlobIndex {
            literals: self.literals,
            prefixes_by_word: self.prefixes_by_word,
            short_prefixes: self.short_prefixes,
            short_lengths,
            rest: self.rest.build()?,
            rest_ids: self.rest_ids,
        })
    }
}

#[derive(Debug)]
pub(crate) struct GlobIndex {
    literals: HashMap<String, Vec<usize>>,
    prefixes_by_word: HashMap<String, Vec<(String, usize)>>,
    short_prefixes: HashMap<String, Vec<usize>>,
    /// The distinct lengths of `short_prefixes`, ascending.
    short_lengths: Vec<usize>,
    rest: GlobSet,
    rest_ids: Vec<usize>,
}

impl Default for GlobIndex {
    fn default() -> Self {
        Self {
            literals: HashMap::new(),
            prefixes_by_word: HashMap::new(),
            short_prefixes: HashMap::new(),
            short_lengths: Vec::new(),
            rest: GlobSet::empty(),
            rest_ids: Vec::new(),
        }
    }
}

impl GlobIndex {
    /// Calls `hit` with the id of every glob matching `value` (an id once
    /// per matching glob, in no particular order). `scratch` is reused.
    pub fn for_each_match(
        &self,
        value: &str,
        scratch: &mut Vec<usize>,
        mut hit: impl FnMut(usize),
    ) {
        if let Some(ids) = self.literals.get(value) {
            ids.iter().copied().for_each(&mut hit);
        }
        let word = value.split_once(' ').map_or(value, |(word, _)| word);
        if let Some(prefixes) = self.prefixes_by_word.get(word) {
            prefixes
                .iter()
                .filter(|(prefix, _)| value.starts_with(prefix.as_str()))
                .for_each(|&(_, id)| hit(id));
        }
        for &len in &self.short_lengths {
            if len > value.len() {
                break;
            }
            if let Some(ids) = value
                .get(..len)
                .and_then(|head| self.short_prefixes.get(head))
            {
                ids.iter().copied().for_each(&mut hit);
            }
        }
        if !self.rest.is_empty() {
            scratch.clear();
            self.rest.matches_into(value, scratch);
            scratch.iter().for_each(|&g| hit(self.rest_ids[g]));
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Our index and globset's, over the same globs (ids are positions).
    fn both<S: AsRef<str>>(globs: &[S]) -> (GlobIndex, globset::GlobSet) {
        let mut ours = GlobIndexBuilder::default();
        let mut theirs = GlobSetBuilder::new();
        for (id, g) in globs.iter().enumerate() {
            let glob = pattern::glob(g.as_ref()).unwrap();
            ours.add(g.as_ref(), glob.clone(), id);
            theirs.add(glob);
        }
        (ours.build().unwrap(), theirs.build().unwrap())
    }

    proptest! {
        #[test]
        fn random_globs_agree_with_globset(
            globs in prop::collection::vec("[ab .*?]{0,5}", 1..8),
            values in prop::collection::vec("[ab .]{0,6}", 1..8),
        ) {
            let (ours, theirs) = both(&globs);
            for v in &values {
                let mut got = Vec::new();
                ours.for_each_match(v, &mut Vec::new(), |id| got.push(id));
                got.sort_unstable();
                prop_assert_eq!(got, theirs.matches(v.as_str()), "{:?} on {:?}", globs, v);
            }
        }
    }

    #[test]
    fn agrees_with_globset() {
        let globs = [
            "deploy",
            "git push --force*",
            "git push -f*",
            "ls*",
            "rm -rf*",
            "a*b",
            "fs.{read,stat}*",
            "git status",
            "*",
            "fs.*",
            "f*",
            "é*",
        ];
        let (ours, theirs) = both(&globs);
        let values = [
            "deploy",
            "git push --force origin",
            "git push -f",
            "git push",
            "git status",
            "git status -s",
            "ls",
            "lsof",
            "rm -rf /",
            "rm -r",
            "axb",
            "fs.read",
            "fs.stat/x",
            "",
            "éa",
            "e",
        ];
        for v in values {
            let mut got = Vec::new();
            ours.for_each_match(v, &mut Vec::new(), |id| got.push(id));
            got.sort_unstable();
            assert_eq!(got, theirs.matches(v), "{v:?}");
        }
    }
}
