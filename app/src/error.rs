//! The one error type of the web layer, and the error policy of `app` (core's side of it is at
//! the top of `billhook_core::error`).
//!
//! # Which layer returns what
//!
//! | layer | returns | who logs |
//! |---|---|---|
//! | `billhook-core` | its module's `thiserror` enum (`AccountError`, `ExportError`, `CustomDomainError`, ...): the cause, for logs and for callers to match | nobody |
//! | `crate::ssr` helpers, server functions | [`AppError`]: only what the user may know | the `From` impls in `from_core`, once |
//! | pages, sections (`components::data::Loaded`, `components::form::form_error`) | show an `AppError`'s `Display` | - |
//!
//! # Rules
//!
//! - **One conversion, one log line.** A core error becomes an `AppError` through a `From` impl
//!   in `error/from_core.rs` (server side only). Each impl names the variants that mean something to a user
//!   (a wrong password, a taken address) and sends everything else - including variants core
//!   adds later - through one catch-all arm that logs the cause with [`AppError::internal`] and
//!   returns [`AppError::Internal`]. So a server function writes `?`, never
//!   `map_err(|e| { tracing::error!(..); .. })`. A failure that is no core error (a missing
//!   context, the session store) goes through [`AppError::internal`] too, in `crate::ssr`.
//! - **The cause never reaches the browser.** `Internal` carries nothing; the log line has the
//!   cause with its chain.
//! - **The user's text is written once: the `#[error]` attributes below**, never a core error's
//!   `Display` (written for operators; it may name internals). A form posted without JavaScript is
//!   sent back with `?error=<code>` ([`AppError::code`]); the page rebuilds the error with
//!   [`AppError::from_code`] and shows its `Display`, so a code has no text of its own. A code
//!   carries no details, so the one detail a text uses (how long to wait) is an `Option` and the
//!   text reads well without it.
//! - **Statuses:** [`AppError::status`] is the HTTP status; `crate::ssr::fail` sets it for a
//!   refusal, `crate::ssr::finish_form` for a form post, `components::data::Loaded` for a page
//!   whose data failed.
//! - Axum handlers in the `server` crate (webhooks, downloads, ACME) answer with their own
//!   responses and log there; this type is for pages and server functions.

use http::StatusCode;
use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

/// What a server function tells the browser when it fails. The variant names are part of the
/// JSON a failed server function returns (`"EmailTaken"`, `{"Throttled":{..}}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please enter a valid e-mail address.")]
    InvalidEmail,
    #[error("A password needs 8 to 128 characters.")]
    InvalidPassword,
    #[error("Please enter a domain name such as shop.example.com (no wildcard, no IP address).")]
    InvalidDomain,
    /// Input refused for a reason no variant above names.
    #[error("Please check what you entered.")]
    Invalid,
    #[error("An account with this e-mail address already exists.")]
    EmailTaken,
    #[error("This domain is already added to an account.")]
    DomainTaken,
    #[error("Wrong e-mail address or password.")]
    WrongCredentials,
    #[error("Too many failed log-ins. Try again {}.", retry_in(.retry_after_secs))]
    Throttled { retry_after_secs: Option<u64> },
    #[error("Too many sign-ups from your network. Try again {}.", retry_in(.retry_after_secs))]
    SignUpsThrottled { retry_after_secs: Option<u64> },
    /// Too much work at once (password checks queued too long): nothing was changed.
    #[error("The server is busy. Please try again in a moment.")]
    Busy,
    #[error("This plan needs an active {} subscription first.", or_another(.required))]
    PlanRequires { required: Option<String> },
    #[error("You already have this plan.")]
    AlreadySubscribed,
    #[error("This plan is not on offer.")]
    UnknownPlan,
    #[error("Custom domains come with an active {} subscription.", or_another(.required))]
    DomainsNotIncluded { required: Option<String> },
    #[error("The amounts shown are out of date. Please look at the change again.")]
    StalePreview,
    #[error("This event type has no handler: there is nothing to run.")]
    NoHandler,
    #[error("Not in this state: a failed job can be retried; a waiting or failed one discarded.")]
    WrongState,
    /// Stripe is unreachable, or billing is not configured: nothing the customer can fix now.
    #[error("Payments are not available right now. Please try again in a few minutes.")]
    PaymentsUnavailable,
    /// Missing, or not the signed-in account's (the two are not told apart).
    #[error("There is nothing here.")]
    NotFound,
    #[error("Please log in.")]
    Unauthorized,
    #[error("You are not allowed to do this.")]
    Forbidden,
    /// Anything the user cannot act on; the cause is in the server's log.
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// The call never reached the function, or its answer never arrived (undecodable arguments,
    /// no connection). The detail is for developers (the JSON, the browser console), not shown.
    #[error("The request could not be handled. Please try again.")]
    Request(String),
}

