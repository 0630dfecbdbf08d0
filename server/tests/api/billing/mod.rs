//! Billing against the offline Stripe sandbox: the catalogue synced to Stripe.

mod catalogue;
