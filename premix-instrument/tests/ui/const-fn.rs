#[premix_instrument::instrument(op = "find_by_id", model = "users")]
const fn find() -> u8 {
    1
}

fn main() {
    let _ = find();
}
