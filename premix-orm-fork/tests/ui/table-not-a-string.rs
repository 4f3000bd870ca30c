use premix_orm_fork::Model;

#[derive(Model)]
#[premix(table = people)]
struct User {
    id: i32,
}

fn main() {}
