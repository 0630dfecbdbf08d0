//! The one application state, shared by axum handlers and (as Leptos context) server functions.

use axum::extract::FromRef;
use billhook_core::{Db, accounts::Accounts};
use leptos::config::LeptosOptions;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub accounts: Accounts,
}
