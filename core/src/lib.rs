//! Billhook's server-only domain layer: storage on SQLite or PostgreSQL, accounts, login
//! throttling and the session store. Nothing here is compiled to WASM; the Leptos server functions
//! in `app` are thin wrappers over these functions.

pub mod accounts;
pub mod canary;
pub mod clock;
pub mod custom_domains;
pub mod db;
pub mod email;
pub mod events;
pub mod exports;
pub mod jobs;
pub mod sessions;
pub mod stripe_api;
pub mod webhooks;

pub use db::{Db, DbKind};
