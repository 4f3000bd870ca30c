// A body that does not parse is handed back to rustc untouched, so the
// error is the user's own, not the macro's.
#[premix_instrument::instrument(op = "find_by_id", model = "users")]
fn find() -> u8 {
    let x = ;
    x
}

fn main() {}
