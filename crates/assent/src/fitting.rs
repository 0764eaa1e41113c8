//! Text Assent does not choose (an MCP server's name, a tool's, a command
//! line) fitted to what the API accepts, so that any tool call can be asked
//! about: action names use `[A-Za-z0-9._:/-]`, summaries refuse control
//! characters.

use assent_domain::request::MAX_SUMMARY_CHARS;

/// `name` with every character outside the action alphabet replaced by `_`
/// and cut to `max` characters; `fallback` when nothing is left.
pub fn action_segment(name: &str, max: usize, fallback: &str) -> String {
    let fitted: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '/' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(max)
        .collect();
    if fitted.is_empty() {
        fallback.to_owned()
    } else {
        fitted
    }
}

/// A one-line summary for reviewers: control characters other than newline
/// and tab become spaces, and it is cut to the API's limit.
pub fn summary(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                ' '
            } else {
                c
            }
        })
        .take(MAX_SUMMARY_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use assent_domain::request::validate_action;

    use super::*;

    #[test]
    fn names_are_fitted_to_the_action_alphabet() {
        assert_eq!(
            action_segment("mcp-servers/everything", 64, "x"),
            "mcp-servers/everything"
        );
        assert_eq!(
            action_segment("Everything Server", 64, "x"),
            "Everything_Server"
        );
        assert_eq!(
            action_segment("créer un ticket", 64, "x"),
            "cr_er_un_ticket"
        );
        assert_eq!(action_segment("a\nb", 64, "x"), "a_b");
        assert_eq!(action_segment("", 64, "server"), "server");
        assert_eq!(action_segment(&"t".repeat(300), 128, "x").len(), 128);
        let action = format!(
            "mcp.{}.{}",
            action_segment(&"é".repeat(300), 64, "x"),
            action_segment(&"ü".repeat(300), 128, "x")
        );
        assert!(validate_action(&action).is_ok(), "{action}");
    }

    #[test]
    fn summaries_lose_control_characters_and_excess_length() {
        assert_eq!(
            summary("rm -rf /\x1b[2J\r\nok\tgo"),
            "rm -rf / [2J \nok\tgo"
        );
        assert_eq!(
            summary(&"x".repeat(5000)).chars().count(),
            MAX_SUMMARY_CHARS
        );
    }
}
