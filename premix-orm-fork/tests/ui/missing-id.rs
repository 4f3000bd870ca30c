use premix_orm_fork::Model;

#[derive(Model)]
struct User {
    name: String,
}

fn main() {}
