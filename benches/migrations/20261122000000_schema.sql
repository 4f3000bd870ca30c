-- The orm_compare dataset's tables on SQLite: what the fork's Premix::sync
-- creates for models::ours, with every column NOT NULL. The bench creates
-- them from this file; `cargo xtask prepare` runs it (sqlx migrate) on the
-- throwaway database the query_as! contender is checked against.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    age INTEGER NOT NULL,
    active BOOLEAN NOT NULL
);
CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,
    title TEXT NOT NULL,
    score INTEGER NOT NULL,
    FOREIGN KEY (user_id) REFERENCES users (id)
);
CREATE INDEX idx_posts_user_id ON posts (user_id);
