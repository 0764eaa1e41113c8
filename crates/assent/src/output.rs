//! Printing: data on stdout, as the gateway's JSON with `--json` or as text
//! and tables for people; status messages on stderr.

use std::borrow::Cow;
use std::io::{self, Write};

use assent_client::{ApprovalList, CheckResult, CreatedToken, TokenInfo};
use assent_domain::policy::shell::CommandPart;
use assent_domain::timestamp::rfc3339 as timestamp;
use assent_domain::{Approval, Event, Grant, QuorumStage, Review};
use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;

#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
}

impl Output {
    /// One approval: its JSON, or its fields as aligned `key: value` lines.
    pub fn approval(self, approval: &Approval) -> io::Result<()> {
        if self.json {
            return print_json(approval);
        }
        stdout(&aligned(&approval_fields(approval)))
    }

    /// A new approval: its JSON, or its id alone on stdout (for scripts) and
    /// its state on stderr.
    pub fn created(self, approval: &Approval) -> io::Result<()> {
        if self.json {
            return print_json(approval);
        }
        stdout(&approval.id.to_string())?;
        status(&crate::outcome::describe(approval));
        Ok(())
    }

    /// The end of a wait: its JSON, or who decided and why on stderr.
    pub fn decided(self, approval: &Approval) -> io::Result<()> {
        if self.json {
            return print_json(approval);
        }
        status(&crate::outcome::describe(approval));
        Ok(())
    }

    pub fn page(self, page: &ApprovalList) -> io::Result<()> {
        if self.json {
            return print_json(page);
        }
        if page.items.is_empty() {
            status("no approvals match");
            return Ok(());
        }
        let mut table = table(["ID", "STATUS", "ACTION", "REQUESTER", "RISK", "CREATED"]);
        for a in &page.items {
            table.add_row([
                a.id.to_string(),
                a.status.as_str().to_owned(),
                a.action.clone(),
                a.requester.clone(),
                json_name(&a.risk),
                timestamp(a.created_at),
            ]);
        }
        stdout(&render(&table))?;
        if let Some(cursor) = &page.next_cursor {
            status(&format!("more: pass --cursor {cursor}"));
        }
        Ok(())
    }

    /// A new token: its JSON, or the secret alone on stdout.
    pub fn created_token(self, token: &CreatedToken) -> io::Result<()> {
        if self.json {
            return print_json(token);
        }
        stdout(&token.token)?;
        status(&format!(
            "created token {:?} (role {}); it is shown only this once",
            token.info.name,
            token.info.role.as_str()
        ));
        Ok(())
    }

    /// A rotated token: its JSON, or the new secret alone on stdout.
    pub fn rotated_token(self, token: &CreatedToken) -> io::Result<()> {
        if self.json {
            return print_json(token);
        }
        stdout(&token.token)?;
        status(&format!(
            "rotated token {:?}: the old secret no longer works; the new one is shown only this once",
            token.info.name
        ));
        Ok(())
    }

    pub fn tokens(self, tokens: &[TokenInfo]) -> io::Result<()> {
        if self.json {
            return print_json(&Items { items: tokens });
        }
        let mut table = table(["NAME", "ROLE", "GROUPS", "CREATED", "CREATED BY"]);
        for t in tokens {
            table.add_row([
                t.name.clone(),
                t.role.as_str().to_owned(),
                t.groups.join(","),
                timestamp(t.created_at),
                t.created_by.clone(),
            ]);
        }
        stdout(&render(&table))
    }
}

impl Output {
    pub fn grants(self, grants: &[Grant]) -> io::Result<()> {
        if self.json {
            return print_json(&Items { items: grants });
        }
        let mut table = table(["ID", "COVERS", "EXPIRES", "CREATED BY"]);
        for g in grants {
            let covers = if g.covers.is_empty() {
                g.describe()
            } else {
                g.covers.clone()
            };
            table.add_row([
                g.id.to_string(),
                covers,
                timestamp(g.expires_at),
                g.created_by.clone(),
            ]);
        }
        stdout(&render(&table))
    }
}

