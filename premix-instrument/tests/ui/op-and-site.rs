use premix_instrument::CallSite;

static FIND: CallSite = CallSite::new("find_by_id");

#[premix_instrument::instrument(op = "find_by_id", site = FIND, model = "users")]
fn find() {}

fn main() {}
