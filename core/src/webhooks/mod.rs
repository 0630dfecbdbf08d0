//! Stripe webhook deliveries: signature verification, the envelope, the inbox that stores each
//! delivery before it is acknowledged, the bound on the processing backlog, the refused
//! deliveries (noted in memory, written for the cluster in bounded batches), and the stored
//! record of unusable ones.

mod backlog;
mod event;
mod inbox;
pub mod refused;
mod signature;
mod unusable;

pub use backlog::{BACKLOG_EVERY, Backlog};
pub use event::{EnvelopeError, EventEnvelope};
pub use inbox::{Delivery, InboxError, InboxOptions, Recorded, WebhookInbox};
pub use refused::{RefusedDeliveries, RefusedDelivery};
pub use signature::{SignatureError, WebhookVerifier, sign};
pub use unusable::keep_unusable;
