use premix_orm_fork::Model;

#[derive(Model)]
struct User(i32, String);

fn main() {}
