fn kind_of(_: u8) -> bool {
    true
}

#[premix_instrument::instrument(op = "find_by_id", model = "users", outcome = kind_of)]
fn find() -> Result<(), String> {
    Ok(())
}

fn main() {}