impl Output {
    /// One event as one line: NDJSON with `--json`, else columns.
    pub fn event(self, event: &Event) -> io::Result<()> {
        let line = if self.json {
            let line = serde_json::to_string(event).map_err(io::Error::other)?;
            return write_out(&printable_json(&line));
        } else {
            format!(
                "{:>6}  {}  {:<19}  {:<16}  {}",
                event.seq,
                timestamp(event.at),
                event.kind.as_str(),
                event.actor,
                event
                    .approval_id
                    .map(|id| id.to_string())
                    .unwrap_or_default()
            )
        };
        stdout(&line)
    }
}

impl Output {
    /// What a request would get: aligned fields, or the JSON answer.
    pub fn check(self, result: &CheckResult) -> io::Result<()> {
        if self.json {
            return print_json(result);
        }
        let fields = [
            ("effect", result.effect.as_str().to_owned()),
            (
                "rule",
                result
                    .rule
                    .clone()
                    .unwrap_or_else(|| "(default)".to_owned()),
            ),
            ("reason", result.reason.clone().unwrap_or_default()),
            (
                "grant",
                result.grant.map(|g| g.to_string()).unwrap_or_default(),
            ),
            (
                "parts",
                result
                    .parts
                    .iter()
                    .flatten()
                    .map(part_line)
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        ];
        let shown: Vec<(&str, String)> =
            fields.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        stdout(&aligned(&shown))
    }
}

/// One simple command and where its output goes: `git status  > /etc/passwd (writes a file)`.
fn part_line(part: &CommandPart) -> String {
    let mut line = part.text.clone();
    for r in &part.redirects {
        line.push_str(&format!("  {}{}", r.op, r.target));
        if r.writes_file {
            line.push_str(" (writes a file)");
        }
    }
    line
}

/// `{"items": [...]}`, the shape of the gateway's listings.
#[derive(Serialize)]
struct Items<'a, T> {
    items: &'a [T],
}

/// A message for the person at the terminal, never for a pipe.
pub fn status(message: &str) {
    eprintln!("assent: {}", printable(message));
}

/// Text from elsewhere made safe for a terminal: control characters other
/// than newline and tab, and the invisible characters that reorder or hide
/// text (bidirectional controls, zero-width characters), are written as
/// escapes (`\x1b`, `\u{202e}`). So nobody who can put text into an approval
/// can move the cursor, recolour, retitle or clear a reviewer's terminal, or
/// disguise what the reviewer reads.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match u32::from(c) {
            _ if !hidden(c) => shown.push(c),
            code @ 0..0x80 => shown.push_str(&format!("\\x{code:02x}")),
            code => shown.push_str(&format!("\\u{{{code:04x}}}")),
        }
    }
    Cow::Owned(shown)
}

/// The same for JSON text: such characters inside strings become `\uXXXX`
/// escapes (serde writes only C0 controls escaped), so the output is the
/// same JSON, terminal-safe.
fn printable_json(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| hidden(c) && c != '\n') {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if hidden(c) && c != '\n' {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                shown.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            shown.push(c);
        }
    }
    Cow::Owned(shown)
}

/// Characters a terminal would act on or not show.
fn hidden(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
        )
}

fn print_json<T: Serialize>(value: &T) -> io::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
    write_out(&printable_json(&text))
}

/// Text for people on stdout, escaped where a terminal would act on it.
fn stdout(text: &str) -> io::Result<()> {
    write_out(&printable(text))
}

fn write_out(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()
}

/// A borderless table, columns two spaces apart, like `ps` or `kubectl get`.
fn table<const N: usize>(header: [&str; N]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header);
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    table
}

