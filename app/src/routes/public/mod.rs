//! Pages anyone may see: the start page, log-in and sign-up.

mod home;
mod login;
mod signup;

use leptos::prelude::*;
use leptos_router::{MatchNestedRoutes, components::Route, path};

#[component(transparent)]
pub fn PublicRoutes() -> impl MatchNestedRoutes + Clone {
    view! {
        <Route path=path!("/") view=home::HomePage />
        <Route path=path!("/login") view=login::LoginPage />
        <Route path=path!("/signup") view=signup::SignupPage />
    }
    .into_inner()
}
