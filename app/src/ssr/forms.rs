//! Server functions that back a form answer both a fetch call (JavaScript on) and a plain form
//! post (JavaScript off, or not hydrated yet).

use http::{HeaderMap, header::ACCEPT, request::Parts};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

use super::fail;
use crate::AppError;

fn is_plain_form_post(headers: &HeaderMap) -> bool {
    headers.get(ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"))
}

/// Ends a server function that backs a form. On success the browser goes to `success` (a full
/// page load, with or without JavaScript). On failure a fetch call gets the typed error with its
/// status; a plain form post is sent back to `failure_page` with `error=<code>` (303), which the
/// page turns back into the message (`components::form::form_error`).
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
