//! Repeatable allocation counts with a database driver that has threads of
//! its own.
//!
//! sqlx runs each SQLite connection on a worker thread and hands statements
//! and rows across channels. Whether a reply is already there when the
//! polling thread first looks decides whether the channel allocates a wait
//! hook: two blocks, 168 bytes, for one statement in five or in fifty,
//! depending on the machine's timing. Charged to the operation as they
//! should be, those blocks make `allocs/call` differ from run to run.
//!
//! [`serialize_threads`] takes timing out of it, for a measurement on a
//! current-thread runtime: the calling thread is pinned to one CPU at
//! real-time priority, and each driver thread an ORM reports with
//! [`serialize_driver_thread`] is pinned to the same CPU, so that it runs
//! only while the polling thread waits. Every reply then arrives after the polling thread has started
//! waiting, on every run. For tests, benches and reports, not for serving
//! traffic: it gives up the other CPUs.

use std::sync::OnceLock;

use thread_priority::ThreadPriority;
use thread_priority::unix::{
    NormalThreadSchedulePolicy, RealtimeThreadSchedulePolicy, ThreadSchedulePolicy,
    set_thread_priority_and_policy, thread_native_id,
};

use crate::Error;

/// The CPU the measured thread was pinned to, and how, once serialized.
static SERIALIZED: OnceLock<(core_affinity::CoreId, Serialization)> = OnceLock::new();

/// How strictly the driver's threads wait for the measured thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Serialization {
    /// The measured thread runs at real-time priority (`SCHED_FIFO`, which
    /// needs root or `CAP_SYS_NICE`): a driver thread on its CPU never runs
    /// while it is runnable. Counts repeat exactly.
    Strict,
    /// Real-time priority was refused: driver threads run at idle priority,
    /// which the kernel still lets run for a rare slice (and which waits
    /// behind every other process on that CPU). Counts repeat on most runs.
    IdlePriority,
}

/// Pins the calling thread (the one that will poll the measured work: a
/// current-thread runtime's) to the first CPU it may run on, raises it to
/// real-time priority where allowed, and makes every driver thread reported
/// from now on share that CPU (at idle priority where real-time was
/// refused). Call it once, before the pool opens its first connection.
///
/// # Errors
/// [`Error::Serialize`] when the thread cannot be pinned (a platform
/// without CPU affinity, or no CPU allowed).
pub fn serialize_threads() -> Result<Serialization, Error> {
    let first = core_affinity::get_core_ids()
        .and_then(|cores| cores.into_iter().next())
        .ok_or_else(|| Error::Serialize("this platform does not report its CPUs".into()))?;
    if let Some(&(_, how)) = SERIALIZED.get() {
        return Ok(how);
    }
    let cpu = first;
    if !core_affinity::set_for_current(cpu) {
        return Err(Error::Serialize(format!(
            "could not pin this thread to CPU {}",
            cpu.id
        )));
    }
    let real_time = set_thread_priority_and_policy(
        thread_native_id(),
        ThreadPriority::Min,
        ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo),
    );
    let how = if real_time.is_ok() {
        Serialization::Strict
    } else {
        Serialization::IdlePriority
    };
    Ok(SERIALIZED.get_or_init(|| (cpu, how)).1)
}

/// Whether [`serialize_threads`] has been called.
#[must_use]
pub fn threads_serialized() -> bool {
    SERIALIZED.get().is_some()
}

/// For ORMs: called on a database driver's own thread (sqlx's SQLite
/// worker) when a connection opens. Once [`serialize_threads`] has been
/// called, moves this thread to the measured CPU (at idle priority when
/// the measured thread could not have real-time priority); before that,
/// does nothing. Best effort: a thread that cannot be moved keeps running
/// as before, and its timing may show in the counts.
pub fn serialize_driver_thread() {
    let Some(&(cpu, how)) = SERIALIZED.get() else {
        return;
    };
    let _ = core_affinity::set_for_current(cpu);
    if how == Serialization::Strict {
        return;
    }
    let _ = set_thread_priority_and_policy(
        thread_native_id(),
        ThreadPriority::Min,
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
    );
}
