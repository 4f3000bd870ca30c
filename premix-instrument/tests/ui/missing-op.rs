#[premix_instrument::instrument(model = "users")]
fn find() {}

fn main() {}
