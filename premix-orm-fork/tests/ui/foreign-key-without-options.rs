use premix_orm_fork::Model;

#[derive(Model)]
struct Post {
    id: i32,
    #[premix(foreign_key)]
    user_id: i32,
}

fn main() {}
