//! Makes the OpenAPI document say what the gateway does beyond what each
//! route declares: every error is `application/problem+json`; the answers
//! every authenticated, body-taking or parameterised operation can give
//! (401, 403, 400, 413, 415, 429, 503) are listed; and the constraints the
//! gateway enforces across fields or from its configuration are in the
//! schemas.

use serde_json::{Map, Value, json};

const PROBLEM: &str = "application/problem+json";
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The document with the gateway-wide answers and constraints filled in.
/// `max_timeout_seconds` is the server's `max_timeout`: the most a request's
/// `timeout_seconds` may ask for.
pub fn refine(doc: &utoipa::openapi::OpenApi, max_timeout_seconds: u64) -> Value {
    let mut value = serde_json::to_value(doc).unwrap_or_else(|e| {
        tracing::error!(error = %e, "the OpenAPI document does not serialize");
        json!({})
    });
    if let Some(paths) = value.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            for method in METHODS {
                if let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) {
                    refine_operation(method, op);
                }
            }
        }
    }
    if let Some(schemas) = value
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        refine_schemas(schemas, max_timeout_seconds);
    }
    value
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": { PROBLEM: { "schema": { "$ref": "#/components/schemas/Problem" } } }
    })
}

fn refine_operation(method: &str, op: &mut Map<String, Value>) {
    // Operations without their own `security` inherit the document's (a
    // bearer token or the console's session); `security: [{}]` is public.
    let authenticated = match op.get("security").and_then(Value::as_array) {
        None => true,
        Some(alternatives) => alternatives
            .iter()
            .any(|a| a.as_object().is_some_and(|a| !a.is_empty())),
    };
    let has_body = op.contains_key("requestBody");
    let has_params = op
        .get("parameters")
        .and_then(Value::as_array)
        .is_some_and(|p| !p.is_empty());
    let changes_state = method != "get";
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        params.iter_mut().for_each(refine_parameter);
    }
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    // Every error is a problem document.
    for (status, response) in responses.iter_mut() {
        if !status.starts_with('4') && !status.starts_with('5') {
            continue;
        }
        let Some(response) = response.as_object_mut() else {
            continue;
        };
        let content = response
            .entry("content")
            .or_insert_with(|| json!({}))
            .as_object_mut();
        if let Some(content) = content {
            let schema = content
                .remove("application/json")
                .unwrap_or_else(|| json!({ "schema": { "$ref": "#/components/schemas/Problem" } }));
            content.insert(PROBLEM.into(), schema);
        }
    }
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| problem(description));
    };
    if has_params || has_body {
        add(
            "400",
            "a parameter or the body is malformed or invalid; `detail` names it",
        );
    }
    if has_body {
        add(
            "413",
            "the body is larger than the gateway's max_body_bytes",
        );
        add(
            "415",
            "the body is not sent as Content-Type: application/json",
        );
    }
    if authenticated {
        add(
            "401",
            "no token, an unknown or revoked token, or an ended console session",
        );
        if changes_state {
            add(
                "403",
                "the caller's role may not do this, or the console session's X-CSRF-Token is missing or wrong",
            );
        }
        add(
            "429",
            "too many failed authentications from this address, or over the token's request rate; see Retry-After",
        );
        add(
            "503",
            "the store is unavailable or its disk is full; retry later (Retry-After)",
        );
    }
}

/// A duration as the gateway reads it: whole units of ms, s, m, h or d
/// (seconds without a unit).
pub const DURATION_PATTERN: &str = "^[0-9]{1,12}(ms|s|m|h|d)?$";

