use premix_orm_fork::Model;

#[derive(Model)]
struct User {
    id: i32,
}

#[derive(Model)]
#[belongs_to("User")]
struct Post {
    id: i32,
    user_id: i32,
}

fn main() {}
