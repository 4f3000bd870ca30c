// Every mistake in one premix_query! is reported in one build, and the
// placeholder it leaves keeps the surrounding code free of follow-on errors.
use premix_orm_fork::{Model, premix_query};

#[derive(Model)]
struct User {
    id: i32,
    name: String,
}

fn main() {
    let _ = premix_query!(User, UPDATE, limit(1), filter_eq(name, 1), returning_all());
}
