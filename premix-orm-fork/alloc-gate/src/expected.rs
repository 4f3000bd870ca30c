//! The pinned figures. To update them after a change that is meant to move
//! them: `cargo test -p premix-alloc-gate --test gate` prints the measured
//! table in this file's syntax when anything differs; paste it here and say
//! in the commit why the figures moved.

/// Calls in each measured window, after as many again to warm up.
pub const CALLS: u64 = 50;

/// What [`CALLS`] calls of a scenario allocate on a backend, everything
/// they cause included (the driver's threads, returning the connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub scenario: &'static str,
    pub backend: &'static str,
    pub blocks: u64,
    pub bytes: u64,
}

/// Measured but not pinned, and why: the equality of the op's figure and
/// the process's is still checked.
pub const UNPINNED: &[(&str, &str, &str)] = &[(
    "eager_50x10",
    "postgresql",
    "the 500-row reply reaches sqlx's read buffer in as many pieces as the socket delivers, \
     and the buffer's growth follows them: a block more or less from run to run",
)];

pub const EXPECTED: &[Expected] = &[
    Expected {
        scenario: "find_by_id",
        backend: "sqlite",
        blocks: 1050,
        bytes: 167300,
    }, // 21.00 blocks, 3346.0 bytes per call
    Expected {
        scenario: "select_1",
        backend: "sqlite",
        blocks: 1150,
        bytes: 178100,
    }, // 23.00 blocks, 3562.0 bytes per call
    Expected {
        scenario: "select_100",
        backend: "sqlite",
        blocks: 26250,
        bytes: 1327350,
    }, // 525.00 blocks, 26547.0 bytes per call
    Expected {
        scenario: "insert",
        backend: "sqlite",
        blocks: 950,
        bytes: 162800,
    }, // 19.00 blocks, 3256.0 bytes per call
    Expected {
        scenario: "update",
        backend: "sqlite",
        blocks: 950,
        bytes: 162650,
    }, // 19.00 blocks, 3253.0 bytes per call
    Expected {
        scenario: "delete",
        backend: "sqlite",
        blocks: 900,
        bytes: 161500,
    }, // 18.00 blocks, 3230.0 bytes per call
    Expected {
        scenario: "paged",
        backend: "sqlite",
        blocks: 1650,
        bytes: 185650,
    }, // 33.00 blocks, 3713.0 bytes per call
    Expected {
        scenario: "eager_50x10",
        backend: "sqlite",
        blocks: 148100,
        bytes: 6882500,
    }, // 2962.00 blocks, 137650.0 bytes per call
    Expected {
        scenario: "find_by_id",
        backend: "postgresql",
        blocks: 602,
        bytes: 201532,
    }, // 12.04 blocks, 4030.6 bytes per call
    Expected {
        scenario: "select_1",
        backend: "postgresql",
        blocks: 800,
        bytes: 220100,
    }, // 16.00 blocks, 4402.0 bytes per call
    Expected {
        scenario: "select_100",
        backend: "postgresql",
        blocks: 10742,
        bytes: 874272,
    }, // 214.84 blocks, 17485.4 bytes per call
    Expected {
        scenario: "insert",
        backend: "postgresql",
        blocks: 600,
        bytes: 193400,
    }, // 12.00 blocks, 3868.0 bytes per call
    Expected {
        scenario: "update",
        backend: "postgresql",
        blocks: 752,
        bytes: 217832,
    }, // 15.04 blocks, 4356.6 bytes per call
    Expected {
        scenario: "delete",
        backend: "postgresql",
        blocks: 700,
        bytes: 208000,
    }, // 14.00 blocks, 4160.0 bytes per call
    Expected {
        scenario: "paged",
        backend: "postgresql",
        blocks: 1102,
        bytes: 230932,
    }, // 22.04 blocks, 4618.6 bytes per call
];
