#[premix_instrument::instrument(op = "find_by_id", model = "users", op = "select")]
fn find() {}

fn main() {}
