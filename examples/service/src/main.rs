//! `service`: the premix example service (see the library's docs for the
//! API). `cargo run --release -p service -- --database sqlite::memory:`.

use std::process::ExitCode;

#[cfg(feature = "instrument")]
premix_instrument::install_counting_allocator!();

fn main() -> ExitCode {
    let config = match service::Config::parse(
        std::env::args().skip(1),
        std::env::var("DATABASE_URL").ok(),
    ) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("service: no Tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(service::run(config, service::shutdown_signal())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("service: {error}");
            ExitCode::FAILURE
        }
    }
}
