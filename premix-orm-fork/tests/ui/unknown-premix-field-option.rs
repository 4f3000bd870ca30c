use premix_orm_fork::Model;

#[derive(Model)]
struct User {
    id: i32,
    #[premix(skip)]
    cache: Option<String>,
}

fn main() {}
