#[premix_instrument::instrument(op "find_by_id", model = "users")]
fn find() {}

fn main() {}
