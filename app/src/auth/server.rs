//! Server-side helpers for server functions: state, session, the caller's identity and address,
//! authorisation, and the finishing of form posts.

use http::{HeaderMap, header::ACCEPT, request::Parts};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use tower_sessions::Session;

use super::{CurrentUser, Role, SessionUser};
use crate::{AppError, AppState};

/// Session key holding the signed-in account's id.
pub const USER_ID_KEY: &str = "user_id";

/// The client address the server resolved for this request (proxy headers honoured only when
/// configured). Put in the request extensions by the server.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl From<billhook_core::accounts::Role> for Role {
    fn from(role: billhook_core::accounts::Role) -> Self {
        use billhook_core::accounts::Role as R;
        match role {
            R::Customer => Self::Customer,
            R::Admin => Self::Admin,
            R::Viewer => Self::Viewer,
        }
    }
}

impl From<&billhook_core::accounts::User> for SessionUser {
    fn from(user: &billhook_core::accounts::User) -> Self {
        Self { id: user.id, email: user.email.clone(), role: user.role.into() }
    }
}

pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the Leptos context");
        AppError::Internal
    })
}

fn parts() -> Result<Parts, AppError> {
    use_context::<Parts>().ok_or_else(|| {
        tracing::error!("request parts missing from the Leptos context");
        AppError::Internal
    })
}

/// The signed-in account of the request being handled, if any.
pub fn request_user() -> Option<SessionUser> {
    use_context::<Parts>()?.extensions.get::<CurrentUser>()?.0.clone()
}

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

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "session layer missing");
        AppError::Internal
    })
}

pub fn client_ip() -> Result<String, AppError> {
    Ok(parts()?.extensions.get::<ClientIp>().map(|ip| ip.0.clone()).unwrap_or_else(|| "unknown".into()))
}

/// Signs the session in as `user`, with a new session id (no session fixation).
pub async fn sign_in_session(user: &billhook_core::accounts::User) -> Result<(), AppError> {
    let session = session().await?;
    let stored = async {
        session.cycle_id().await?;
        session.insert(USER_ID_KEY, user.id).await
    }
    .await;
    stored.map_err(|e| {
        tracing::error!(error = %e, "could not store the session");
        AppError::Internal
    })
}

/// Looks up the account a session is signed in as (None for no session, no user or a deleted one).
pub async fn load_session_user(session: &Session, state: &AppState) -> anyhow::Result<Option<SessionUser>> {
    let Some(id) = session.get::<i64>(USER_ID_KEY).await? else {
        return Ok(None);
    };
    Ok(state.accounts.user_by_id(id).await?.as_ref().map(SessionUser::from))
}

fn is_plain_form_post(headers: &HeaderMap) -> bool {
    headers.get(ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"))
}

/// Ends a server function that backs a form. On success the browser goes to `success` (a full
/// page load, with or without JavaScript). On failure a fetch call gets the typed error with its
/// status; a plain form post (JavaScript off) is sent back to `failure_page` with `error=<code>`.
pub fn finish_form(result: Result<(), AppError>, success: &str, failure_page: &str) -> Result<(), AppError> {
    match result {
        Ok(()) => {
            leptos_axum::redirect(success);
            Ok(())
        }
        Err(error) => {
            let plain_form = use_context::<Parts>().is_some_and(|p| is_plain_form_post(&p.headers));
            if plain_form {
                let sep = if failure_page.contains('?') { '&' } else { '?' };
                leptos_axum::redirect(&format!("{failure_page}{sep}error={}", error.code()));
                if let Some(response) = use_context::<ResponseOptions>() {
                    response.set_status(http::StatusCode::SEE_OTHER);
                }
                Ok(())
            } else {
                fail(error)
            }
        }
    }
}
