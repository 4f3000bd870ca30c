#[premix_instrument::instrument(op = "FindById", model = "users")]
fn find() {}

fn main() {}
