//! One file per page family.

pub mod account;
pub mod admin;
pub mod errors;
mod form;
pub mod home;
pub mod login;
pub mod signup;
