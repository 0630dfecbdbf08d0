//! Pages anyone may see: the start page, log-in and sign-up. Lazy routes as well: a visitor's
//! first download holds the frame, and the page's own chunk is preloaded with the HTML.

mod home;
mod login;
mod signup;

lazy_pages!(
    Home => home::HomePage,
    Login => login::LoginPage,
    Signup => signup::SignupPage,
);
