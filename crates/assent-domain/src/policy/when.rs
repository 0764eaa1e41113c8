//! `when` conditions: CEL expressions compiled at load and run against the
//! request's `action`, `args`, `labels`, `requester`, `session_id` and `risk`.

use std::sync::Arc;

use cel::common::ast::{EntryExpr, Expr};
use cel::{Context, IdedExpr, Program, Value};

use super::input::Input;

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
        let mut free = Vec::new();
        free_identifiers(program.expression(), &mut Vec::new(), &mut free);
        if let Some(unknown) = free.iter().find(|name| !KNOWN.contains(&name.as_str())) {
            return Err(format!(
                "unknown variable `{unknown}` (the variables are {})",
                VARIABLES.join(", ")
            ));
        }
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

/// The variables a `when` expression may use.
const VARIABLES: &[&str] = &[
    "action",
    "args",
    "labels",
    "requester",
    "session_id",
    "risk",
];

/// Every identifier a `when` may name: the variables and CEL's type names.
const KNOWN: &[&str] = &[
    "action",
    "args",
    "labels",
    "requester",
    "session_id",
    "risk",
    "int",
    "uint",
    "double",
    "bool",
    "string",
    "bytes",
    "list",
    "map",
    "null_type",
    "type",
];

/// Identifiers not bound by an enclosing comprehension (`x` in
/// `args.items.all(x, ...)` is bound), so a typo such as `arg.env` is
/// refused at load instead of failing at every evaluation.
fn free_identifiers(node: &IdedExpr, bound: &mut Vec<String>, out: &mut Vec<String>) {
    match &node.expr {
        Expr::Ident(name) => {
            if !bound.contains(name) {
                out.push(name.clone());
            }
        }
        Expr::Call(call) => {
            if let Some(target) = &call.target {
                free_identifiers(target, bound, out);
            }
            for arg in &call.args {
                free_identifiers(arg, bound, out);
            }
        }
        Expr::Select(select) => free_identifiers(&select.operand, bound, out),
        Expr::List(list) => {
            for element in &list.elements {
                free_identifiers(element, bound, out);
            }
        }
        Expr::Map(map) => {
            for entry in &map.entries {
                entry_identifiers(&entry.expr, bound, out);
            }
        }
        Expr::Struct(fields) => {
            for entry in &fields.entries {
                entry_identifiers(&entry.expr, bound, out);
            }
        }
        Expr::Comprehension(c) => {
            free_identifiers(&c.iter_range, bound, out);
            free_identifiers(&c.accu_init, bound, out);
            let depth = bound.len();
            bound.push(c.iter_var.clone());
            bound.extend(c.iter_var2.clone());
            bound.push(c.accu_var.clone());
            free_identifiers(&c.loop_cond, bound, out);
            free_identifiers(&c.loop_step, bound, out);
            free_identifiers(&c.result, bound, out);
            bound.truncate(depth);
        }
        Expr::Literal(_) | Expr::Unspecified => {}
    }
}

fn entry_identifiers(entry: &EntryExpr, bound: &mut Vec<String>, out: &mut Vec<String>) {
    match entry {
        EntryExpr::MapEntry(e) => {
            free_identifiers(&e.key, bound, out);
            free_identifiers(&e.value, bound, out);
        }
        EntryExpr::StructField(f) => free_identifiers(&f.value, bound, out),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_variables_are_refused_and_comprehension_variables_are_not() {
        for ok in [
            "args.replicas > 10 || labels.team == 'payments'",
            "args.items.all(i, i.startsWith('a')) && [1, 2].exists(x, x > 1)",
            "has(labels.team) && type(args.n) == int",
            "args.items.map(y, y * 2).size() > 0 && {'k': requester}.k == action",
            "session_id == null || risk == 'high'",
        ] {
            assert!(When::new(ok).is_ok(), "{ok}");
        }
        for (bad, name) in [
            ("arg.replicas > 1", "arg"),
            ("args.items.all(i, j > 1)", "j"),
            ("[1].exists(x, x > 0) && x > 0", "x"),
            ("label.team == 'a'", "label"),
        ] {
            let e = When::new(bad).unwrap_err();
            assert!(
                e.contains(&format!("unknown variable `{name}`")),
                "{bad}: {e}"
            );
        }
    }
}
