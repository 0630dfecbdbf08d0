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

use serde::{Deserialize, Serialize};

/// What an account may do. `viewer` is a read-only operator (room for the dashboard's
/// read-only role); `admin` may change things there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Admin,
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Admin => "admin",
            Self::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "customer" => Some(Self::Customer),
            "admin" => Some(Self::Admin),
            "viewer" => Some(Self::Viewer),
            _ => None,
        }
    }
}
