//! Which gateway a client subcommand talks to, and with which token: the
//! given one, else the admin token a local gateway wrote to its data dir.

use std::path::{Path, PathBuf};

use assent_client::Client;

use crate::cli::Global;
use crate::error::CliError;
use crate::output;

/// Where `assent serve` keeps its data unless told otherwise.
const DEFAULT_DATA_DIR: &str = "./assent-data";
const ADMIN_TOKEN_FILE: &str = "admin.token";

pub fn client(global: &Global) -> Result<Client, CliError> {
    let given = global.token.as_deref().map(str::trim);
    let env_empty =
        std::env::var_os("ASSENT_TOKEN").is_some_and(|v| v.to_string_lossy().trim().is_empty());
    let token = match given.filter(|t| !t.is_empty()) {
        Some(token) => token.to_owned(),
        None => {
            let (token, path) = local_admin_token(&global.url)?;
            // An empty token is treated as none, but never silently: the
            // admin token is more than the caller may have meant to use.
            if env_empty || given.is_some() {
                let which = if env_empty {
                    "ASSENT_TOKEN is set but empty"
                } else {
                    "--token is empty"
                };
                output::status(&format!(
                    "{which}; using the local admin token in {}",
                    path.display()
                ));
            }
            token
        }
    };
    Ok(Client::new(&global.url, &token)?)
}

/// The bootstrap admin token of a gateway on this machine, and its file.
fn local_admin_token(url: &str) -> Result<(String, PathBuf), CliError> {
    let missing = |why: String| {
        CliError::Failed(format!(
            "no token: set ASSENT_TOKEN or pass --token ({why})"
        ))
    };
    if !is_loopback(url) {
        return Err(missing(format!("{url} is not a local gateway")));
    }
    let data_dir = std::env::var_os("ASSENT_DATA_DIR")
        .filter(|d| !d.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_DATA_DIR), PathBuf::from);
    let path = data_dir.join(ADMIN_TOKEN_FILE);
    let token =
        read_token(&path).map_err(|e| missing(format!("cannot read {}: {e}", path.display())))?;
    Ok((token, path))
}

fn read_token(path: &Path) -> std::io::Result<String> {
    let token = std::fs::read_to_string(path)?;
    let token = token.trim();
    if token.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the file is empty",
        ));
    }
    Ok(token.to_owned())
}

/// Whether the URL names this machine (`localhost`, `127.0.0.0/8`, `::1`).
fn is_loopback(url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else {
        return false;
    };
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls_are_recognised() {
        for url in [
            "http://127.0.0.1:8470",
            "http://localhost:8470/",
            "http://[::1]:8470",
            "https://127.0.0.2",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "http://10.0.0.1:8470",
            "https://gw.example",
            "http://localhost.example",
            "not a url",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
    }

    #[test]
    fn token_files_are_trimmed_and_must_not_be_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(ADMIN_TOKEN_FILE);
        std::fs::write(&path, "  secret\n").unwrap();
        assert_eq!(read_token(&path).unwrap(), "secret");
        std::fs::write(&path, "\n").unwrap();
        assert!(read_token(&path).is_err());
        assert!(read_token(&dir.path().join("missing")).is_err());
    }
}
