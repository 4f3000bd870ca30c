use premix_orm_fork::{Model, premix_query};

#[derive(Model)]
struct User {
    id: i32,
}

fn main() {
    let _ = premix_query!(User, SELECT, filter_in("id", 1));
}
