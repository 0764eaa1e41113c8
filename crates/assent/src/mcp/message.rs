//! The few parts of MCP messages the proxy reads, and the few messages it
//! writes itself.
//!
//! Framing is done here by hand rather than with an MCP crate such as
//! `rmcp`: the stdio transport is one JSON-RPC message per line, and the
//! proxy must pass every message through byte for byte whatever protocol
//! version the two sides speak. The typed message enums of MCP crates
//! re-serialize what they parse, drop fields they do not know, and refuse or
//! reshape methods newer than the crate (`server/discover` and the stateless
//! 2026-07-28 requests, say). So the proxy forwards raw lines and parses a
//! line only to find out whether it is a `tools/call` or a cancellation.

use serde_json::{Map, Value, json};

/// JSON-RPC's "invalid params" error code.
pub const INVALID_PARAMS: i64 = -32602;
/// JSON-RPC's "parse error" code.
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC's "invalid request" code.
pub const INVALID_REQUEST: i64 = -32600;

/// The `_meta` key by which the stateless protocol versions (2026-07-28
/// and later) name the version on every request.
const PROTOCOL_VERSION_META: &str = "io.modelcontextprotocol/protocolVersion";
/// The `_meta` key under which those versions identify the server in results.
const SERVER_INFO_META: &str = "io.modelcontextprotocol/serverInfo";

/// What a line from the MCP client is, as far as the proxy cares.
#[derive(Debug, PartialEq)]
pub enum FromClient {
    /// A `tools/call` request: gated before the server sees it.
    ToolCall(ToolCall),
    /// `notifications/cancelled` for the request with this id key.
    Cancelled {
        request: String,
        reason: Option<String>,
    },
    /// A batch holding calls or cancellations: each item is handled alone.
    Batch(Vec<Value>),
    /// A `tools/call` the proxy refuses to pass on, answered with this error
    /// (`id` is `None` for a notification, which gets no answer).
    Refused {
        id: Option<Value>,
        code: i64,
        message: String,
    },
    /// An empty line: nothing to do.
    Blank,
    /// Everything else: forwarded untouched.
    Other,
}

/// A `tools/call` request.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub id: Value,
    pub name: String,
    pub arguments: Map<String, Value>,
    /// `params._meta.progressToken`, when the client asked for progress.
    pub progress_token: Option<Value>,
    /// Whether the request names a stateless protocol version, whose
    /// results carry `resultType`.
    pub stateless: bool,
}

/// A request id as a map key: its JSON text, so `1` and `"1"` differ.
pub fn id_key(id: &Value) -> String {
    id.to_string()
}

/// Reads one line from the client. A line that is not JSON is refused
/// rather than forwarded: a server with a more lenient parser might read a
/// tool call in it that the proxy never saw.
pub fn classify(line: &[u8]) -> FromClient {
    if line.iter().all(u8::is_ascii_whitespace) {
        return FromClient::Blank;
    }
    let message: Value = match serde_json::from_slice(line) {
        Ok(message) => message,
        Err(e) => {
            return FromClient::Refused {
                id: Some(Value::Null),
                code: PARSE_ERROR,
                message: format!("Parse error: {e}"),
            };
        }
    };
    match message {
        Value::Array(items) if items.iter().any(needs_the_proxy) => FromClient::Batch(items),
        Value::Object(message) => classify_object(message),
        _ => FromClient::Other,
    }
}

/// Whether a batch item is one the proxy must handle itself.
fn needs_the_proxy(item: &Value) -> bool {
    matches!(
        item.get("method").and_then(Value::as_str),
        Some("tools/call" | "notifications/cancelled")
    )
}

fn classify_object(mut message: Map<String, Value>) -> FromClient {
    match message.get("method").and_then(Value::as_str) {
        Some("tools/call") => {}
        Some("notifications/cancelled") => {
            let params = message.get("params");
            return match params.and_then(|p| p.get("requestId")) {
                Some(request) => FromClient::Cancelled {
                    request: id_key(request),
                    reason: params
                        .and_then(|p| p.get("reason"))
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                },
                None => FromClient::Other,
            };
        }
        _ => return FromClient::Other,
    }
    let refuse = |id: Option<Value>, code, message: &str| FromClient::Refused {
        id,
        code,
        message: message.to_owned(),
    };
    let Some(id) = message.remove("id").filter(|id| !id.is_null()) else {
        return refuse(
            None,
            INVALID_REQUEST,
            "a tools/call without an id is not run",
        );
    };
    let Some(Value::Object(mut params)) = message.remove("params") else {
        return refuse(Some(id), INVALID_PARAMS, "tools/call needs params");
    };
    let Some(Value::String(name)) = params.remove("name") else {
        return refuse(
            Some(id),
            INVALID_PARAMS,
            "tools/call needs params.name, a string",
        );
    };
    let arguments = match params.remove("arguments") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(arguments)) => arguments,
        Some(_) => {
            return refuse(
                Some(id),
                INVALID_PARAMS,
                "tools/call params.arguments must be an object",
            );
        }
    };
    let meta = params.get("_meta");
    FromClient::ToolCall(ToolCall {
        id,
        name,
        arguments,
        progress_token: meta
            .and_then(|m| m.get("progressToken"))
            .filter(|t| t.is_string() || t.is_number())
            .cloned(),
        stateless: meta.is_some_and(|m| m.get(PROTOCOL_VERSION_META).is_some()),
    })
}

