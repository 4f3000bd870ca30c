//! The routes and their handlers: one generic handler per verb, for every
//! [`Resource`], each making exactly the ORM calls the crate docs list, so
//! that a client that knows what it asked and what it was answered knows
//! what the ORM counted.

use axum::Json;
use axum::Router;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use premix_orm::Model;
use premix_orm::SqlDialect;
use premix_orm::sqlx::Pool;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::filters::ListQuery;
use crate::models::{Comment, Post, Resource, User};

/// Every route, on `pool`.
pub(crate) fn router<DB: SqlDialect>(pool: Pool<DB>) -> Router
where
    User: Model<DB>,
    Post: Model<DB>,
    Comment: Model<DB>,
{
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(routes::<DB, User>())
        .merge(routes::<DB, Post>())
        .merge(routes::<DB, Comment>())
        .fallback(|| async {
            ApiError {
                status: StatusCode::NOT_FOUND,
                kind: "not_found",
                message: "no such route; see the service's crate docs for the API".to_owned(),
            }
        })
        .with_state(pool)
}

fn routes<DB: SqlDialect, M: Resource + Model<DB>>() -> Router<Pool<DB>> {
    Router::new()
        .route(
            &format!("/{}", M::PATH),
            get(list::<DB, M>).post(create::<DB, M>),
        )
        .route(
            &format!("/{}/{{id}}", M::PATH),
            get(read::<DB, M>)
                .patch(update::<DB, M>)
                .delete(remove::<DB, M>),
        )
}

/// `POST /{resource}`: one `insert`.
async fn create<DB: SqlDialect, M: Resource + Model<DB>>(
    State(pool): State<Pool<DB>>,
    body: Result<Json<M::New>, JsonRejection>,
) -> Result<(StatusCode, Json<M>), ApiError> {
    let Json(new) = body?;
    let mut row = M::from_new(new);
    row.save(&pool).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// `GET /{resource}/{id}`: one `find_by_id`.
async fn read<DB: SqlDialect, M: Resource + Model<DB>>(
    State(pool): State<Pool<DB>>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<M>, ApiError> {
    let Path(id) = id?;
    M::find_by_id(&pool, id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(M::PATH, id))
}

/// `PATCH /{resource}/{id}`: one `update` (the builder's, which changes only
/// the fields given and says how many rows it changed).
async fn update<DB: SqlDialect, M: Resource + Model<DB>>(
    State(pool): State<Pool<DB>>,
    id: Result<Path<i64>, PathRejection>,
    body: Result<Json<M::Patch>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(id) = id?;
    let Json(patch) = body?;
    let changes = serde_json::to_value(&patch)
        .map_err(|e| ApiError::internal(format!("the patch did not serialize: {e}")))?;
    match M::find_in_pool(&pool)
        .filter_eq("id", id)
        .update(changes)
        .await?
    {
        0 => Err(ApiError::not_found(M::PATH, id)),
        updated => Ok(Json(json!({ "id": id, "updated": updated }))),
    }
}

/// `DELETE /{resource}/{id}`: one `delete`.
async fn remove<DB: SqlDialect, M: Resource + Model<DB>>(
    State(pool): State<Pool<DB>>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(id) = id?;
    match M::find_in_pool(&pool).filter_eq("id", id).delete().await? {
        0 => Err(ApiError::not_found(M::PATH, id)),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}

/// `GET /{resource}?...`: one `select`, and one `eager_load` per included
/// relation when the select succeeded.
async fn list<DB: SqlDialect, M: Resource + Model<DB>>(
    State(pool): State<Pool<DB>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Vec<M>>, ApiError> {
    let Query(pairs) = query?;
    let query = ListQuery::parse::<M>(&pairs)?;
    let rows = query.apply(M::find_in_pool(&pool)).all().await?;
    Ok(Json(rows))
}
