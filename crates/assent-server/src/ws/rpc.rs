//! JSON-RPC 2.0 framing: requests, batches, notifications and error objects.
//! Domain errors keep their HTTP meaning in `error.data` (`status`, `type`,
//! `detail`), so a client branches on them exactly as over HTTP.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::ApiError;

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
/// Every refusal that has an HTTP status other than 400 (403, 404, 409, …).
pub const DOMAIN_ERROR: i64 = -32000;

#[derive(Debug, Serialize)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }
}

/// Bad input is "invalid params" (the message names the field); anything
/// else is a domain error. Both carry the problem details in `data`.
impl From<ApiError> for RpcError {
    fn from(e: ApiError) -> Self {
        let problem = e.problem();
        let code = match e {
            ApiError::BadRequest(_) => INVALID_PARAMS,
            _ => DOMAIN_ERROR,
        };
        RpcError {
            code,
            message: problem.detail.clone(),
            data: Some(json!({
                "status": problem.status,
                "type": problem.kind,
                "detail": problem.detail,
            })),
        }
    }
}

/// One call, checked against the JSON-RPC 2.0 request shape.
pub struct Call {
    /// `None` for a notification, which gets no response.
    pub id: Option<Value>,
    pub method: String,
    pub params: Value,
}

impl Call {
    /// Checks the shape; the error comes with the id when one could be read.
    pub fn from_value(value: Value) -> Result<Call, (Value, RpcError)> {
        let Value::Object(mut object) = value else {
            return Err((Value::Null, invalid_request("a request must be an object")));
        };
        let id = object.remove("id");
        let reply_id = id.clone().unwrap_or(Value::Null);
        if id
            .as_ref()
            .is_some_and(|id| !matches!(id, Value::String(_) | Value::Number(_) | Value::Null))
        {
            return Err((
                Value::Null,
                invalid_request("id must be a string, number or null"),
            ));
        }
        if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return Err((reply_id, invalid_request("jsonrpc must be \"2.0\"")));
        }
        let Some(Value::String(method)) = object.remove("method") else {
            return Err((reply_id, invalid_request("method must be a string")));
        };
        let params = match object.remove("params") {
            None | Some(Value::Null) => Value::Object(Default::default()),
            Some(params @ Value::Object(_)) => params,
            Some(_) => {
                return Err((
                    reply_id,
                    RpcError::new(INVALID_PARAMS, "params: must be an object"),
                ));
            }
        };
        Ok(Call { id, method, params })
    }
}

/// Too many requests running on one connection: 429 as over HTTP.
pub fn busy(limit: usize) -> RpcError {
    let detail = format!("at most {limit} requests may run at once on one connection");
    RpcError {
        code: DOMAIN_ERROR,
        message: detail.clone(),
        data: Some(
            json!({"status": 429, "type": "urn:assent:problem:rate-limited", "detail": detail}),
        ),
    }
}

fn invalid_request(why: &str) -> RpcError {
    RpcError::new(INVALID_REQUEST, format!("invalid request: {why}"))
}

pub fn empty_batch() -> Value {
    failure(Value::Null, invalid_request("an empty batch"))
}

pub fn parse_error(why: &str) -> Value {
    failure(
        Value::Null,
        RpcError::new(PARSE_ERROR, format!("parse error: {why}")),
    )
}

pub fn success(id: Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

pub fn failure(id: Value, error: RpcError) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": error})
}

pub fn notification(method: &str, params: impl Serialize) -> Value {
    json!({"jsonrpc": "2.0", "method": method, "params": params})
}

/// Reads typed params; the message names the offending field.
pub fn params<T: DeserializeOwned>(params: Value) -> Result<T, RpcError> {
    serde_path_to_error::deserialize(params).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = if path == "." || path.is_empty() {
            format!("params: {inner}")
        } else {
            format!("{path}: {inner}")
        };
        ApiError::BadRequest(message).into()
    })
}
