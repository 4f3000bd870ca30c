use premix_orm_fork::Model;

#[derive(Model)]
struct User<T> {
    id: i32,
    extra: T,
}

fn main() {}
