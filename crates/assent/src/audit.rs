//! `assent audit export` (from a gateway) and `assent audit verify`
//! (offline): the signed NDJSON export of the audit log.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use assent_client::{Client, ExportTrailer, Jwks, verify_export_trailer};
use assent_domain::audit_export::{BadLine, CheckedExport, ExportVerifier, TrailerLine};
use serde_json::json;

use crate::cli::AuditCommand;
use crate::error::CliError;
use crate::output::{self, Output};

/// How far from the end of a file its trailer line is looked for.
const TRAILER_WINDOW: u64 = 64 * 1024;

pub async fn run(
    connect: impl FnOnce() -> Result<Client, CliError>,
    out: Output,
    command: AuditCommand,
) -> Result<ExitCode, CliError> {
    match command {
        AuditCommand::Export { out: file, after } => export(&connect()?, file, after).await,
        AuditCommand::Verify { file, jwks } => {
            let jwks = match jwks {
                Some(source) => Some(load_jwks(&source).await?),
                None => None,
            };
            verify(&file, jwks.as_ref(), out)
        }
    }
}

async fn export(
    client: &Client,
    file: Option<PathBuf>,
    after: Option<i64>,
) -> Result<ExitCode, CliError> {
    match file {
        Some(path) => {
            let mut out = tokio::fs::File::create(&path)
                .await
                .map_err(|e| CliError::Failed(format!("creating {}: {e}", path.display())))?;
            let bytes = client.audit_export(after, &mut out).await?;
            out.sync_all()
                .await
                .map_err(|e| CliError::Failed(format!("writing {}: {e}", path.display())))?;
            output::status(&format!("exported {bytes} bytes to {}", path.display()));
        }
        None => {
            client.audit_export(after, &mut tokio::io::stdout()).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The JWKS from a file, or fetched from an http(s) URL.
async fn load_jwks(source: &str) -> Result<Jwks, CliError> {
    let failed = |e: &dyn std::fmt::Display| CliError::Failed(format!("--jwks {source}: {e}"));
    if source.starts_with("http://") || source.starts_with("https://") {
        let response = reqwest::get(source).await.map_err(|e| failed(&e))?;
        let response = response.error_for_status().map_err(|e| failed(&e))?;
        return response.json().await.map_err(|e| failed(&e));
    }
    let text = std::fs::read_to_string(source).map_err(|e| failed(&e))?;
    serde_json::from_str(&text).map_err(|e| failed(&e))
}

/// Checks an export line by line, in constant memory, and names the first
/// bad line. Without a JWKS the trailer's signature is not checked (and
/// the output says so).
fn verify(path: &Path, jwks: Option<&Jwks>, out: Output) -> Result<ExitCode, CliError> {
    let io = |e: std::io::Error| CliError::Failed(format!("reading {}: {e}", path.display()));
    let bad = |b: BadLine| CliError::Failed(format!("{}: {b}", path.display()));
    let announced = last_line_trailer(path).map_err(io)?;
    let mut verifier = ExportVerifier::new(announced.as_ref());
    let mut reader = BufReader::new(File::open(path).map_err(io)?);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(io)? == 0 {
            break;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        verifier.line(&line).map_err(bad)?;
    }
    let checked = verifier.finish().map_err(bad)?;
    let signature_checked = match jwks {
        Some(jwks) => {
            verify_export_trailer(&checked.trailer, jwks).map_err(|e| {
                bad(BadLine {
                    line: checked.trailer_line,
                    reason: format!("trailer signature: {e}"),
                })
            })?;
            true
        }
        None => {
            output::status("no --jwks given: the trailer's signature was NOT checked");
            false
        }
    };
    report(&checked, signature_checked, out)?;
    Ok(ExitCode::SUCCESS)
}

fn report(checked: &CheckedExport, signature_checked: bool, out: Output) -> Result<(), CliError> {
    let t = &checked.trailer;
    if out.json {
        let summary = json!({
            "valid": true,
            "count": t.count,
            "first_seq": t.first_seq,
            "last_seq": t.last_seq,
            "head_hash": t.head_hash,
            "from_genesis": checked.from_genesis,
            "kid": t.kid,
            "signature_checked": signature_checked,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).unwrap_or_default()
        );
        return Ok(());
    }
    let range = match (t.first_seq, t.last_seq) {
        (Some(first), Some(last)) => format!("seq {first}..{last}"),
        _ => "no events".into(),
    };
    let start = if checked.from_genesis || t.count == 0 {
        "from the start of the log"
    } else {
        "a suffix of the log, linked to the event before it"
    };
    let signed = if signature_checked {
        format!("signature by key {} verified", t.kid)
    } else {
        "signature not checked".into()
    };
    println!(
        "OK: {} events ({range}, {start}); head {}; {signed}",
        t.count, t.head_hash
    );
    Ok(())
}

/// The trailer on the file's last line, when there is one: read ahead so the
/// verifier knows where the events should start.
fn last_line_trailer(path: &Path) -> std::io::Result<Option<ExportTrailer>> {
    let mut file = File::open(path)?;
    let len = file.seek(SeekFrom::End(0))?;
    let from = len.saturating_sub(TRAILER_WINDOW);
    file.seek(SeekFrom::Start(from))?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail)?;
    let tail = tail.strip_suffix(b"\n").unwrap_or(&tail);
    let last = tail
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(tail, |at| &tail[at + 1..]);
    Ok(serde_json::from_slice::<TrailerLine>(last)
        .ok()
        .map(|l| l.trailer))
}
