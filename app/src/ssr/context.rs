//! The request being handled, as a server function sees it: the application state, the session,
//! the signed-in account and the client's address.

use http::request::Parts;
use leptos::prelude::*;
use tower_sessions::Session;

use super::AppState;
use crate::{AppError, CurrentUser, SessionUser};

/// Session key holding the signed-in account's id.
pub const USER_ID_KEY: &str = "user_id";
/// Session key holding the account's credentials stamp at sign-in: the session ends when the
/// password changes (the stamp no longer matches).
pub const CREDENTIALS_KEY: &str = "credentials";

/// The client address the server resolved for this request (proxy headers honoured only when
/// configured). Put in the request extensions by the server.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl From<&billhook_core::accounts::User> for SessionUser {
    fn from(user: &billhook_core::accounts::User) -> Self {
        Self { id: user.id, email: user.email.clone(), role: user.role }
    }
}

/// The application state the server provided to Leptos.
pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| AppError::internal("missing from the Leptos context", "AppState"))
}

/// The request's head (only missing outside a request, which is a bug).
fn parts() -> Result<Parts, AppError> {
    use_context::<Parts>().ok_or_else(|| AppError::internal("missing from the Leptos context", "request parts"))
}

/// The signed-in account of the request being handled, if any.
pub fn request_user() -> Option<SessionUser> {
    use_context::<Parts>()?.extensions.get::<CurrentUser>()?.0.clone()
}

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| AppError::internal("no session layer", e))
}

pub fn client_ip() -> Result<String, AppError> {
    Ok(parts()?.extensions.get::<ClientIp>().map(|ip| ip.0.clone()).unwrap_or_else(|| "unknown".into()))
}

/// Signs the session in as `user`, with a new session id (no session fixation).
pub async fn sign_in_session(user: &billhook_core::accounts::User) -> Result<(), AppError> {
    let session = session().await?;
    session.cycle_id().await?;
    session.insert(USER_ID_KEY, user.id).await?;
    session.insert(CREDENTIALS_KEY, &user.credentials_stamp).await?;
    Ok(())
}

/// Looks up the account a session is signed in as (None for no session, no user or a deleted one).
pub async fn load_session_user(session: &Session, state: &AppState) -> anyhow::Result<Option<SessionUser>> {
    let Some(id) = session.get::<i64>(USER_ID_KEY).await? else {
        return Ok(None);
    };
    // A session from before the stamp existed has none: it matches no account.
    let stamp = session.get::<String>(CREDENTIALS_KEY).await?.unwrap_or_default();
    Ok(state.accounts.session_user(id, &stamp).await?.as_ref().map(SessionUser::from))
}
