//! An agent loop gated by Assent: every tool call the agent plans is asked
//! for first, and runs only once approved. Reads ASSENT_URL and ASSENT_TOKEN.

use std::time::Duration;

use assent_client::{Client, CreateApproval, Status};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("ASSENT_URL").unwrap_or_else(|_| "http://127.0.0.1:8470".into());
    let client = Client::new(&url, &std::env::var("ASSENT_TOKEN")?)?;
    let session = format!("agent-loop-{}", std::process::id());

    // What the model decided to do, one tool call at a time.
    let plan = [
        ("fs.read", json!({"path": "README.md"})),
        ("deploy", json!({"service": "billing", "env": "prod"})),
    ];
    for (action, args) in plan {
        let ask = CreateApproval {
            action: action.into(),
            args: args.as_object().cloned().unwrap_or_default(),
            summary: Some(format!("{action} {args}")),
            session_id: Some(session.clone()),
            ..Default::default()
        };
        // Asks, then long-polls until a person (or the policy) decides.
        let approval = client
            .request_and_wait(&ask, Some(Duration::from_secs(600)))
            .await?;
        let decision = approval.decision.as_ref();
        let by = decision.map(|d| d.by.join(", ")).unwrap_or_default();
        let why = decision.and_then(|d| d.reason.clone()).unwrap_or_default();
        if approval.status == Status::Approved {
            println!("{action}: approved by {by}; running it");
            run_tool(action, &args);
        } else {
            // Tell the model, so it can adapt instead of retrying blindly.
            println!(
                "{action}: {} by {by}: {why}; skipped",
                approval.status.as_str()
            );
        }
    }
    Ok(())
}

fn run_tool(action: &str, args: &Value) {
    println!("{action}: ran with {args}");
}
