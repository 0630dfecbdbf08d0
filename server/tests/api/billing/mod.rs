//! Billing against the offline Stripe sandbox: the catalogue synced to Stripe, subscribing.

mod catalogue;
mod subscribe;
