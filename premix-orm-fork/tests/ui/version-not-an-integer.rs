use premix_orm_fork::Model;

#[derive(Model)]
struct User {
    id: i32,
    version: Option<i32>,
}

fn main() {}
