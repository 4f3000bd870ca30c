use premix_orm_fork::Model;

#[derive(Model)]
#[premix(tabel = "people")]
struct User {
    id: i32,
    #[premix(skip)]
    cache: Option<String>,
}

fn main() {}