fn or_another(name: &Option<String>) -> &str {
    name.as_deref().unwrap_or("other")
}

fn retry_in(secs: &Option<u64>) -> String {
    match secs {
        Some(secs) => format!("in {} minutes", secs.div_ceil(60)),
        None => "later".to_owned(),
    }
}

impl AppError {
    /// Every variant, without details (what [`AppError::from_code`] can rebuild).
    const CODED: [Self; 23] = [
        Self::InvalidEmail,
        Self::InvalidPassword,
        Self::InvalidDomain,
        Self::Invalid,
        Self::EmailTaken,
        Self::DomainTaken,
        Self::WrongCredentials,
        Self::Throttled { retry_after_secs: None },
        Self::SignUpsThrottled { retry_after_secs: None },
        Self::Busy,
        Self::PlanRequires { required: None },
        Self::AlreadySubscribed,
        Self::UnknownPlan,
        Self::DomainsNotIncluded { required: None },
        Self::StalePreview,
        Self::NoHandler,
        Self::WrongState,
        Self::PaymentsUnavailable,
        Self::NotFound,
        Self::Unauthorized,
        Self::Forbidden,
        Self::Internal,
        Self::Request(String::new()),
    ];

    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidEmail
            | Self::InvalidPassword
            | Self::InvalidDomain
            | Self::Invalid
            | Self::UnknownPlan
            | Self::Request(_) => StatusCode::BAD_REQUEST,
            Self::EmailTaken
            | Self::DomainTaken
            | Self::PlanRequires { .. }
            | Self::AlreadySubscribed
            | Self::DomainsNotIncluded { .. }
            | Self::StalePreview
            | Self::NoHandler
            | Self::WrongState => StatusCode::CONFLICT,
            Self::PaymentsUnavailable | Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::WrongCredentials | Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Throttled { .. } | Self::SignUpsThrottled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short stable code, used in the query string when a form posted without JavaScript is
    /// sent back to its page (a code, not the message, so a link cannot inject text).
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidEmail => "invalid_email",
            Self::InvalidPassword => "invalid_password",
            Self::InvalidDomain => "invalid_domain",
            Self::Invalid => "invalid",
            Self::EmailTaken => "email_taken",
            Self::DomainTaken => "domain_taken",
            Self::WrongCredentials => "wrong_credentials",
            Self::Throttled { .. } => "throttled",
            Self::SignUpsThrottled { .. } => "signups_throttled",
            Self::Busy => "busy",
            Self::PlanRequires { .. } => "plan_requires",
            Self::AlreadySubscribed => "already_subscribed",
            Self::UnknownPlan => "unknown_plan",
            Self::DomainsNotIncluded { .. } => "domains_not_included",
            Self::StalePreview => "stale_preview",
            Self::NoHandler => "no_handler",
            Self::WrongState => "wrong_state",
            Self::PaymentsUnavailable => "payments_unavailable",
            Self::NotFound => "not_found",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::Internal => "internal",
            Self::Request(_) => "request",
        }
    }

    /// The error a [`AppError::code`] stands for, without its details; an unknown code reads as
    /// [`AppError::Internal`].
    pub fn from_code(code: &str) -> Self {
        Self::CODED.into_iter().find(|e| e.code() == code).unwrap_or(Self::Internal)
    }

    /// Logs `cause` (with its chain) as the reason for an internal failure and returns
    /// [`AppError::Internal`]: the one place a cause is logged.
    #[cfg(feature = "ssr")]
    pub fn internal(what: &str, cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %format_args!("{cause:#}"), "{what}");
        Self::Internal
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Request(value.to_string())
    }
}

#[cfg(feature = "ssr")]
mod from_core;

#[cfg(test)]
mod tests {
    use super::AppError;

    #[test]
    fn every_code_reads_back_as_its_error() {
        for error in AppError::CODED {
            assert_eq!(AppError::from_code(error.code()), error);
        }
        assert_eq!(AppError::from_code("<script>"), AppError::Internal);
    }

    #[test]
    fn texts_read_well_with_and_without_details() {
        assert_eq!(AppError::from_code("wrong_credentials").to_string(), "Wrong e-mail address or password.");
        assert_eq!(
            AppError::Throttled { retry_after_secs: Some(61) }.to_string(),
            "Too many failed log-ins. Try again in 2 minutes."
        );
        assert_eq!(AppError::from_code("throttled").to_string(), "Too many failed log-ins. Try again later.");
    }
}
