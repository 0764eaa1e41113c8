//! Fuzzes the hand-written shell splitter: it must never panic, and no line
//! that runs `rm -rf /` on a line of its own may be allowed by a policy that
//! only allows `npm test*`. Run from `crates/assent-domain`:
//! `cargo install cargo-fuzz`, then `RUSTC_BOOTSTRAP=1 cargo fuzz run shell_split`
//! (the machine has only a stable toolchain; cargo-fuzz needs nightly flags).

#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

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

fuzz_target!(|data: &[u8]| {
    let Ok(prefix) = std::str::from_utf8(data) else {
        return;
    };
    let _ = shell::split(prefix);
    // A trailing backslash joins the next line onto this one in a real
    // shell too, so the appended command would not run on its own.
    if prefix.ends_with('\\') {
        return;
    }
    static LOADED: OnceLock<Policy> = OnceLock::new();
    let policy = LOADED.get_or_init(|| match Policy::from_toml(POLICY, "fuzz.toml") {
        Ok(policy) => policy,
        Err(e) => panic!("{e}"),
    });
    let line = format!("{prefix}\nrm -rf /");
    let mut args = Map::new();
    args.insert("command".into(), Value::String(line.clone()));
    let labels = BTreeMap::new();
    let input = Input {
        action: "shell",
        args: &args,
        labels: &labels,
        requester: "fuzz",
        session_id: None,
        risk: None,
    };
    assert_ne!(
        policy.evaluate(&input).effect,
        Effect::Allow,
        "{line:?} was allowed"
    );
});
