#[premix_instrument::instrument(op = "find_by_id", model = "users", name = "x")]
fn find() {}

fn main() {}
