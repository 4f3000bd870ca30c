static FIND: &str = "find_by_id";

#[premix_instrument::instrument(site = FIND, model = "users")]
fn find() {}

fn main() {}
