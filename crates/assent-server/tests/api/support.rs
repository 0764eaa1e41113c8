//! `TestApp`: a running gateway in a temporary data dir, on the backend a
//! test runs on, with tokens for every role and typed helpers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assent_server::{Config, Server};
use assent_testdb::{Backend, TestDb};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

pub struct TestApp {
    pub server: Option<Server>,
    pub base: String,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
    pub admin: String,
    /// agent `bot`
    pub agent: String,
    /// agent `other-bot`
    pub other_agent: String,
    /// approver `alice`
    pub approver: String,
    /// approver `bob`
    pub approver2: String,
    /// Applied to the config of every start, restarts included.
    customize: Customize,
    /// Dropped last: the server must stop before its database goes.
    pub db: TestDb,
}

type Customize = Box<dyn Fn(&mut Config) + Send + Sync>;

/// A gateway on a free port in `dir` on `db`, running `dir/policy.toml`
/// when it exists.
pub fn config(dir: &Path, db: &TestDb) -> Config {
    let policy = dir.join("policy.toml");
    Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.to_path_buf(),
        database_url: Some(db.url().to_owned()),
        policy: policy.exists().then(|| policy.into()),
        ..Config::default()
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        TestApp::spawn_with(backend, None, Box::new(|_| {})).await
    }

    /// A gateway running the given policy file (kept at `<dir>/policy.toml`).
    pub async fn spawn_with_policy(backend: Backend, policy: &str) -> TestApp {
        TestApp::spawn_with(backend, Some(policy), Box::new(|_| {})).await
    }

    /// A gateway whose config `customize` adjusts (at every start).
    pub async fn spawn_configured(
        backend: Backend,
        customize: impl Fn(&mut Config) + Send + Sync + 'static,
    ) -> TestApp {
        TestApp::spawn_with(backend, None, Box::new(customize)).await
    }

    fn config(&self) -> Config {
        let mut config = config(self.dir.path(), &self.db);
        (self.customize)(&mut config);
        config
    }

    async fn spawn_with(backend: Backend, policy: Option<&str>, customize: Customize) -> TestApp {
        let dir = assent_testdb::private_dir();
        if let Some(text) = policy {
            std::fs::write(dir.path().join("policy.toml"), text).unwrap();
        }
        let db = TestDb::create(backend, Some(dir.path())).await;
        let mut app = TestApp {
            server: None,
            base: String::new(),
            http: reqwest::Client::new(),
            dir,
            admin: String::new(),
            agent: String::new(),
            other_agent: String::new(),
            approver: String::new(),
            approver2: String::new(),
            customize,
            db,
        };
        let server = Server::start(app.config()).await.unwrap();
        app.base = format!("http://{}", server.addr());
        app.server = Some(server);
        app.admin = std::fs::read_to_string(app.dir.path().join("admin.token"))
            .unwrap()
            .trim()
            .to_owned();
        app.agent = app.token("bot", "agent", &[]).await;
        app.other_agent = app.token("other-bot", "agent", &[]).await;
        app.approver = app.token("alice", "approver", &[]).await;
        app.approver2 = app.token("bob", "approver", &[]).await;
        app
    }

    /// Stops the server (gracefully) and starts a new one on the same data dir.
    pub async fn restart(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.unwrap();
        }
        let server = Server::start(self.config()).await.unwrap();
        self.base = format!("http://{}", server.addr());
        self.server = Some(server);
    }

    pub fn policy_path(&self) -> PathBuf {
        self.dir.path().join("policy.toml")
    }

    pub async fn token(&self, name: &str, role: &str, groups: &[&str]) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/v1/tokens",
                &self.admin,
                Some(json!({"name": name, "role": role, "groups": groups})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Response {
        let mut req = self.http.request(method, self.url(path));
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.unwrap()
    }

    /// Sends and returns the status and JSON body (null when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let response = self.send(method, path, token, body).await;
        decode(response).await
    }

    pub async fn create(&self, token: &str, body: Value) -> Value {
        let (status, body) = self
            .call(Method::POST, "/v1/approvals", token, Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// A long-poll on `id` (`?wait=`), answered in the background.
    pub fn wait_in_background(
        &self,
        token: &str,
        id: &str,
        wait: &str,
    ) -> tokio::task::JoinHandle<(StatusCode, Value)> {
        let req = self
            .http
            .get(self.url(&format!("/v1/approvals/{id}?wait={wait}")))
            .bearer_auth(token);
        tokio::spawn(async move { decode(req.send().await.unwrap()).await })
    }

    /// Creates a pending approval (201) and returns its id.
    pub async fn create_id(&self, token: &str, body: Value) -> String {
        self.create(token, body).await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn review(&self, token: &str, id: &str, decision: &str) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            &format!("/v1/approvals/{id}/reviews"),
            token,
            Some(json!({"decision": decision})),
        )
        .await
    }

    pub async fn get(&self, token: &str, id: &str) -> (StatusCode, Value) {
        self.call(Method::GET, &format!("/v1/approvals/{id}"), token, None)
            .await
    }

    pub async fn events(&self) -> Vec<Value> {
        let (status, body) = self
            .call(Method::GET, "/v1/audit?limit=10000", &self.admin, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["items"].as_array().unwrap().clone()
    }

    pub async fn event_count(&self) -> usize {
        self.events().await.len()
    }
}

pub async fn decode(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let problem = response.headers().get("content-type").is_some_and(|ct| {
        ct.to_str()
            .unwrap_or("")
            .starts_with("application/problem+json")
    });
    let bytes = response.bytes().await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    if status.is_client_error() || status.is_server_error() {
        assert!(problem, "error {status} must be problem+json: {body}");
        assert_eq!(body["status"], status.as_u16(), "{body}");
        assert!(
            body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{body}"
        );
    }
    (status, body)
}

/// Every event in the log, checked to form an unbroken hash chain.
pub fn assert_chain_verifies(events: &[Value]) {
    let parsed: Vec<assent_domain::Event> = events
        .iter()
        .map(|e| serde_json::from_value(e.clone()).unwrap())
        .collect();
    assent_domain::event::verify_chain(assent_domain::event::ChainHead::default(), &parsed)
        .unwrap();
}

pub const SHORT: Duration = Duration::from_secs(10);

/// Runs the Python script `tests/interop/<script>` with `args` and returns
/// its output: tests against clients nobody here wrote. When python3 or one
/// of `modules` is missing it prints why and returns `None` (the test is
/// skipped) — unless `ASSENT_INTEROP=1`, which `.ci/run` sets, demands them.
pub async fn python_interop(
    script: &str,
    modules: &[&str],
    args: &[&str],
) -> Option<std::process::Output> {
    let required = std::env::var("ASSENT_INTEROP").is_ok_and(|v| v == "1");
    let probe = tokio::process::Command::new("python3")
        .arg("-c")
        .arg(format!("import {}", modules.join(", ")))
        .output()
        .await;
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        let why = match &probe {
            Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
            Err(e) => format!("python3: {e}"),
        };
        assert!(
            !required,
            "ASSENT_INTEROP=1 but the interop client is missing: {why}"
        );
        println!(
            "SKIPPED {script}: python3 with {modules:?} not found \
             (pip install -r tests/interop/requirements.txt, then ASSENT_INTEROP=1): {why}"
        );
        return None;
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/interop")
        .join(script);
    let output = tokio::process::Command::new("python3")
        .arg(path)
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    Some(output)
}
