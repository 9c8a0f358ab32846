//! The one error type of the REST API. Client errors say what is wrong and where; internal
//! errors are logged and answered with a generic message.

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rulestudio_api::diagnostic::DiagnosticJson;
use rulestudio_api::error::ErrorBody;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("authentication required: sign in or send `Authorization: Bearer TOKEN`")]
    Unauthorized,
    #[error("wrong username or password")]
    BadCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    /// A line of an ingest batch; nothing of the batch was stored.
    #[error("{0}")]
    InvalidEvent(String),
    /// A condition or rules text that does not load; the diagnostics say where.
    #[error("{message}")]
    Invalid {
        code: &'static str,
        message: String,
        diagnostics: Vec<DiagnosticJson>,
    },
    #[error("{0}")]
    Conflict(String),
    /// Refused for every listed reason: 409, or 422 when the request itself cannot work
    /// (the rules it would promote do not load).
    #[error("{summary}: {}", reasons.join("; "))]
    Refused {
        unprocessable: bool,
        summary: String,
        reasons: Vec<String>,
    },
    /// Well-formed, but the server cannot act on it (e.g. nothing separates the benign matches).
    #[error("{0}")]
    Unprocessable(String),
    #[error("request body is larger than the server accepts (see --max-body-bytes)")]
    PayloadTooLarge,
    /// The request needs more than its budget (`--request-timeout`), or its client left.
    #[error("{0}")]
    BudgetExceeded(String),
    /// 429 with `Retry-After`: sign-in throttling, or a full queue.
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after: std::time::Duration,
    },
    /// A cursor into events retention removed: the search must start again.
    #[error("{0}")]
    Gone(String),
    /// The database cannot be written (see [`crate::storage`]); the message says why.
    #[error("{0}")]
    StorageUnavailable(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// Every `code` an error body can carry (the OpenAPI document lists them).
    pub const CODES: [&'static str; 14] = [
        "unauthorized",
        "forbidden",
        "not_found",
        "bad_request",
        "invalid_event",
        "invalid_condition",
        "conflict",
        "unprocessable",
        "payload_too_large",
        "budget_exceeded",
        "too_many_requests",
        "gone",
        "storage_unavailable",
        "internal",
    ];

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::Unauthorized | AppError::BadCredentials => {
                (StatusCode::UNAUTHORIZED, "unauthorized")
            }
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            AppError::InvalidEvent(_) => (StatusCode::BAD_REQUEST, "invalid_event"),
            AppError::Invalid { code, .. } => (StatusCode::BAD_REQUEST, code),
            AppError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            AppError::Refused {
                unprocessable: true,
                ..
            } => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable"),
            AppError::Refused { .. } => (StatusCode::CONFLICT, "conflict"),
            AppError::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable"),
            AppError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            AppError::BudgetExceeded(_) => (StatusCode::SERVICE_UNAVAILABLE, "budget_exceeded"),
            AppError::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_requests")
            }
            AppError::Gone(_) => (StatusCode::GONE, "gone"),
            AppError::StorageUnavailable(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable")
            }
            AppError::Db(e) if storage_failure(e).is_some() => {
                (StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable")
            }
            AppError::Db(_) | AppError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let storage = match &self {
            AppError::Db(e) => storage_failure(e),
            _ => None,
        };
        let message = if let Some(why) = storage {
            tracing::error!(error = ?self, "a write failed");
            format!("the database cannot be written ({why}); /healthz says more")
        } else if code == "internal" {
            tracing::error!(error = ?self, "request failed");
            "internal error; the server log has the details".to_string()
        } else {
            self.to_string()
        };
        // Whole seconds, rounded up: a client that waits exactly this long is let in.
        let retry_after = match &self {
            AppError::TooManyRequests { retry_after, .. } => {
                Some(retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0))
            }
            _ => None,
        };
        let (diagnostics, reasons) = match self {
            AppError::Invalid { diagnostics, .. } => (Some(diagnostics), None),
            AppError::Refused { reasons, .. } => (None, Some(reasons)),
            _ => (None, None),
        };
        let mut response = (
            status,
            axum::Json(ErrorBody {
                code: code.to_string(),
                message,
                diagnostics,
                reasons,
            }),
        )
            .into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return AppError::PayloadTooLarge;
        }
        AppError::BadRequest(r.body_text())
    }
}

