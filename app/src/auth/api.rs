//! Server functions for signing up, logging in and out. Each backs a form that also works with
//! JavaScript off (see `server::finish_form`).

use leptos::prelude::*;

use crate::error::AppError;

/// Creates a customer account and signs it in.
#[server(endpoint = "sign_up")]
pub async fn sign_up(email: String, password: String, next: String) -> Result<(), AppError> {
    use super::server::{finish_form, sign_in_session, state};
    let result = async {
        let user = state()?.accounts.sign_up(&email, password).await?;
        sign_in_session(&user).await
    }
    .await;
    finish_form(result, &super::safe_next(&next, "/account"), "/signup")
}

/// Checks e-mail and password and signs the session in (with a fresh session id).
#[server(endpoint = "log_in")]
pub async fn log_in(email: String, password: String, next: String) -> Result<(), AppError> {
    use super::server::{client_ip, finish_form, sign_in_session, state};
    let result = async {
        let ip = client_ip()?;
        let user = state()?.accounts.log_in(&email, password, &ip).await?;
        sign_in_session(&user).await
    }
    .await;
    let failure_page = format!("/login?next={}", urlencode(&next));
    finish_form(result, &super::safe_next(&next, "/account"), &failure_page)
}

/// Ends the session.
#[server(endpoint = "log_out")]
pub async fn log_out() -> Result<(), AppError> {
    use super::server::{finish_form, session};
    let result = async {
        session().await?.flush().await.map_err(|e| {
            tracing::error!(error = %e, "could not delete the session");
            AppError::Internal
        })
    }
    .await;
    finish_form(result, "/", "/")
}

#[cfg(feature = "ssr")]
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
