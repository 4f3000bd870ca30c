use premix_orm_fork::Model;

#[derive(Model)]
struct User {
    id: i32,
}

#[derive(Model)]
struct Post {
    id: i32,
    user_id: i32,
    #[belongs_to(User)]
    user: User,
}

fn main() {}
