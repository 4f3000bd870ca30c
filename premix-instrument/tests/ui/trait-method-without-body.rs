trait Repository {
    #[premix_instrument::instrument(op = "find_by_id", model = "users")]
    fn find(&self) -> u8;
}

fn main() {}
