#[premix_instrument::instrument(op = "find_by_id", model = "users", backend = 5)]
fn find() {}

fn main() {}
