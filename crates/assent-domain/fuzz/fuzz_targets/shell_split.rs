//! Fuzzes the hand-written shell splitter: it must never panic; no line
//! that runs `rm -rf /`, or writes a file, on a line of its own may be
//! allowed by a policy that only allows `npm test*` and `echo *`; a line an
//! allow-everything rule (without `allow_redirects`) allows has no part
//! that writes a file; and a command grant for `npm test` never answers a
//! line with a part outside that prefix. Run from `crates/assent-domain`:
//! `cargo install cargo-fuzz`, then `RUSTC_BOOTSTRAP=1 cargo fuzz run shell_split`
//! (the machine has only a stable toolchain; cargo-fuzz needs nightly flags).

#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use assent_domain::grant::command_within;
use assent_domain::policy::{Effect, Input, Policy, shell};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

const POLICY: &str = r#"
default = "ask"
[[rule]]
name = "tests"
effect = "allow"
command = ["npm test*", "echo *"]
"#;

const ALLOW_ALL: &str = r#"
default = "ask"
[[rule]]
name = "all"
effect = "allow"
command = ["*"]
"#;

fn load(slot: &'static OnceLock<Policy>, text: &str) -> &'static Policy {
    slot.get_or_init(|| match Policy::from_toml(text, "fuzz.toml") {
        Ok(policy) => policy,
        Err(e) => panic!("{e}"),
    })
}

fn effect(policy: &Policy, line: &str) -> Effect {
    let mut args = Map::new();
    args.insert("command".into(), Value::String(line.to_owned()));
    let labels = BTreeMap::new();
    let input = Input {
        action: "shell",
        args: &args,
        labels: &labels,
        requester: "fuzz",
        session_id: None,
        risk: None,
    };
    policy.evaluate(&input).effect
}

fuzz_target!(|data: &[u8]| {
    let Ok(prefix) = std::str::from_utf8(data) else {
        return;
    };
    let parts = shell::split(prefix);
    static ALL: OnceLock<Policy> = OnceLock::new();
    if effect(load(&ALL, ALLOW_ALL), prefix) == Effect::Allow {
        let parts = parts.as_deref().unwrap_or_default();
        assert!(
            parts.iter().all(|p| !p.writes_file()),
            "{prefix:?} was allowed although a part writes a file"
        );
    }
    if command_within(prefix, "npm test") {
        let parts = parts.as_deref().unwrap_or_default();
        assert!(
            parts
                .iter()
                .all(|p| shell::starts_with_words(&p.text, "npm test") && !p.writes_file()),
            "{prefix:?} was answered by a command grant outside its prefix"
        );
    }
    // A trailing backslash joins the next line onto this one in a real
    // shell too, so the appended command would not run on its own.
    if prefix.ends_with('\\') {
        return;
    }
    static LOADED: OnceLock<Policy> = OnceLock::new();
    let policy = load(&LOADED, POLICY);
    for appended in ["rm -rf /", "echo x > ~/.bashrc", "npm test >> /etc/passwd"] {
        let line = format!("{prefix}\n{appended}");
        assert_ne!(effect(policy, &line), Effect::Allow, "{line:?} was allowed");
        assert!(
            !command_within(&line, "npm test"),
            "{line:?} was answered by a command grant for `npm test`"
        );
    }
});
