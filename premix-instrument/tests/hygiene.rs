//! Generated code survives a user who shadows `Result`, `Option`, `Box`,
//! `Vec`, `std` and `core`, and compiles clean under `deny(warnings)` and
//! clippy pedantic (`.ci/run` runs clippy on this file with `-D warnings`).
//! The calls are then counted as usual.

#![deny(warnings, unused_qualifications, clippy::all, clippy::pedantic)]
#![allow(dead_code, non_camel_case_types)]

use premix_instrument::{Snapshot, instrument};

mod std {}
mod core {}
struct Result;
struct Option;
struct Box;
type Vec = ();

struct Repository {
    calls: u32,
}

impl Repository {
    #[instrument(op = "find_by_id", model = "hygiene")]
    fn find(&mut self, id: u32) -> ::core::result::Result<u32, ::std::string::String> {
        self.calls += 1;
        if id == 0 {
            return ::core::result::Result::Err(::std::string::String::from("missing"));
        }
        ::core::result::Result::Ok(id)
    }

    #[instrument(op = "count", model = "hygiene")]
    async fn count(&self) -> u32 {
        self.calls
    }

    #[instrument(op = "touch", model = "hygiene")]
    fn touch(&mut self) {
        self.calls += 1;
    }

    #[instrument(op = "later", model = "hygiene")]
    fn later(&self) -> impl ::core::future::Future<Output = u32> + Send + '_ {
        async move { self.calls }
    }
}

fn block_on<F: ::core::future::Future>(future: F) -> F::Output {
    let mut future = ::core::pin::pin!(future);
    let mut cx = ::core::task::Context::from_waker(::core::task::Waker::noop());
    loop {
        if let ::core::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

#[test]
fn shadowed_names_and_strict_lints() {
    let before = Snapshot::take();
    let mut repository = Repository { calls: 0 };
    assert_eq!(repository.find(3), ::core::result::Result::Ok(3));
    assert!(repository.find(0).is_err());
    repository.touch();
    assert_eq!(block_on(repository.count()), 3);
    assert_eq!(block_on(repository.later()), 3);
    let stats = Snapshot::take().since(&before);
    let find = stats.expect("find_by_id", "hygiene");
    assert_eq!((find.ok, find.errors), (1, 1));
    for op in ["count", "touch", "later"] {
        stats.expect(op, "hygiene").assert_calls(1);
    }
}
