//! SQL assembled at run time with `$n` placeholders, which SQLite and
//! PostgreSQL both accept. (sqlx's `QueryBuilder` writes `?` for `Any`,
//! which PostgreSQL rejects.)

use std::fmt::Write;

use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments, AssertSqlSafe, Encode, Type};

#[derive(Default)]
pub(crate) struct Statement {
    sql: String,
    args: AnyArguments,
    count: usize,
    /// The first value that failed to encode; reported when the statement runs.
    error: Option<sqlx::error::BoxDynError>,
}

impl Statement {
    pub fn new(sql: &str) -> Statement {
        Statement {
            sql: sql.to_owned(),
            ..Statement::default()
        }
    }

    pub fn push(&mut self, sql: impl std::fmt::Display) -> &mut Self {
        let _ = write!(self.sql, "{sql}");
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind<'t, T: Encode<'t, Any> + Type<Any> + 't>(&mut self, value: T) -> &mut Self {
        self.count += 1;
        let _ = write!(self.sql, "${}", self.count);
        if let Err(e) = self.args.add(value) {
            self.error.get_or_insert(e);
        }
        self
    }

    pub fn query<'q>(self) -> Result<sqlx::query::Query<'q, Any, AnyArguments>, sqlx::Error> {
        match self.error {
            Some(e) => Err(sqlx::Error::Encode(e)),
            None => Ok(sqlx::query_with(AssertSqlSafe(self.sql), self.args)),
        }
    }
}
