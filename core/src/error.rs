//! Billhook's error policy for the domain layer, and how errors travel outward.
//!
//! | layer | returns | who logs |
//! |---|---|---|
//! | a core module's public function (`accounts`, `exports`, `custom_domains`, `events`, `webhooks`, `email`, `canary`, ...) | that module's own `thiserror` enum: one variant per case a caller can act on (`NotFound`, `Invalid`, `Taken`, `Throttled`, ...) and `Database(sqlx::Error)` / `Enqueue(EnqueueError)` for the infrastructure below | nobody: the error carries its cause up |
//! | a job's `run` (`jobs::*`) | its domain module's error, which implements [`JobError`](crate::jobs::JobError) to say whether another attempt can help | the job runner, once per attempt, and `job_attempts` keeps it |
//! | a server function (`app`) | `app::AppError`: a safe message for the browser | `From<core error> for AppError` logs the cause once, so a server function is `?` |
//! | an axum handler (`server::http`) | a response with a stable error code | the handler, at the point it answers |
//! | start-up, the CLI, the scheduler's periodic tasks | `anyhow::Result` with `.context(..)` | `main` / the scheduler prints the chain |
//!
//! Rules: no `anyhow` below the CLI, start-up and scheduler; no error squeezed into another
//! library's type (an enqueue failure is an [`EnqueueError`], not a `sqlx::Error`); the text a
//! user sees is written once, in `app::AppError`, never taken from a core error's `Display`
//! (which is for operators and may name internals).

pub use crate::jobs::EnqueueError;
