//! MCP software nobody on this project wrote, pinned in tests/interop: the
//! reference server `@modelcontextprotocol/server-everything` (npm) and the
//! official Python SDK's client (PyPI `mcp`). With `ASSENT_INTEROP=1` a
//! missing one fails the test; otherwise the test is skipped with a message
//! saying how to install them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Interop {
    /// The reference server's executable (node).
    pub server: PathBuf,
    /// tests/interop/mcp_client.py, driven by python3.
    pub client_script: PathBuf,
    /// tests/interop/node_modules, for Node clients.
    pub node_modules: PathBuf,
}

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop")
}

/// The pinned MCP packages, or `None` (and a message) when they are missing
/// and not required.
pub fn available(test: &str) -> Option<Interop> {
    let dir = dir();
    let server = dir.join("node_modules/.bin/mcp-server-everything");
    let mut missing = Vec::new();
    if !server.exists() {
        missing.push(format!(
            "{} (npm ci --prefix tests/interop)",
            server.display()
        ));
    }
    let python = Command::new("python3").args(["-c", "import mcp"]).output();
    if !python.as_ref().is_ok_and(|o| o.status.success()) {
        missing.push(
            "python3 with the `mcp` package (pip install -r tests/interop/requirements.txt)"
                .to_owned(),
        );
    }
    if missing.is_empty() {
        return Some(Interop {
            server,
            client_script: dir.join("mcp_client.py"),
            node_modules: dir.join("node_modules"),
        });
    }
    let required = std::env::var("ASSENT_INTEROP").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "ASSENT_INTEROP=1 but the MCP interop software is missing: {}",
        missing.join("; ")
    );
    println!(
        "SKIPPED {test}: missing {}; install them, then run with ASSENT_INTEROP=1",
        missing.join("; ")
    );
    None
}
