//! Stripe's error answers: `{"error": {"type", "code", "decline_code", "message", "param"}}` with
//! Stripe's HTTP status, so a Stripe SDK reads a sandbox error as it reads Stripe's own (the API's
//! middleware adds `request_log_url`).

use axum::{
    Json,
    response::{IntoResponse, Response},
};
use http::StatusCode;
use serde::Serialize;
use serde_json::json;

/// An error as Stripe reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<&'static str>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// The intent a card error happened on (Stripe includes it, so a client can read its state).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_intent: Option<Box<serde_json::Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_intent: Option<Box<serde_json::Value>>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: String) -> Self {
        Self {
            status,
            kind,
            code: None,
            decline_code: None,
            message,
            param: None,
            payment_intent: None,
            setup_intent: None,
        }
    }

    /// A request Stripe would refuse (400), naming the parameter at fault.
    pub fn invalid_param(param: &str, message: String) -> Self {
        Self { code: Some("parameter_invalid"), param: Some(param.to_owned()), ..Self::invalid(message) }
    }

    /// Stripe's answer while its API is down (the operator's simulated outage).
    pub fn outage() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "api_error",
            "Stripe's API is unavailable (an outage simulated in the sandbox; switch it off in /admin).".into(),
        )
    }

    /// A request Stripe would refuse (400).
    pub fn invalid(message: String) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    pub fn missing_param(param: &str) -> Self {
        Self {
            code: Some("parameter_missing"),
            param: Some(param.to_owned()),
            ..Self::invalid(format!("Missing required param: {param}."))
        }
    }

    pub fn unknown_param(param: &str) -> Self {
        Self {
            code: Some("parameter_unknown"),
            param: Some(param.to_owned()),
            ..Self::invalid(format!("Received unknown parameter: {param}"))
        }
    }

    /// No object `id` of this kind (404, `resource_missing`).
    pub fn no_such(object: &str, id: &str, param: &str) -> Self {
        Self {
            code: Some("resource_missing"),
            param: Some(param.to_owned()),
            ..Self::new(StatusCode::NOT_FOUND, "invalid_request_error", format!("No such {object}: '{id}'"))
        }
    }

    /// A URL the sandbox (like Stripe) has no endpoint for.
    pub fn unrecognized_url(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!(
                "Unrecognized request URL ({method}: {path}). The sandbox serves the part of Stripe's API that Billhook uses."
            ),
        )
    }

    /// A card refused (402 `card_error`), as Stripe words it.
    pub fn card(code: &'static str, decline_code: Option<&'static str>, param: Option<&str>) -> Self {
        let message = match (code, decline_code) {
            (_, Some("insufficient_funds")) => "Your card has insufficient funds.",
            ("card_declined", _) => "Your card was declined.",
            ("authentication_required", _) => "Your card was declined. This transaction requires authentication.",
            ("incorrect_number", _) => "Your card number is incorrect.",
            ("invalid_expiry_year" | "invalid_expiry_month", _) => "Your card's expiration date is invalid.",
            ("invalid_cvc", _) => "Your card's security code is invalid.",
            _ => "Your card could not be used.",
        };
        Self {
            code: Some(code),
            decline_code,
            param: param.map(str::to_owned),
            ..Self::new(StatusCode::PAYMENT_REQUIRED, "card_error", message.into())
        }
    }

    /// Stripe's word for a publishable key on an endpoint that needs the secret one.
    pub fn secret_key_required() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "This API call cannot be made with a publishable API key. Please use a secret API key.".into(),
        )
    }

    pub fn unauthenticated(message: String) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_request_error", message)
    }

    /// The same `Idempotency-Key` with other parameters (400).
    pub fn idempotency_mismatch(key: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "idempotency_error",
            format!(
                "Keys for idempotent requests can only be used with the same parameters they were first used with. \
                 Try using a key other than '{key}' if you meant to execute a different request."
            ),
        )
    }

    /// A request whose `Idempotency-Key` another request is still running with (409).
    pub fn idempotency_key_in_use() -> Self {
        Self {
            code: Some("idempotency_key_in_use"),
            ..Self::new(
                StatusCode::CONFLICT,
                "invalid_request_error",
                "There is currently another in-progress request using this Idempotency Key (that was provided via \
                 the Idempotency-Key header). Please try again later; the first request's answer will then be \
                 returned."
                    .into(),
            )
        }
    }

    /// The sandbox itself failed (Stripe's `api_error`, 500): logged, the cause not shown.
    pub fn internal(error: &dyn std::fmt::Display) -> Self {
        tracing::error!(%error, "sandbox failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "api_error", "The sandbox failed to complete the request.".into())
    }

    /// The sandbox's own storage failed (Stripe's `api_error`, 500): logged, the cause not shown.
    pub fn storage(error: &sqlx::Error) -> Self {
        tracing::error!(%error, "sandbox storage failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "The sandbox could not store or read its data.".into(),
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.kind, self.status.as_u16(), self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::storage(&e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self }))).into_response()
    }
}
