//! Installing the exporter on a port that is taken, from async code: a
//! returned error that names the address, no panic, and nothing installed,
//! so a second try on a free port works. A binary of its own: the recorder
//! is process-global.

use std::net::TcpListener;

use premix_instrument::{Error, PrometheusConfig, install_prometheus};

#[tokio::test]
async fn a_taken_port_is_a_returned_error_and_installs_nothing() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();

    let error = install_prometheus(PrometheusConfig::default().listen(addr))
        .expect_err("the port is taken");
    assert!(
        matches!(error, Error::Exporter { listen: Some(a), .. } if a == addr),
        "{error:?}"
    );
    assert!(error.to_string().contains(&addr.to_string()), "{error}");

    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let exporter = install_prometheus(PrometheusConfig::default().listen(free))
        .expect("nothing was installed by the failed attempt");
    assert_eq!(exporter.listen_address(), Some(free));
}
