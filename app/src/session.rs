//! Who is signed in, as both halves of the app see it: the server resolves it once per request
//! (`crate::ssr::request_user`), the page carries it to the browser, and every component reads it
//! with [`use_current_user`]. Changing it is the log-in, sign-up and log-out server functions'
//! job (`routes::public`, `components::layout`).

use billhook_model::Role;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The signed-in account, as the pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: i64,
    pub email: String,
    pub role: Role,
}

impl SessionUser {
    /// May act in the operators' area (retry, discard, process again, the sandbox's controls).
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// May look at the operators' area (`/admin`): an admin or a read-only viewer.
    pub fn is_operator(&self) -> bool {
        self.role.is_operator()
    }
}

/// The request's signed-in account (or none). The server's session middleware puts it in the
/// request extensions once per request; pages and server functions read it from there.
#[derive(Debug, Clone, Default)]
pub struct CurrentUser(pub Option<SessionUser>);

/// Context: the account this page was rendered for.
#[derive(Debug, Clone, Copy)]
struct UserContext(Signal<Option<SessionUser>>);

/// Makes the signed-in account available to every component. Computed on the server from the
/// request and serialised into the page, so hydration sees exactly what the server rendered.
pub fn provide_current_user() {
    let shared = leptos::server::SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        {
            crate::ssr::request_user()
        }
        #[cfg(not(feature = "ssr"))]
        {
            None::<SessionUser>
        }
    });
    let user = shared.into_inner();
    provide_context(UserContext(Signal::stored(user)));
}

/// The signed-in account, if any.
pub fn use_current_user() -> Signal<Option<SessionUser>> {
    use_context::<UserContext>().map(|c| c.0).unwrap_or_else(|| Signal::stored(None))
}

/// A `next` target is followed only if it is a path on this site (no open redirect): it starts
/// with one `/`, holds no control character (browsers drop tabs and newlines, so `/<TAB>/evil`
/// becomes `//evil`; a newline cannot be a header) and no backslash (read as `/`), neither as
/// written nor percent-decoded (`/%2F/evil`, `/%5Cevil`), and is a valid URI path.
pub fn safe_next(next: &str, default: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(next).decode_utf8_lossy();
    let clean = |text: &str| !text.chars().any(|c| c.is_control() || c == '\\');
    let local = next.starts_with('/')
        && !decoded.starts_with("//")
        && clean(next)
        && clean(&decoded)
        && next.parse::<http::uri::PathAndQuery>().is_ok();
    if local { next.to_string() } else { default.to_string() }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next("/account", "/"), "/account");
        assert_eq!(safe_next("https://evil.example", "/"), "/");
        assert_eq!(safe_next("//evil.example", "/"), "/");
        assert_eq!(safe_next("/\\evil.example", "/"), "/");
        assert_eq!(safe_next("", "/account"), "/account");
        for attack in [
            "/\tevil.example",
            "/\t/evil.example",
            "/\n",
            "/\r\nLocation: https://evil.example",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "/%5Cevil.example",
            "/%09/evil.example",
            "\\\\evil.example",
            "http:evil.example",
            "javascript:alert(1)",
        ] {
            assert_eq!(safe_next(attack, "/account"), "/account", "{attack:?}");
        }
        assert_eq!(safe_next("/account/billing?tab=invoices", "/"), "/account/billing?tab=invoices");
        assert_eq!(safe_next("/admin/jobs?queue=email&state=Failed", "/"), "/admin/jobs?queue=email&state=Failed");
    }
}
