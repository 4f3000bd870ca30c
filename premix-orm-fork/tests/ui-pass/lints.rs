// Every attribute form and every premix_query! operation, in a crate that
// denies warnings and unused qualifications: generated code must not make a
// careful user's build fail.
#![deny(warnings, unused_qualifications, rust_2018_idioms)]

use premix_orm_fork::prelude::*;

#[derive(Model, Clone)]
#[premix(table = "people", custom_hooks)]
#[premix(custom_validation)]
#[has_many(Post)]
pub struct Person {
    pub id: i64,
    #[premix(sensitive)]
    pub password: String,
    #[premix(sql_type = "TEXT")]
    pub settings: String,
    #[premix(index)]
    pub email: String,
    #[premix(index(name = "idx_people_nick"))]
    pub nick: Option<String>,
    #[premix(unique)]
    pub handle: String,
    #[premix(unique(name = "u_people_code"), sensitive)]
    pub code: Vec<u8>,
    pub deleted_at: Option<String>,
    pub version: i32,
    pub small: i16,
    pub big: u32,
    pub flag: bool,
    pub ratio: f32,
    pub precise: f64,
    #[has_many(Post)]
    pub posts: Option<Vec<Post>>,
    #[premix(ignore)]
    pub cache: Option<String>,
}

impl ModelHooks for Person {}
impl ModelValidation for Person {}

#[derive(Model, Clone)]
#[belongs_to(Person)]
pub struct Post {
    pub id: i32,
    pub person_id: i64,
    #[premix(foreign_key(table = "people", column = "id"))]
    pub editor_id: i32,
    #[belongs_to(Person)]
    pub person: Option<Person>,
}

pub fn statements(id: i64) {
    drop(premix_query!(
        Person,
        SELECT,
        filter_gte("version", 1),
        limit(10),
        offset(0)
    ));
    drop(premix_query!(Person, FIND, filter_eq("id", id)));
    drop(premix_query!(Person, INSERT, set("email", "a@b.c")));
    drop(premix_query!(
        Person,
        UPDATE,
        set("nick", "x"),
        filter_is_null("deleted_at"),
        returning_all()
    ));
    drop(premix_query!(
        Person,
        DELETE,
        filter_ne("id", id),
        returning_all()
    ));
}

fn main() {}
