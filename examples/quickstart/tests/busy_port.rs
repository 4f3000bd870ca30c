//! `--serve` on a port that is taken: the quickstart says so and exits with
//! an error, instead of panicking.

use std::net::TcpListener;
use std::process::Command;

#[test]
fn serving_on_a_taken_port_is_an_error_not_a_crash() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .args(["--ops", "10", "--serve", &addr.to_string()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "could not start the Prometheus exporter on {addr}"
        )),
        "{stderr}"
    );
}
