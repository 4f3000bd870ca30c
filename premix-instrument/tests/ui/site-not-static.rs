use premix_instrument::CallSite;

#[premix_instrument::instrument(site = CallSite::new("find_by_id"), model = "users")]
fn find() {}

fn main() {}