/// The name a server gives itself in a response: `serverInfo.name` in the
/// `initialize` result, or the stateless versions' `_meta` server info.
pub fn server_name(line: &[u8]) -> Option<String> {
    let message: Value = serde_json::from_slice(line).ok()?;
    let result = message.get("result")?;
    let info = result
        .get("serverInfo")
        .or_else(|| result.get("_meta")?.get(SERVER_INFO_META))?;
    info.get("name")?.as_str().map(str::to_owned)
}

/// A tool result with `isError: true`: the model reads `text` and adapts.
pub fn tool_error(call: &ToolCall, text: &str) -> Vec<u8> {
    let mut result = json!({
        "content": [{"type": "text", "text": text}],
        "isError": true,
    });
    if call.stateless {
        result["resultType"] = json!("complete");
    }
    line(&json!({"jsonrpc": "2.0", "id": call.id, "result": result}))
}

/// `notifications/progress` on the client's token.
pub fn progress(token: &Value, progress: u64, message: &str) -> Vec<u8> {
    line(&json!({
        "jsonrpc": "2.0",
        "method": "notifications/progress",
        "params": {"progressToken": token, "progress": progress, "message": message},
    }))
}

/// A JSON-RPC error answer.
pub fn rpc_error(id: &Value, code: i64, message: &str) -> Vec<u8> {
    line(&json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {"code": code, "message": message},
    }))
}

/// One message as one line of the stdio transport.
pub fn line(message: &Value) -> Vec<u8> {
    let mut line = message.to_string().into_bytes();
    line.push(b'\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(text: &str) -> ToolCall {
        match classify(text.as_bytes()) {
            FromClient::ToolCall(call) => call,
            other => panic!("not a tool call: {other:?}"),
        }
    }

    #[test]
    fn tool_calls_are_read_with_their_progress_token() {
        let c = call(
            r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"},"_meta":{"progressToken":"p1"}}}"#,
        );
        assert_eq!(c.id, json!(7));
        assert_eq!(c.name, "echo");
        assert_eq!(Value::Object(c.arguments), json!({"message": "hi"}));
        assert_eq!(c.progress_token, Some(json!("p1")));
        assert!(!c.stateless);
        let c = call(
            r#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"x","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#,
        );
        assert!(c.arguments.is_empty());
        assert!(c.stateless);
        assert_eq!(c.progress_token, None);
    }

    #[test]
    fn duplicate_keys_are_read_as_javascript_and_python_read_them() {
        // The last one wins, so the proxy sees the call the server will run.
        let c = call(
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call","params":{"name":"a","name":"rm"}}"#,
        );
        assert_eq!(c.name, "rm");
    }

    #[test]
    fn lines_that_are_not_json_are_refused_not_forwarded() {
        let nan = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"n":NaN}}}"#;
        assert!(matches!(
            classify(nan),
            FromClient::Refused {
                code: PARSE_ERROR,
                id: Some(Value::Null),
                ..
            }
        ));
        assert_eq!(classify(b"  \r\n"), FromClient::Blank);
    }

    #[test]
    fn malformed_tool_calls_are_refused() {
        for (text, id) in [
            (
                r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"x"}}"#,
                None,
            ),
            (
                r#"{"jsonrpc":"2.0","id":2,"method":"tools/call"}"#,
                Some(json!(2)),
            ),
            (
                r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":5}}"#,
                Some(json!(3)),
            ),
            (
                r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"x","arguments":[1]}}"#,
                Some(json!(4)),
            ),
        ] {
            match classify(text.as_bytes()) {
                FromClient::Refused { id: got, .. } => assert_eq!(got, id, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn cancellations_batches_and_everything_else() {
        assert_eq!(
            classify(br#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"7","reason":"user"}}"#),
            FromClient::Cancelled { request: "\"7\"".into(), reason: Some("user".into()) }
        );
        assert_eq!(
            classify(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#),
            FromClient::Other
        );
        assert_eq!(
            classify(br#"[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]"#),
            FromClient::Other
        );
        assert!(matches!(
            classify(br#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}]"#),
            FromClient::Batch(items) if items.len() == 1
        ));
    }

    #[test]
    fn server_names_come_from_either_protocol_era() {
        assert_eq!(
            server_name(br#"{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-11-25","serverInfo":{"name":"github","version":"1"}}}"#),
            Some("github".into())
        );
        assert_eq!(
            server_name(br#"{"jsonrpc":"2.0","id":0,"result":{"tools":[],"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"fs","version":"2"}}}}"#),
            Some("fs".into())
        );
        assert_eq!(
            server_name(br#"{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}"#),
            None
        );
    }

    #[test]
    fn refusals_are_tool_results_with_is_error() {
        let mut c = call(r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"x"}}"#);
        let text: Value = serde_json::from_slice(&tool_error(&c, "no")).unwrap();
        assert_eq!(
            text,
            json!({"jsonrpc": "2.0", "id": 9, "result": {"content": [{"type": "text", "text": "no"}], "isError": true}})
        );
        c.stateless = true;
        let text: Value = serde_json::from_slice(&tool_error(&c, "no")).unwrap();
        assert_eq!(text["result"]["resultType"], "complete");
    }
}
