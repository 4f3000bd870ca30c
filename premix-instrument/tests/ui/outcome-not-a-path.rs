#[premix_instrument::instrument(op = "find_by_id", model = "users", outcome = |_| ())]
fn find() {}

fn main() {}