/// The table's lines without the padding after their last column.
fn render(table: &Table) -> String {
    table
        .lines()
        .map(|line| line.trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// How serde spells a unit enum variant (`medium`, `once`).
fn json_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn approval_fields(a: &Approval) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("id", a.id.to_string()),
        ("status", a.status.as_str().to_owned()),
        ("action", a.action.clone()),
        ("requester", a.requester.clone()),
        ("risk", json_name(&a.risk)),
    ];
    let optional = [
        ("summary", &a.summary),
        ("session", &a.session_id),
        ("run", &a.run_id),
        ("rule", &a.rule),
    ];
    fields.extend(
        optional
            .into_iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k, v))),
    );
    fields.push(("args", pretty(&a.args)));
    if let Some(parts) = &a.parts {
        let lines: Vec<String> = parts.iter().map(part_line).collect();
        fields.push(("parts", lines.join("\n")));
    }
    if !a.context.is_empty() {
        fields.push(("context", pretty(&a.context)));
    }
    if !a.labels.is_empty() {
        let labels: Vec<String> = a.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        fields.push(("labels", labels.join(", ")));
    }
    if !a.quorum.is_empty() {
        fields.push((
            "quorum",
            a.quorum
                .iter()
                .map(quorum_stage)
                .collect::<Vec<_>>()
                .join("\n"),
        ));
    }
    if !a.reviews.is_empty() {
        fields.push((
            "reviews",
            a.reviews.iter().map(review).collect::<Vec<_>>().join("\n"),
        ));
    }
    fields.push(("created", timestamp(a.created_at)));
    fields.push(("expires", timestamp(a.expires_at)));
    if let Some(decision) = a.decision.as_ref().filter(|_| a.status.is_terminal()) {
        fields.push(("decided", timestamp(decision.at)));
        fields.push(("decided by", decision.by.join(", ")));
        if let Some(reason) = &decision.reason {
            fields.push(("reason", reason.clone()));
        }
        if let Some(scope) = &decision.scope {
            fields.push(("scope", json_name(scope)));
        }
    }
    fields
}

fn pretty(map: &serde_json::Map<String, serde_json::Value>) -> String {
    serde_json::to_string_pretty(map).unwrap_or_default()
}

fn quorum_stage(stage: &QuorumStage) -> String {
    let mut line = format!("{} {}/{}", stage.group, stage.approved_by.len(), stage.min);
    if !stage.approved_by.is_empty() {
        line.push_str(&format!(" ({})", stage.approved_by.join(", ")));
    }
    line
}

fn review(r: &Review) -> String {
    let mut line = format!(
        "{} {} ({})",
        r.principal,
        json_name(&r.decision),
        json_name(&r.scope)
    );
    if let Some(prefix) = &r.command_prefix {
        line.push_str(&format!(" for commands starting {prefix:?}"));
    }
    if let Some(reason) = &r.reason {
        line.push_str(": ");
        line.push_str(reason);
    }
    line
}

/// `key: value` lines with the values in one column; a multi-line value's
/// further lines are indented to that column.
fn aligned(fields: &[(&str, String)]) -> String {
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 2;
    let mut text = String::new();
    for (key, value) in fields {
        let label = format!("{key}:");
        let mut lines = value.lines();
        text.push_str(&format!("{label:width$}{}\n", lines.next().unwrap_or("")));
        for line in lines {
            text.push_str(&format!("{:width$}{line}\n", ""));
        }
    }
    text.truncate(text.trim_end().len());
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_line_up_and_continuation_lines_are_indented() {
        let fields = [
            ("id", "1".to_owned()),
            ("requester", "bot".to_owned()),
            ("args", "{\n  \"a\": 1\n}".to_owned()),
        ];
        assert_eq!(
            aligned(&fields),
            "id:        1\nrequester: bot\nargs:      {\n             \"a\": 1\n           }"
        );
    }

    #[test]
    fn tables_are_aligned_without_borders_or_trailing_space() {
        let mut t = table(["ID", "STATUS"]);
        t.add_row(["a-long-id", "pending"]);
        t.add_row(["b", "approved"]);
        assert_eq!(
            render(&t),
            "ID         STATUS\na-long-id  pending\nb          approved"
        );
    }

    #[test]
    fn terminal_controls_are_shown_escaped() {
        assert_eq!(printable("plain\n\ttext é"), "plain\n\ttext é");
        assert_eq!(
            printable("\u{1b}[2Jok\rno\u{7f}\u{9b}31m"),
            "\\x1b[2Jok\\x0dno\\x7f\\u{009b}31m"
        );
        assert_eq!(printable("txt\u{202e}exe.sh"), "txt\\u{202e}exe.sh");
        let json = serde_json::to_string_pretty(&serde_json::json!({"a": "\u{9b}\u{202e}\u{1b}"}))
            .unwrap();
        let shown = printable_json(&json);
        assert!(!shown.chars().any(hidden), "{shown}");
        let back: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(back["a"], "\u{9b}\u{202e}\u{1b}");
    }

    #[test]
    fn enum_values_are_named_as_in_the_api() {
        assert_eq!(json_name(&assent_domain::Risk::Critical), "critical");
        assert_eq!(json_name(&assent_domain::Scope::Timeboxed), "timeboxed");
    }
}
