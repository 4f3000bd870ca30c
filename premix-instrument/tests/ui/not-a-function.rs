#[premix_instrument::instrument(op = "find_by_id", model = "users")]
struct User {
    id: i64,
}

fn main() {
    // The item is still emitted: no cascade of "cannot find type `User`".
    let user = User { id: 1 };
    let _ = user.id;
}
