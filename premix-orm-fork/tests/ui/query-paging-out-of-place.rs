use premix_orm_fork::{Model, premix_query};

#[derive(Model)]
struct User {
    id: i32,
    name: String,
}

fn main() {
    let _ = premix_query!(User, FIND, filter_eq("id", 1), limit(1));
}
