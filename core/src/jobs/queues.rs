//! Every queue's name, pinned (a queue named after a Rust type would be orphaned by a rename).

pub const STRIPE_CUSTOMERS: &str = "stripe.customers";
pub const STRIPE_SUBSCRIPTIONS: &str = "stripe.subscriptions";

/// The event queues, each worked by a `ProcessEvent` worker.
pub const EVENT_QUEUES: [&str; 2] = [STRIPE_CUSTOMERS, STRIPE_SUBSCRIPTIONS];

/// Attempts before an event job is dead (kept, with every attempt's error, for operators).
pub const EVENT_MAX_ATTEMPTS: usize = 12;

/// Canary jobs (`billhook canary`, crash tests, benchmarks).
pub const SYSTEM_CANARY: &str = "system.canary";
pub const CANARY_MAX_ATTEMPTS: usize = 5;

/// Outgoing e-mail.
pub const EMAIL: &str = "email";
pub const EMAIL_MAX_ATTEMPTS: usize = 10;

/// Customers' data exports.
pub const EXPORTS: &str = "exports";
pub const EXPORT_MAX_ATTEMPTS: usize = 5;

/// Custom-domain certificates (ACME orders wait on the CA: few at a time, generous retries).
pub const CERTIFICATES: &str = "certificates";
pub const CERTIFICATE_MAX_ATTEMPTS: usize = 8;
