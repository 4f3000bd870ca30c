use premix_orm_fork::Model;

#[derive(Model)]
struct User {
    id: String,
}

fn main() {}
