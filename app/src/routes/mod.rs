//! The app by URL area. Each area's `mod.rs` declares its routes (a transparent component the
//! router nests, as leptos' examples/router) and its guard; each page file holds the page, its
//! sections and the server functions they call (shared ones would go in the area's `api.rs`).

pub mod account;
pub mod dashboard;
pub mod public;

use leptos::prelude::*;
use leptos_router::{components::Outlet, hooks::use_location};

use crate::{
    SessionUser,
    components::errors::{Forbidden, LoginRequired},
    session::use_current_user,
};

/// What an area's parent route renders: its pages for an account `admits`; the log-in page (a
/// 302 on the server) for a visitor; the 403 page for anyone else. This decides what is shown
/// only: the area's server functions check the account themselves (`ssr::guards`).
fn guarded(admits: fn(&SessionUser) -> bool) -> impl IntoView {
    let user = use_current_user();
    let location = use_location();
    move || match user.get() {
        Some(user) if admits(&user) => Outlet().into_any(),
        Some(_) => Forbidden().into_any(),
        None => view! { <LoginRequired next=location.pathname.get_untracked() /> }.into_any(),
    }
}
