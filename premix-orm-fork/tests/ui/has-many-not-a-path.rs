use premix_orm_fork::Model;

#[derive(Model)]
struct User {
    id: i32,
    #[has_many]
    posts: Option<Vec<Post>>,
}

#[derive(Model)]
struct Post {
    id: i32,
    user_id: i32,
}

fn main() {}
