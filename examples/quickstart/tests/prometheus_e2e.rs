//! End to end with a real Prometheus (Debian's package; `cargo xtask test`
//! installs it): the quickstart serves `/metrics` on 127.0.0.1, Prometheus
//! scrapes it with the repo's rules, and then
//! - `promtool check config` and `promtool check rules` pass;
//! - every query of every panel of the committed Grafana dashboard, and every
//!   recording rule, returns a non-empty result through the HTTP API;
//! - the cache score Prometheus computes equals the one the quickstart
//!   printed from its in-process snapshot, within the printed rounding.
//!
//! Everything started is stopped at the end, on failure too.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Kills the process it holds when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn find(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(tool))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .find(|p| p.is_file())
}

fn http_get(addr: SocketAddr, path_and_query: &str) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path_and_query} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let body = response.split_once("\r\n\r\n")?.1;
    // Prometheus may answer chunked.
    if response
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            if size == 0 {
                break;
            }
            out.push_str(tail.get(..size)?);
            rest = tail.get(size + 2..)?;
        }
        return Some(out);
    }
    Some(body.to_owned())
}

fn encode(query: &str) -> String {
    query
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The result vector of an instant query.
fn query(prometheus: SocketAddr, expr: &str) -> Vec<Value> {
    let body =
        http_get(prometheus, &format!("/api/v1/query?query={}", encode(expr))).unwrap_or_default();
    let parsed: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    assert_ne!(parsed["status"], "error", "query `{expr}` failed: {body}");
    parsed["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn check(tool: &Path, args: &[&str]) {
    let output = Command::new(tool).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{} {args:?} failed:\n{}{}",
        tool.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `(a, b)` from "cache score: statements a% hit, SQL text b% hit".
fn printed_score(line: &str) -> (f64, f64) {
    let numbers: Vec<f64> = line
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|s| s.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

#[test]
fn dashboards_and_rules_work_on_a_real_prometheus() {
    let (Some(prometheus_bin), Some(promtool)) = (find("prometheus"), find("promtool")) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the Prometheus test: prometheus/promtool not on PATH (cargo xtask test installs them)"
        );
        eprintln!("skipping: prometheus and promtool not on PATH (cargo xtask test installs them)");
        return;
    };
    let repo = repo();
    let rules = repo.join("dashboards/prometheus/rules.yml");
    check(&promtool, &["check", "rules", rules.to_str().unwrap()]);
    check(
        &promtool,
        &[
            "check",
            "config",
            repo.join("dashboards/prometheus/prometheus.yml")
                .to_str()
                .unwrap(),
        ],
    );

    // The service: the quickstart, serving and then holding still.
    let service_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let mut service = Running(
        Command::new(env!("CARGO_BIN_EXE_quickstart"))
            .args([
                "--ops",
                "1500",
                "--serve",
                &service_addr.to_string(),
                "--no-steady",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut score_line = None;
    for line in BufReader::new(service.0.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.starts_with("cache score:") {
            score_line = Some(line.clone());
        }
        if line.starts_with("serving http://") {
            break;
        }
    }
    let (stmt_percent, sql_percent) =
        printed_score(&score_line.expect("the report printed a cache score"));

    // Prometheus, on loopback, scraping every second with the repo's rules.
    let work = std::env::temp_dir().join(format!("premix-prometheus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    std::fs::copy(&rules, work.join("rules.yml")).unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - rules.yml\n\
         scrape_configs:\n  - job_name: premix\n    static_configs:\n      - targets: [\"{service_addr}\"]\n"
    );
    std::fs::write(work.join("prometheus.yml"), config).unwrap();
    check(
        &promtool,
        &[
            "check",
            "config",
            work.join("prometheus.yml").to_str().unwrap(),
        ],
    );
    let prometheus_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let _prometheus = Running(
        Command::new(&prometheus_bin)
            .arg(format!(
                "--config.file={}",
                work.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                work.join("data").display()
            ))
            .arg(format!("--web.listen-address={prometheus_addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );

    // Wait for scrapes and a round of rule evaluation.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let up = query(prometheus_addr, r#"up{job="premix"} == 1"#);
        let ready = !up.is_empty()
            && !query(prometheus_addr, "premix:stmt_cache_hit_ratio:total").is_empty();
        if ready && !query(prometheus_addr, "premix:op_allocations_per_call:rate5m").is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus never scraped the service and evaluated the rules"
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // Every panel query of the committed dashboard, with the variables at "All".
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(repo.join("dashboards/grafana/premix-overview.json")).unwrap(),
    )
    .unwrap();
    let mut checked = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"]
                .as_str()
                .unwrap()
                .replace("$model", ".*")
                .replace("$op", ".*")
                .replace("$backend", ".*");
            let series = query(prometheus_addr, &expr);
            println!(
                "{:>4} series  {}: {}",
                series.len(),
                panel["title"].as_str().unwrap(),
                target["legendFormat"]
            );
            assert!(
                !series.is_empty(),
                "panel `{}` query returned nothing: {expr}",
                panel["title"]
            );
            checked += 1;
        }
    }
    // Every recording rule.
    let rule_names: Vec<String> = std::fs::read_to_string(&rules)
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- record: ").map(str::to_owned))
        .collect();
    for name in &rule_names {
        let series = query(prometheus_addr, name);
        println!("{:>4} series  rule {name}", series.len());
        assert!(!series.is_empty(), "recording rule {name} returned nothing");
    }
    assert!(
        checked >= 10 && rule_names.len() >= 7,
        "{checked} queries, {} rules",
        rule_names.len()
    );

    // The cache score, Prometheus's against the in-process one printed above.
    let value = |expr: &str| -> f64 {
        query(prometheus_addr, expr)[0]["value"][1]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let stmt = value("premix:stmt_cache_hit_ratio:total") * 100.0;
    let sql = value("premix:sql_cache_hit_ratio:total") * 100.0;
    println!(
        "cache score: Prometheus {stmt:.3}% / {sql:.3}%, in-process {stmt_percent}% / {sql_percent}%"
    );
    assert!(
        (stmt - stmt_percent).abs() <= 0.05 + 1e-9,
        "statements: {stmt} vs {stmt_percent}"
    );
    assert!(
        (sql - sql_percent).abs() <= 0.05 + 1e-9,
        "SQL text: {sql} vs {sql_percent}"
    );

    drop(service);
    let _ = std::fs::remove_dir_all(&work);
}
