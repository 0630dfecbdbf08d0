//! Authorisation for server functions. Server functions are public HTTP endpoints: each one
//! calls a guard itself, whatever the page that shows its data already checked.

use billhook_model::Role;
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

use super::request_user;
use crate::{AppError, SessionUser};

/// Sets the response status for `error` and returns it: for server functions that refuse.
pub fn fail<T>(error: AppError) -> Result<T, AppError> {
    if let Some(response) = use_context::<ResponseOptions>() {
        response.set_status(error.status());
    }
    Err(error)
}

/// The signed-in account, or 401.
pub fn require_user() -> Result<SessionUser, AppError> {
    match request_user() {
        Some(user) => Ok(user),
        None => fail(AppError::Unauthorized),
    }
}

/// The signed-in account if it has `role`; 401 without a log-in, 403 with another role.
pub fn require_role(role: Role) -> Result<SessionUser, AppError> {
    let user = require_user()?;
    if user.role == role { Ok(user) } else { fail(AppError::Forbidden) }
}

/// The signed-in operator (`admin` or `viewer`: may look at the dashboard); 401 without a
/// log-in, 403 for a customer.
pub fn require_operator() -> Result<SessionUser, AppError> {
    let user = require_user()?;
    if user.role.is_operator() { Ok(user) } else { fail(AppError::Forbidden) }
}

/// The signed-in admin who acts, as the audit log names them: admin only (401 without a log-in,
/// 403 for a viewer or a customer).
pub fn require_admin() -> Result<billhook_core::dashboard::Actor, AppError> {
    let admin = require_role(Role::Admin)?;
    Ok(billhook_core::dashboard::Actor { user_id: admin.id, email: admin.email })
}
