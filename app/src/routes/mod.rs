//! The app by URL area. Each area's `mod.rs` declares its routes (a transparent component the
//! router nests, as leptos' examples/router) and its guard; each page file holds the page, its
//! sections and the server functions they call (shared ones would go in the area's `api.rs`).

/// Declares routes whose pages the browser loads on first use: built with `cargo leptos build
/// --split`, each page's code (its views and the server-function calls only it makes) is a WASM
/// chunk of its own, fetched when its route is entered - or, for the page the server renders,
/// preloaded with it and awaited before hydration (`hydrate_lazy`). The first download then holds
/// the framework, the frame and the public pages only.
///
/// `lazy_pages!(Plans => plans::PlansPage)` declares `Plans`, routed as
/// `view={Lazy::<Plans>::new()}`. The names must be unique in the crate (they name the chunks).
macro_rules! lazy_pages {
    ($($route:ident => $page:path),+ $(,)?) => {$(
        pub struct $route;

        #[leptos_router::lazy_route]
        impl leptos_router::LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(this: Self) -> leptos::prelude::AnyView {
                let $route = this;
                leptos::prelude::IntoAny::into_any($page())
            }
        }
    )+};
}

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
