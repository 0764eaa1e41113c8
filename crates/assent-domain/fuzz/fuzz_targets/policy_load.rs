//! Fuzzes the policy loader: any text is either refused with a message or
//! loaded, never a panic; a loaded policy evaluates a request without
//! panicking. Run from `crates/assent-domain`:
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run policy_load`.

#![no_main]

use std::collections::BTreeMap;

use assent_domain::policy::{Input, Policy};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(policy) = Policy::compile(text, "fuzz.toml") else {
        return;
    };
    let _ = policy.run_examples();
    let Value::Object(args) = json!({"command": "npm test > x && ls", "env": [" prod "]}) else {
        return;
    };
    let labels = BTreeMap::new();
    for action in ["shell", "deploy", "Billing.Charge"] {
        let input = Input {
            action,
            args: &args,
            labels: &labels,
            requester: "fuzz",
            session_id: None,
            risk: None,
        };
        let _ = policy.evaluate(&input);
    }
});
