//! `GET /account/exports/{id}`: a finished data export, for its owner only, until it expires.

use app::{AppState, CurrentUser};
use axum::{
    Extension,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};

pub async fn download(
    State(state): State<AppState>,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Response {
    let Some(user) = user else {
        return Redirect::to(&format!("/login?next=/account/exports/{id}")).into_response();
    };
    match billhook_core::exports::download(&state.db, user.id, &id).await {
        // Someone else's, unknown, unfinished and expired exports all look the same.
        Ok(None) => (StatusCode::NOT_FOUND, "No such export (or it has expired).").into_response(),
        Ok(Some(archive)) => (
            [
                (header::CONTENT_TYPE, "application/json".to_owned()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"billhook-export-{id}.json\"")),
                (header::CACHE_CONTROL, "private, no-store".to_owned()),
            ],
            archive,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "could not read a data export");
            (StatusCode::SERVICE_UNAVAILABLE, "Try again later.").into_response()
        }
    }
}
