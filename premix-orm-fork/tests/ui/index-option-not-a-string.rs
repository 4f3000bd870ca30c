use premix_orm_fork::Model;

#[derive(Model)]
struct User {
    id: i32,
    #[premix(index(name = idx_users_email))]
    email: String,
}

fn main() {}
