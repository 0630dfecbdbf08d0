//! The one error type of the web layer: what server functions return to the browser. It carries
//! a safe message only; internals are logged on the server (see `ssr` below) and never sent.

use http::StatusCode;
use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Invalid(String),
    #[error("An account with this e-mail address already exists.")]
    EmailTaken,
    #[error("Wrong e-mail address or password.")]
    WrongCredentials,
    #[error("Too many failed log-ins. Try again in {} minutes.", retry_after_secs.div_ceil(60))]
    Throttled { retry_after_secs: u64 },
    #[error("Please log in.")]
    Unauthorized,
    #[error("You are not allowed to do this.")]
    Forbidden,
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    #[error("The request could not be handled: {0}")]
    Request(String),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Invalid(_) | Self::Request(_) => StatusCode::BAD_REQUEST,
            Self::EmailTaken => StatusCode::CONFLICT,
            Self::WrongCredentials | Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short stable code, used in the query string when a form posted without JavaScript is
    /// sent back to its page (a code, not the message, so a link cannot inject text).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) | Self::Request(_) => "invalid",
            Self::EmailTaken => "email_taken",
            Self::WrongCredentials => "wrong_credentials",
            Self::Throttled { .. } => "throttled",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::Internal => "internal",
        }
    }

    /// The message for a code from [`AppError::code`].
    pub fn message_for_code(code: &str) -> &'static str {
        match code {
            "invalid" => "Please check the e-mail address and the password (at least 8 characters).",
            "email_taken" => "An account with this e-mail address already exists.",
            "wrong_credentials" => "Wrong e-mail address or password.",
            "throttled" => "Too many failed log-ins. Try again later.",
            "unauthorized" => "Please log in.",
            "forbidden" => "You are not allowed to do this.",
            _ => "Something went wrong on our side. Please try again.",
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Request(value.to_string())
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use billhook_core::accounts::AccountError;

    use super::AppError;

    impl From<AccountError> for AppError {
        fn from(e: AccountError) -> Self {
            match e {
                AccountError::Invalid { field, message } => Self::Invalid(format!("{field}: {message}")),
                AccountError::EmailTaken => Self::EmailTaken,
                AccountError::WrongCredentials => Self::WrongCredentials,
                AccountError::Throttled { retry_after_secs } => Self::Throttled { retry_after_secs },
                e => {
                    tracing::error!(error = ?e, "account operation failed");
                    Self::Internal
                }
            }
        }
    }
}
