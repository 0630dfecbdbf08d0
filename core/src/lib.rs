//! Billhook's server-only domain layer, never compiled to WASM. The Leptos server functions in
//! `app` and the `server` binary are thin wrappers over it.
//!
//! - storage: [`db`] (one [`Db`] handle and [`db::Tx`] over SQLite or PostgreSQL, `on_db!`/`on_tx!`);
//! - people: [`accounts`] (sign-up, log-in, throttling), [`sessions`] (the session store);
//! - Stripe: [`webhooks`] (verify, store, acknowledge), [`events`] (process stored events,
//!   reconcile missed ones), [`stripe_api`] (the API client);
//! - what customers get: [`custom_domains`] (ACME certificates), [`exports`], [`email`];
//! - work in the background: [`jobs`] (the `Job` trait, one file per job, workers, the
//!   scheduler), [`canary`] (proving the queues work);
//! - [`error`]: which error type each layer returns, and who logs it.

pub mod accounts;
pub mod activity;
pub mod billing;
pub mod canary;
pub mod clock;
pub mod custom_domains;
pub mod dashboard;
pub mod db;
pub mod email;
pub mod error;
pub mod events;
pub mod exports;
pub mod jobs;
pub mod load;
pub mod nodes;
pub mod periodic;
pub mod sessions;
pub mod stripe_api;
pub mod webhooks;

pub use db::{Db, DbKind};