/// The formats of query parameters, as `params` parses them.
fn refine_parameter(param: &mut Value) {
    let Some(name) = param.get("name").and_then(Value::as_str).map(str::to_owned) else {
        return;
    };
    let in_path = param.get("in").and_then(Value::as_str) == Some("path");
    let types = assent_domain::EventType::ALL
        .iter()
        .map(|t| t.as_str().replace('.', "\\."))
        .collect::<Vec<_>>()
        .join("|");
    let schema = match name.as_str() {
        "limit" => json!({ "type": "integer", "minimum": 1 }),
        "after" => json!({ "type": "integer", "format": "int64", "minimum": 0 }),
        "wait" => json!({ "type": "string", "pattern": DURATION_PATTERN }),
        "since" => json!({ "anyOf": [
            { "type": "string", "format": "date-time" },
            { "type": "string", "pattern": DURATION_PATTERN },
        ] }),
        "types" => json!({ "type": "string", "pattern": format!("^({types})(,({types}))*$") }),
        "label" => json!({
            "type": "array",
            "items": { "type": "string", "pattern": "^[^:]*:[\\s\\S]*$" }
        }),
        "status" => json!({
            "type": "string",
            "enum": ["pending", "approved", "rejected", "expired", "cancelled", "all"]
        }),
        "cursor" => json!({ "type": "string", "format": "uuid" }),
        "Last-Event-ID" => json!({ "type": "string", "pattern": "^[0-9]{1,18}$" }),
        "Idempotency-Key" => json!({ "type": "string", "pattern": "^[!-~]{1,255}$" }),
        "name" if in_path => {
            json!({ "type": "string", "pattern": "^[A-Za-z0-9._@-]{1,100}$" })
        }
        _ => return,
    };
    if let Some(param) = param.as_object_mut() {
        param.insert("schema".into(), schema);
        if name == "label" {
            param.insert("style".into(), json!("form"));
            param.insert("explode".into(), json!(true));
        }
    }
}

/// What the field-level annotations cannot say.
fn refine_schemas(schemas: &mut Map<String, Value>, max_timeout_seconds: u64) {
    if let Some(timeout) = schemas.get_mut("CreateApproval").and_then(|s| {
        s.pointer_mut("/properties/timeout_seconds")
            .and_then(Value::as_object_mut)
    }) {
        timeout.insert("minimum".into(), json!(1));
        timeout.insert("maximum".into(), json!(max_timeout_seconds));
    }
    if let Some(labels) = schemas
        .get_mut("CreateApproval")
        .and_then(|s| s.pointer_mut("/properties/labels"))
    {
        *labels = json!({
            "type": "object",
            "description": labels.get("description").cloned().unwrap_or_else(|| json!("")),
            "maxProperties": 32,
            "propertyNames": { "pattern": "^[A-Za-z0-9._/-]{1,100}$" },
            "additionalProperties": {
                "type": "string",
                "maxLength": 200,
                "pattern": "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"
            }
        });
    }
    if let Some(groups) = schemas
        .get_mut("CreateToken")
        .and_then(|s| s.pointer_mut("/properties/groups"))
        .and_then(Value::as_object_mut)
    {
        groups.insert("maxItems".into(), json!(32));
        groups.insert(
            "items".into(),
            json!({ "type": "string", "pattern": "^[A-Za-z0-9._@-]{1,100}$" }),
        );
    }
    if let Some(token) = schemas
        .get_mut("SignIn")
        .and_then(|s| s.pointer_mut("/properties/token"))
        .and_then(Value::as_object_mut)
    {
        token.insert("minLength".into(), json!(1));
    }
    // `ttl_seconds` goes with scope `timeboxed`, and only with it;
    // `command_prefix` only with `grant_match` `command`.
    if let Some(review) = schemas
        .get_mut("ReviewRequest")
        .and_then(Value::as_object_mut)
    {
        review.insert(
            "anyOf".into(),
            json!([
                {
                    "not": {
                        "properties": { "command_prefix": { "type": "string" } },
                        "required": ["command_prefix"]
                    }
                },
                {
                    "properties": { "grant_match": { "const": "command" } },
                    "required": ["grant_match"]
                }
            ]),
        );
        review.insert(
            "oneOf".into(),
            json!([
                {
                    "properties": {
                        "scope": { "const": "timeboxed" },
                        "ttl_seconds": { "type": "integer" }
                    },
                    "required": ["scope", "ttl_seconds"]
                },
                {
                    "properties": { "scope": { "enum": ["once", "session"] } },
                    "not": {
                        "properties": { "ttl_seconds": { "type": "integer" } },
                        "required": ["ttl_seconds"]
                    }
                }
            ]),
        );
    }
}
