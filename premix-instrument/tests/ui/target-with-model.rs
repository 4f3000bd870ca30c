use premix_instrument::{CallSite, OpHandle};

static FIND: CallSite = CallSite::new("find_by_id");

#[premix_instrument::instrument(target = op, model = "users")]
fn find(op: OpHandle) {
    let _ = op;
}

fn main() {
    find(FIND.target("users", "sqlite"));
}
