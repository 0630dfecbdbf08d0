//! Server-side request helpers for server functions and pages (compiled with `ssr` only): the
//! application state and the request's context ([`context`]), authorisation ([`guards`]), and the
//! finishing of form posts ([`forms`]). A server function reads like the style guide's "flow of a
//! request": `state()?`, `require_user()?`, a core call with `?` (see `crate::error` for the
//! policy), then `finish_form` if a form posts to it.

pub mod context;
pub mod forms;
pub mod guards;
pub mod state;

pub use context::{ClientIp, USER_ID_KEY, client_ip, load_session_user, request_user, session, sign_in_session, state};
pub use forms::finish_form;
pub use guards::{fail, require_admin, require_operator, require_role, require_user};
pub use state::{AppState, Billing, Operations, StripeJs, Webhooks};
