use premix_orm_fork::Model;

#[derive(Model)]
#[premix(tabel = "people")]
struct User {
    id: i32,
}

fn main() {}
