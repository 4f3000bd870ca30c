use premix_orm_fork::Model;

#[derive(Model)]
enum User {
    Active { id: i32 },
}

fn main() {}
