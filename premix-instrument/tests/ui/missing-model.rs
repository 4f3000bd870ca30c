#[premix_instrument::instrument(op = "find_by_id")]
fn find() {}

fn main() {}
