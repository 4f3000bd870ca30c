//! The Prometheus install helper, end to end over HTTP on 127.0.0.1, and the
//! instrumentation's allocation cost with the exporter installed. One test:
//! the global recorder can be installed once per process.

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use premix_instrument::{Error, PrometheusConfig, install_prometheus, instrument, measure};

premix_instrument::install_counting_allocator!();

#[instrument(op = "find_by_id", model = "users")]
fn find(id: u32) -> Result<u32, String> {
    if id == 0 {
        Err("no such user".to_owned())
    } else {
        Ok(id)
    }
}

#[instrument(op = "noop", model = "users")]
fn noop(x: u64) -> u64 {
    x ^ 1
}

fn free_local_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

fn scrape(addr: SocketAddr) -> String {
    let mut last_error = None;
    for _ in 0..50 {
        match TcpStream::connect(addr) {
            Ok(mut stream) => {
                stream
                    .write_all(
                        b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                    )
                    .unwrap();
                let mut response = String::new();
                stream.read_to_string(&mut response).unwrap();
                return response;
            }
            Err(error) => last_error = Some(error),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("exporter never answered on {addr}: {last_error:?}");
}

#[test]
fn exporter_serves_every_op_metric_with_bucketed_histograms() {
    let addr = free_local_port();
    let exporter = install_prometheus(PrometheusConfig::default().listen(addr)).unwrap();
    assert_eq!(exporter.listen_address(), Some(addr));

    assert!(matches!(
        install_prometheus(PrometheusConfig::default().without_listener()),
        Err(Error::RecorderAlreadyInstalled)
    ));

    for id in [1, 2, 0] {
        let _ = find(id);
    }

    // After the first call, a call allocates nothing of its own. Measured
    // process-wide with the recorder installed, the export of the window's
    // counts to it included: the exporter's histogram storage adds a block
    // every so many samples.
    let _ = noop(0);
    premix_instrument::export::flush();
    let calls = 10_000_u64;
    let ((), allocated) = measure(|| {
        for i in 0..calls {
            black_box(noop(black_box(i)));
        }
        premix_instrument::export::flush();
    });
    let per_call = allocated.blocks() as f64 / calls as f64;
    println!("process-wide blocks per instrumented call: {per_call:.4} ({allocated:?})");
    assert!(per_call <= 0.1, "{per_call} blocks per call: {allocated:?}");

    // The background flush hands the counts to the exporter within its
    // interval (a second): scrape until they are there.
    let ok_calls =
        r#"premix_op_calls_total{op="find_by_id",model="users",backend="none",outcome="ok"} 2"#;
    let mut response = scrape(addr);
    for _ in 0..50 {
        if response.contains(ok_calls) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        response = scrape(addr);
    }
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let expected = [
        ok_calls,
        r#"premix_op_calls_total{op="find_by_id",model="users",backend="none",outcome="error"} 1"#,
        r#"premix_op_calls_total{op="find_by_id",model="users",backend="none",outcome="cancelled"} 0"#,
        r#"premix_op_errors_total{op="find_by_id",model="users",backend="none",kind="other"} 1"#,
        r#"premix_op_duration_seconds_bucket{op="find_by_id",model="users",backend="none",le="0.00001"} 3"#,
        r#"premix_op_duration_seconds_count{op="find_by_id",model="users",backend="none"} 3"#,
        r#"premix_op_allocations_total{op="find_by_id",model="users",backend="none"} 1"#,
        r#"premix_op_allocated_bytes_total{op="find_by_id",model="users",backend="none"} 12"#,
        "# TYPE premix_op_duration_seconds histogram",
        "# HELP premix_op_calls_total Calls of an instrumented ORM operation",
    ];
    for line in expected {
        assert!(response.contains(line), "missing `{line}` in:\n{response}");
    }
    assert!(
        !response.contains("quantile="),
        "summaries rendered:\n{response}"
    );
    assert!(exporter.render().contains("premix_op_calls_total"));
}
