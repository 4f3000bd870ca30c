//! The service as a client sees it, on a real server process: every route's
//! answers and JSON errors, on embedded SQLite and on PostgreSQL
//! (`DATABASE_URL`; required under CI); the ORM calls of a seeded load
//! against the service's own counters, exactly; and a clean stop on
//! SIGTERM. Each test starts its own process on free loopback ports (and
//! its own PostgreSQL schema), stopped at the end, on failure too.

use std::sync::Arc;
use std::time::Duration;

use fleet::process::{self, Running, WorkDir};
use fleet::{Balancer, LoadConfig};
use serde_json::{Value, json};

struct Service {
    api: String,
    metrics: String,
    process: Running,
    _dir: WorkDir,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .unwrap()
}

async fn start(database: &str, schema: Option<&str>) -> Service {
    let dir = WorkDir::new("premix-service-test").unwrap();
    let api = process::free_loopback().unwrap();
    let metrics = process::free_loopback().unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_service"));
    command
        .env_remove("DATABASE_URL")
        .args([
            "--listen",
            &api.to_string(),
            "--metrics",
            &metrics.to_string(),
        ])
        .args(["--database", database]);
    if let Some(schema) = schema {
        command.args(["--schema", schema]);
    }
    let mut process =
        Running::spawn("service", &mut command, &dir.path().join("service.log")).unwrap();
    let api = format!("http://{api}");
    process::wait_ready(
        &client(),
        &format!("{api}/healthz"),
        &mut process,
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    Service {
        api,
        metrics: format!("http://{metrics}"),
        process,
        _dir: dir,
    }
}

/// PostgreSQL, or `None` outside CI when `DATABASE_URL` is not set.
fn postgres() -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must run the PostgreSQL tests: DATABASE_URL is not set"
            );
            eprintln!("skipping: DATABASE_URL is not set");
            None
        }
    }
}

fn schema(test: &str) -> String {
    format!("service_{test}_{}", std::process::id())
}

