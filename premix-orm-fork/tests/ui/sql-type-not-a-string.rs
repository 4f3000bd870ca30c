use premix_orm_fork::Model;

#[derive(Model)]
struct User {
    id: i32,
    #[premix(sql_type = JSONB)]
    settings: String,
}

fn main() {}
