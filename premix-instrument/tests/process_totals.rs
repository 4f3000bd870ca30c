//! Process-wide totals: exact only when nothing else in the process
//! allocates, so this binary runs without libtest (`harness = false`; its
//! main thread allocates while a test it has just started runs) and makes
//! each check in turn.

use std::hint::black_box;
use std::sync::{Arc, Barrier};

use premix_instrument::{SLOT_COUNT, measure, process_stats};

premix_instrument::install_counting_allocator!();

fn main() {
    let checks: [(&str, fn()); 4] = [
        (
            "process_totals_see_another_threads_allocations_exactly",
            process_totals_see_another_threads_allocations_exactly,
        ),
        (
            "more_threads_than_slots_are_all_counted",
            more_threads_than_slots_are_all_counted,
        ),
        (
            "totals_of_exited_threads_are_kept",
            totals_of_exited_threads_are_kept,
        ),
        (
            "measure_reports_the_closures_allocations",
            measure_reports_the_closures_allocations,
        ),
    ];
    for (name, check) in checks {
        check();
        println!("test {name} ... ok");
    }
}

fn process_totals_see_another_threads_allocations_exactly() {
    let ready = Arc::new(Barrier::new(2));
    let go = Arc::new(Barrier::new(2));
    let done = Arc::new(Barrier::new(2));
    let worker = {
        let (ready, go, done) = (ready.clone(), go.clone(), done.clone());
        std::thread::spawn(move || {
            ready.wait();
            go.wait();
            let boxes: Vec<Box<[u8; 48]>> = (0..10).map(|_| Box::new([7; 48])).collect();
            black_box(&boxes);
            drop(boxes);
            done.wait();
        })
    };
    ready.wait();
    let before = process_stats();
    go.wait();
    done.wait();
    let delta = process_stats().since(&before);
    worker.join().unwrap();
    // 10 boxes plus the Vec holding them (capacity 10, allocated once).
    assert_eq!(delta.allocations, 11);
    assert_eq!(delta.allocated_bytes, 10 * 48 + 10 * 8);
    // Frees can include blocks allocated before the window (thread start-up
    // releases one); every block the workload allocated was freed.
    assert!(delta.deallocations >= 11, "{delta:?}");
}

fn more_threads_than_slots_are_all_counted() {
    let threads = SLOT_COUNT + 44;
    let ready = Arc::new(Barrier::new(threads + 1));
    let go = Arc::new(Barrier::new(threads + 1));
    let done = Arc::new(Barrier::new(threads + 1));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (ready, go, done) = (ready.clone(), go.clone(), done.clone());
            std::thread::spawn(move || {
                // Touch the allocator once so this thread holds (or failed to
                // get) a slot before the measurement starts.
                drop(black_box(Box::new(1_u8)));
                ready.wait();
                go.wait();
                drop(black_box(Box::new([0_u8; 24])));
                done.wait();
            })
        })
        .collect();
    ready.wait();
    let before = process_stats();
    go.wait();
    done.wait();
    let delta = process_stats().since(&before);
    for worker in workers {
        worker.join().unwrap();
    }
    assert_eq!(delta.allocations, threads as u64);
    assert_eq!(delta.allocated_bytes, threads as u64 * 24);
}

fn totals_of_exited_threads_are_kept() {
    let before = process_stats();
    for _ in 0..3 {
        std::thread::spawn(|| drop(black_box(vec![1_u8; 1000])))
            .join()
            .unwrap();
    }
    let delta = process_stats().since(&before);
    // The three vectors at least; thread start-up allocates too.
    assert!(delta.allocations >= 3, "{delta:?}");
    assert!(delta.allocated_bytes >= 3000, "{delta:?}");
}

fn measure_reports_the_closures_allocations() {
    let (len, delta) = measure(|| black_box(String::from("twelve bytes")).len());
    assert_eq!(len, 12);
    assert_eq!(delta.allocations, 1);
    assert_eq!(delta.allocated_bytes, 12);
    assert_eq!(delta.deallocations, 1);
}
