use premix_orm_fork::Model;

#[derive(Model)]
struct User {
    id: i32,
    deleted_at: String,
}

fn main() {}
