//! What a failed request is answered with: a status and a JSON body
//! `{"error": {"status", "kind", "message"}}`.
//!
//! Which status? The request's fault is 4xx, the service's is 5xx: the ORM's
//! own refusals (an unknown column or relation, a body that sets nothing)
//! are the request's (400); a constraint the database enforces (a foreign
//! key, uniqueness) is a conflict with the data (409); a pool that has no
//! connection to give is 503; any other database failure is 500, and its
//! detail goes to the service's log, not to the client.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use premix_orm::sqlx;
use sqlx::error::ErrorKind as DbErrorKind;

/// A request that failed, as it is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A short machine-readable reason: `invalid_request`, `not_found`,
    /// `conflict`, `unavailable`, `database`, `internal`.
    pub kind: &'static str,
    /// What went wrong, for people.
    pub message: String,
}

impl ApiError {
    /// 400: the request cannot be served as written.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request",
            message: message.into(),
        }
    }

    /// 404: no row `id` in `resource`.
    pub fn not_found(resource: &str, id: i64) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            kind: "not_found",
            message: format!("no {resource} with id {id}"),
        }
    }

    /// 500 for a failure that is not the request's fault.
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: "internal",
            message: message.into(),
        }
    }
}

/// The status and kind of an ORM error.
fn classify(error: &sqlx::Error) -> (StatusCode, &'static str) {
    match error {
        sqlx::Error::ColumnNotFound(_) | sqlx::Error::InvalidArgument(_) => {
            (StatusCode::BAD_REQUEST, "invalid_request")
        }
        sqlx::Error::RowNotFound => (StatusCode::NOT_FOUND, "not_found"),
        sqlx::Error::Database(db) => match db.kind() {
            DbErrorKind::UniqueViolation
            | DbErrorKind::ForeignKeyViolation
            | DbErrorKind::NotNullViolation
            | DbErrorKind::CheckViolation => (StatusCode::CONFLICT, "conflict"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "database"),
        },
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "database"),
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        let (status, kind) = classify(&error);
        let message = match (&error, kind) {
            (sqlx::Error::Database(db), "conflict") => match db.constraint() {
                Some(constraint) => format!("the change breaks constraint `{constraint}`"),
                None => format!("the change breaks a constraint: {}", db.message()),
            },
            (_, "unavailable") => "no database connection is free; try again later".to_owned(),
            _ if status.is_client_error() => error.to_string(),
            _ => "the database failed; see the service log".to_owned(),
        };
        if status.is_server_error() {
            eprintln!("service: {status}: {error}");
        }
        Self {
            status,
            kind,
            message,
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        Self {
            status: rejection.status(),
            kind: "invalid_request",
            message: rejection.body_text(),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request",
            message: rejection.body_text(),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::invalid(rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": {
                "status": self.status.as_u16(),
                "kind": self.kind,
                "message": self.message,
            }
        });
        (self.status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orm_errors_map_to_statuses() {
        let cases = [
            (
                sqlx::Error::ColumnNotFound("nickname".into()),
                StatusCode::BAD_REQUEST,
            ),
            (
                sqlx::Error::InvalidArgument("no columns".into()),
                StatusCode::BAD_REQUEST,
            ),
            (sqlx::Error::RowNotFound, StatusCode::NOT_FOUND),
            (sqlx::Error::PoolTimedOut, StatusCode::SERVICE_UNAVAILABLE),
            (sqlx::Error::PoolClosed, StatusCode::SERVICE_UNAVAILABLE),
            (
                sqlx::Error::Io(std::io::Error::other("reset")),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (
                sqlx::Error::WorkerCrashed,
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
        ];
        for (error, status) in cases {
            assert_eq!(classify(&error).0, status, "{error}");
            assert_eq!(ApiError::from(error).status, status);
        }
    }

    #[test]
    fn server_errors_do_not_leak_detail() {
        let error = ApiError::from(sqlx::Error::Io(std::io::Error::other(
            "secret host 10.1.2.3",
        )));
        assert!(!error.message.contains("secret"), "{}", error.message);
    }
}
