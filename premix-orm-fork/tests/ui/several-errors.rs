// Every mistake in one derive is reported in one build, each on its tokens.
use premix_orm_fork::Model;

#[derive(Model)]
#[premix(tabel = "people")]
#[belongs_to(Team)]
struct User {
    id: Option<i32>,
    #[premix(sql_type = 1)]
    name: String,
    #[has_many(Post)]
    posts: Vec<Post>,
    version: String,
}

#[derive(Model)]
struct Post {
    id: i32,
    user_id: i32,
}

fn main() {}
