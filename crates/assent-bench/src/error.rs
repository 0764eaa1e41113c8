//! The one error type of the benchmark: any failure ends the run with its message.

pub type Error = Box<dyn std::error::Error + Send + Sync>;
