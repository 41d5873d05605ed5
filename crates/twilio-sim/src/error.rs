//! Twilio's error body (`code`, `message`, `more_info`, `status`) and the codes the simulator uses.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An API error as Twilio reports it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} / {code}: {message}")]
pub struct ApiError {
    pub status: u16,
    pub code: u32,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 401 / 20003.
    pub fn auth() -> Self {
        Self::new(401, 20003, "Authenticate")
    }

    /// 403 / 20008 (test credentials on an unsupported resource).
    pub fn test_credentials() -> Self {
        Self::new(
            403,
            20008,
            "Resource not accessible with Test Account Credentials",
        )
    }

    /// 404 / 20404 for the request path.
    pub fn not_found(path: &str) -> Self {
        Self::new(
            404,
            20404,
            format!("The requested resource {path} was not found"),
        )
    }

    /// 400 with a Twilio code.
    pub fn bad_request(code: u32, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        let more_info = if self.code == 20503 {
            "https://www.twilio.com/docs/errors/503".to_string()
        } else {
            format!("https://www.twilio.com/docs/errors/{}", self.code)
        };
        serde_json::json!({
            "code": self.code,
            "message": self.message,
            "more_info": more_info,
            "status": self.status,
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self.body())).into_response()
    }
}