impl From<QueryRejection> for AppError {
    fn from(r: QueryRejection) -> Self {
        AppError::BadRequest(r.body_text())
    }
}

impl From<PathRejection> for AppError {
    fn from(r: PathRejection) -> Self {
        AppError::BadRequest(r.body_text())
    }
}

impl From<BytesRejection> for AppError {
    fn from(r: BytesRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return AppError::PayloadTooLarge;
        }
        AppError::BadRequest(r.body_text())
    }
}

/// `Json` whose rejections answer in the API's error format.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

/// `Query` whose rejections answer in the API's error format.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

/// `Path` whose rejections (`/events/abc`) answer in the API's error format.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

/// What SQLite says when the storage under it fails (rather than the statement): read-only,
/// disk full, I/O error, file not openable.
fn storage_failure(e: &sqlx::Error) -> Option<&'static str> {
    let code: i32 = e.as_database_error()?.code()?.parse().ok()?;
    // Extended result codes keep the primary code in their low byte.
    match code & 0xff {
        8 => Some("it is read-only"),
        10 => Some("input/output error"),
        13 => Some("the disk is full"),
        14 => Some("the file cannot be opened"),
        _ => None,
    }
}

/// Maps a UNIQUE violation to a 409 saying what already exists.
pub trait ResultExt<T> {
    fn on_unique(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T> ResultExt<T> for std::result::Result<T, sqlx::Error> {
    fn on_unique(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => AppError::Conflict(what()),
            _ => AppError::Db(e),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite refusing a write because of its file (here opened read-only) is a 503 saying so,
    /// not an "internal error".
    #[tokio::test]
    async fn a_write_sqlite_refuses_for_its_storage_is_storage_unavailable() {
        use sqlx::ConnectOptions;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(&path);
        let mut rw = opts
            .clone()
            .create_if_missing(true)
            .connect()
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (x)")
            .execute(&mut rw)
            .await
            .unwrap();
        let mut ro = opts.read_only(true).connect().await.unwrap();
        let e = sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut ro)
            .await
            .unwrap_err();
        let (status, code) = AppError::Db(e).status_and_code();
        assert_eq!(
            (status, code),
            (StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable")
        );
        let other = sqlx::query("INSERT INTO nowhere VALUES (1)")
            .execute(&mut rw)
            .await
            .unwrap_err();
        assert_eq!(AppError::Db(other).status_and_code().1, "internal");
    }

    #[test]
    fn every_code_is_listed() {
        let errors = [
            AppError::Unauthorized,
            AppError::BadCredentials,
            AppError::Forbidden(String::new()),
            AppError::NotFound(String::new()),
            AppError::BadRequest(String::new()),
            AppError::InvalidEvent(String::new()),
            match crate::condition::compile("proc.nme = x", None) {
                Err(e) => e,
                Ok(_) => panic!("proc.nme is not a field"),
            },
            AppError::Conflict(String::new()),
            AppError::Refused {
                unprocessable: true,
                summary: String::new(),
                reasons: Vec::new(),
            },
            AppError::Refused {
                unprocessable: false,
                summary: String::new(),
                reasons: Vec::new(),
            },
            AppError::Unprocessable(String::new()),
            AppError::PayloadTooLarge,
            AppError::BudgetExceeded(String::new()),
            AppError::TooManyRequests {
                message: String::new(),
                retry_after: std::time::Duration::ZERO,
            },
            AppError::Gone(String::new()),
            AppError::StorageUnavailable(String::new()),
            AppError::Db(sqlx::Error::RowNotFound),
            AppError::Internal(anyhow::anyhow!("x")),
        ];
        for e in errors {
            let (_, code) = e.status_and_code();
            assert!(AppError::CODES.contains(&code), "{code} is not in CODES");
        }
    }
}
