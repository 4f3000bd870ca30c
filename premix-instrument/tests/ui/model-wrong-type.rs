#[premix_instrument::instrument(op = "find_by_id", model = 42)]
fn find() {}

fn main() {}
