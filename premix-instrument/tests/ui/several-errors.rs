// Every mistake is reported at once, each on its own tokens.
#[premix_instrument::instrument(op = "Find", opp = "x", op = "y")]
fn find() {}

fn main() {}
