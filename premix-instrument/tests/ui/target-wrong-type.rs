#[premix_instrument::instrument(target = "find_by_id")]
fn find() {}

fn main() {}
