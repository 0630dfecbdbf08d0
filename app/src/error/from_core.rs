//! Core errors into `AppError`: the user-meaningful variants by name, the rest logged once.

use billhook_core::{
    accounts::AccountError, billing::BillingError, custom_domains::CustomDomainError, dashboard::DashboardError,
    exports::ExportError,
};

use super::AppError;

impl From<AccountError> for AppError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Invalid { field: "email", .. } => Self::InvalidEmail,
            AccountError::Invalid { field: "password", .. } => Self::InvalidPassword,
            AccountError::Invalid { .. } => Self::Invalid,
            AccountError::EmailTaken => Self::EmailTaken,
            AccountError::WrongCredentials => Self::WrongCredentials,
            AccountError::Throttled { retry_after_secs } => {
                Self::Throttled { retry_after_secs: Some(retry_after_secs) }
            }
            AccountError::SignUpsThrottled { retry_after_secs } => {
                Self::SignUpsThrottled { retry_after_secs: Some(retry_after_secs) }
            }
            AccountError::Busy => Self::Busy,
            other => Self::internal("account operation failed", other),
        }
    }
}

impl From<CustomDomainError> for AppError {
    fn from(e: CustomDomainError) -> Self {
        match e {
            CustomDomainError::Invalid(_) => Self::InvalidDomain,
            CustomDomainError::Taken(_) => Self::DomainTaken,
            other => Self::internal("custom domain operation failed", other),
        }
    }
}

impl From<BillingError> for AppError {
    fn from(e: BillingError) -> Self {
        match e {
            BillingError::Requires { required, .. } => Self::PlanRequires { required: Some(required) },
            BillingError::AlreadyHeld(_) => Self::AlreadySubscribed,
            BillingError::UnknownPrice(_) => Self::UnknownPlan,
            BillingError::NotFound => Self::NotFound,
            BillingError::Domain(e) => e.into(),
            BillingError::DomainsNotIncluded { with } => Self::DomainsNotIncluded { required: Some(with) },
            BillingError::StalePreview => Self::StalePreview,
            BillingError::Stripe(ref cause) if cause.is_transient() => {
                tracing::warn!(error = %cause, "Stripe is not answering; the customer was asked to try again");
                Self::PaymentsUnavailable
            }
            BillingError::PriceNotSynced(_) => {
                tracing::error!(error = %e, "a catalogue price is missing at Stripe");
                Self::PaymentsUnavailable
            }
            other => Self::internal("billing operation failed", other),
        }
    }
}

impl From<DashboardError> for AppError {
    fn from(e: DashboardError) -> Self {
        match e {
            DashboardError::NotFound(_) => Self::NotFound,
            DashboardError::NoHandler(_) => Self::NoHandler,
            DashboardError::BadCursor | DashboardError::BadFilter => Self::Invalid,
            DashboardError::WrongState(_) => Self::WrongState,
            other => Self::internal("dashboard operation failed", other),
        }
    }
}

impl From<ExportError> for AppError {
    /// Nothing an export can fail with is the user's to fix.
    fn from(e: ExportError) -> Self {
        Self::internal("data export operation failed", e)
    }
}

impl From<billhook_sandbox::ApiError> for AppError {
    /// A request the sandbox refused is the operator's to change; its own failure is ours.
    fn from(e: billhook_sandbox::ApiError) -> Self {
        if e.status.is_client_error() { Self::Invalid } else { Self::internal("the Stripe sandbox failed", e) }
    }
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(e: tower_sessions::session::Error) -> Self {
        Self::internal("session store failed", e)
    }
}