async fn call(service: &Service, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let client = client();
    let url = format!("{}{path}", service.api);
    let mut request = client.request(method.parse().unwrap(), url);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// An error answer: its status, and `error.kind` in a JSON body that also
/// has `status` and a message.
fn error_kind(status: u16, body: &Value) -> (u16, String) {
    let error = &body["error"];
    assert_eq!(error["status"], json!(status), "{body}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    (
        status,
        error["kind"].as_str().unwrap_or_default().to_owned(),
    )
}

/// POSTs `body` to `path`, which must answer 201 Created; the new row's id.
async fn create(service: &Service, path: &str, body: Value) -> i64 {
    let (status, created) = call(service, "POST", path, Some(body)).await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_i64().unwrap()
}

async fn every_route_answers_as_documented(service: &Service) {
    let user_id = create(service, "/users", json!({"name": "ann", "karma": 5})).await;
    let post_id = create(
        service,
        "/posts",
        json!({"user_id": user_id, "title": "hello"}),
    )
    .await;
    let comment_id = create(
        service,
        "/comments",
        json!({"post_id": post_id, "body": "reply 1"}),
    )
    .await;

    let (status, read) = call(service, "GET", &format!("/users/{user_id}"), None).await;
    assert_eq!((status, read["name"].clone()), (200, json!("ann")));
    let (status, listed) = call(
        service,
        "GET",
        &format!("/users?include=posts&id={user_id}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed[0]["posts"][0]["title"], json!("hello"), "{listed}");
    let (status, listed) = call(
        service,
        "GET",
        &format!("/posts?include=comments&user_id={user_id}&limit=5&offset=0"),
        None,
    )
    .await;
    assert_eq!(
        (status, listed[0]["comments"][0]["body"].clone()),
        (200, json!("reply 1")),
        "{listed}"
    );
    let (status, listed) = call(
        service,
        "GET",
        "/comments?body__like=reply%25&post_id__in=1,2,3",
        None,
    )
    .await;
    assert_eq!(status, 200, "{listed}");
    let (status, listed) = call(service, "GET", "/users?karma__gte=100", None).await;
    assert_eq!((status, listed), (200, json!([])));

    let (status, updated) = call(
        service,
        "PATCH",
        &format!("/users/{user_id}"),
        Some(json!({"karma": 9})),
    )
    .await;
    assert_eq!((status, updated["updated"].clone()), (200, json!(1)));
    let (_, read) = call(service, "GET", &format!("/users/{user_id}"), None).await;
    assert_eq!(read["karma"], json!(9));

    // Refusals: the ORM's (400), the data's (409), the request's (400/422 before the ORM).
    let cases: Vec<(&str, String, Option<Value>, u16, &str)> = vec![
        (
            "GET",
            "/users?nickname=ann".into(),
            None,
            400,
            "invalid_request",
        ),
        (
            "GET",
            "/users?include=friends".into(),
            None,
            400,
            "invalid_request",
        ),
        ("GET", "/users?limit=0".into(), None, 400, "invalid_request"),
        (
            "GET",
            "/users?karma=lots".into(),
            None,
            400,
            "invalid_request",
        ),
        (
            "GET",
            "/users/not-a-number".into(),
            None,
            400,
            "invalid_request",
        ),
        ("GET", "/users/2147483647".into(), None, 404, "not_found"),
        ("GET", "/nowhere".into(), None, 404, "not_found"),
        (
            "PATCH",
            format!("/users/{user_id}"),
            Some(json!({})),
            400,
            "invalid_request",
        ),
        (
            "PATCH",
            format!("/users/{user_id}"),
            Some(json!({"nickname": "x"})),
            422,
            "invalid_request",
        ),
        (
            "PATCH",
            "/users/2147483647".into(),
            Some(json!({"karma": 1})),
            404,
            "not_found",
        ),
        (
            "POST",
            "/comments".into(),
            Some(json!({"post_id": 2_147_483_647, "body": "x"})),
            409,
            "conflict",
        ),
        (
            "POST",
            "/comments".into(),
            Some(json!({"body": "x"})),
            422,
            "invalid_request",
        ),
        ("DELETE", format!("/users/{user_id}"), None, 409, "conflict"),
        (
            "DELETE",
            "/comments/2147483647".into(),
            None,
            404,
            "not_found",
        ),
    ];
    for (method, path, body, status, kind) in cases {
        let (got, answer) = call(service, method, &path, body).await;
        assert_eq!(
            error_kind(got, &answer),
            (status, kind.to_owned()),
            "{method} {path}: {answer}"
        );
    }
    let malformed = client()
        .post(format!("{}/users", service.api))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status().as_u16(), 400);
    let body: Value = serde_json::from_str(&malformed.text().await.unwrap()).unwrap();
    assert_eq!(body["error"]["kind"], json!("invalid_request"));

    let (status, _) = call(service, "DELETE", &format!("/comments/{comment_id}"), None).await;
    assert_eq!(status, 204);
    let (status, _) = call(service, "DELETE", &format!("/posts/{post_id}"), None).await;
    assert_eq!(status, 204);
    let (status, _) = call(service, "DELETE", &format!("/users/{user_id}"), None).await;
    assert_eq!(status, 204);
    let (status, _) = call(service, "GET", &format!("/users/{user_id}"), None).await;
    assert_eq!(status, 404);
}

/// A seeded load's ORM calls, known from the requests and their answers,
/// against what the service counted meanwhile (`/snapshot`), series by
/// series.
async fn the_load_causes_what_the_service_counts(service: &Service) {
    let client = client();
    let balancer = Balancer::new(std::slice::from_ref(&service.api), 4).unwrap();
    let (base, _) = fleet::load::seed(&balancer, 0).await.unwrap();
    let before = fleet::snapshot::fetch(&client, &service.metrics)
        .await
        .unwrap()
        .calls();
    let config = LoadConfig {
        clients: 4,
        requests: 600,
        duration: Duration::from_secs(60),
        seed: 3,
    };
    let report = fleet::load::run(&balancer, &Arc::new(base), &config).await;
    assert_eq!(report.anomaly_count, 0, "{:?}", report.anomalies);
    assert_eq!(report.requests, 600);
    let after = fleet::snapshot::fetch(&client, &service.metrics)
        .await
        .unwrap()
        .calls();
    let mut caused = std::collections::BTreeMap::new();
    for ((_, call), count) in &report.tally.calls {
        *caused
            .entry((
                call.op.label().to_owned(),
                call.table.label().to_owned(),
                call.outcome.label().to_owned(),
            ))
            .or_insert(0) += count;
    }
    for (key, now) in &after {
        let counted = now - before.get(key).copied().unwrap_or(0);
        assert_eq!(counted, caused.get(key).copied().unwrap_or(0), "{key:?}");
    }
    assert!(caused.keys().all(|k| after.contains_key(k)), "{caused:?}");
}

/// Every route, and the counts a load causes, on one database.
async fn routes_and_counts(database: &str, schema: Option<&str>) {
    let mut service = start(database, schema).await;
    every_route_answers_as_documented(&service).await;
    the_load_causes_what_the_service_counts(&service).await;
    service
        .process
        .terminate(Duration::from_secs(30))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_routes_and_counts() {
    routes_and_counts("sqlite::memory:", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_routes_and_counts() {
    let Some(url) = postgres() else { return };
    routes_and_counts(&url, Some(&schema("routes"))).await;
}

/// A database failure is a 5xx with a JSON error that does not leak the
/// database's message, and the service goes on serving: here the table
/// behind `/comments` is dropped under it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_failure_is_a_500_and_the_service_goes_on() {
    use premix_orm::sqlx::{self, Connection};

    let Some(url) = postgres() else { return };
    let schema = schema("failure");
    let mut service = start(&url, Some(&schema)).await;
    let (status, _) = call(&service, "GET", "/comments?limit=1", None).await;
    assert_eq!(status, 200);

    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(&format!("DROP TABLE {schema}.comments"))
        .execute(&mut admin)
        .await
        .unwrap();
    let (status, body) = call(&service, "GET", "/comments?limit=1", None).await;
    assert_eq!(error_kind(status, &body), (500, "database".to_owned()));
    assert!(
        !body.to_string().contains("does not exist"),
        "the database's message leaked: {body}"
    );
    create(&service, "/users", json!({"name": "bo"})).await;

    service
        .process
        .terminate(Duration::from_secs(30))
        .await
        .unwrap();
    sqlx::raw_sql(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&mut admin)
        .await
        .unwrap();
}

/// Ctrl-C (SIGINT) and SIGTERM: the service stops taking requests, closes
/// its idle keep-alive connections and its pool, and exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_and_ctrl_c_stop_the_service_cleanly() {
    for signal in ["TERM", "INT"] {
        let mut service = start("sqlite::memory:", None).await;
        // Leaves keep-alive connections open in the client's pool.
        let balancer = Balancer::new(std::slice::from_ref(&service.api), 4).unwrap();
        fleet::load::seed(&balancer, 0).await.unwrap();
        let status = service
            .process
            .stop_with(signal, Duration::from_secs(30))
            .await
            .unwrap();
        assert!(status.success(), "SIG{signal}: {status}");
        assert!(
            service.process.log_tail().contains("service: stopped"),
            "{}",
            service.process.log_tail()
        );
    }
}
