//! Customer and operator accounts: sign-up, log-in with throttling, roles.

mod email;
mod password;
mod repo;
mod service;
mod throttle;

pub use email::Email;
pub use password::{Password, PasswordHash};
pub use service::{AccountError, Accounts, User};
pub use throttle::ThrottlePolicy;

/// What an account may do: the wire type shared with the pages.
pub use billhook_model::Role;
