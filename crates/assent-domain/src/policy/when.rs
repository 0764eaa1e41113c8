//! `when` conditions: CEL expressions compiled at load and run against the
//! request's `action`, `args`, `labels`, `requester`, `session_id` and `risk`.

use std::sync::Arc;

use cel::{Context, Program, Value};

use super::Input;

#[derive(Debug)]
pub struct When {
    source: String,
    program: Program,
}

impl When {
    pub fn new(source: &str) -> Result<Self, String> {
        let program = Program::compile(source).map_err(|e| {
            format!(
                "invalid CEL expression: {}",
                super::pattern::one_line(&e.to_string())
            )
        })?;
        Ok(Self {
            source: source.to_owned(),
            program,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// `Some(result)` when the expression yields a bool; `None` when it fails
    /// or yields anything else (the caller decides which way that fails).
    pub fn eval(&self, vars: &Variables) -> Option<bool> {
        let context = vars.context.as_ref()?;
        match self.program.execute(context) {
            Ok(Value::Bool(b)) => Some(b),
            _ => None,
        }
    }
}

/// The CEL variables for one evaluation, built once and shared by every
/// `when` the evaluation reaches. `context` is `None` when the request could
/// not be converted (then every `when` counts as an error).
pub struct Variables {
    context: Option<Context<'static, 'static>>,
}

impl Variables {
    pub fn new(env: &Arc<cel::Env>, input: &Input<'_>) -> Self {
        Self {
            context: build(env, input),
        }
    }
}

fn build(env: &Arc<cel::Env>, input: &Input<'_>) -> Option<Context<'static, 'static>> {
    let mut context = Context::with_env(Arc::clone(env));
    context.add_variable_from_value("action", input.action.to_owned());
    context.add_variable_from_value("args", cel::to_value(input.args).ok()?);
    context.add_variable_from_value("labels", cel::to_value(input.labels).ok()?);
    context.add_variable_from_value("requester", input.requester.to_owned());
    context.add_variable_from_value(
        "session_id",
        input
            .session_id
            .map_or(Value::Null, |s| s.to_owned().into()),
    );
    context.add_variable_from_value(
        "risk",
        input
            .risk
            .map_or(Value::Null, |r| r.as_str().to_owned().into()),
    );
    Some(context)
}
