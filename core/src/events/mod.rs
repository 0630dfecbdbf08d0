//! Processing stored Stripe events: which events have a handler (and so a queue), the handler
//! contract, and the customer/subscription mirror that proves it.
//!
//! The contract: a handler runs inside the transaction that marks its event `processed`, so its
//! effect and that mark commit together - a job that dies before the commit leaves no effect, a
//! job re-run after it finds the event already processed. Handlers must also be out-of-order
//! safe: an event never overwrites state derived from a newer one (each mirror row remembers the
//! `created` and id of the event it came from, and an upsert only applies a newer one).

mod mirror;
mod process;
pub mod reconcile;

pub use billhook_model::EventStatus;
pub use process::{ProcessError, ProcessOutcome, process_event};

/// The queue an event type is processed on, or None: no handler, stored and marked `ignored`.
pub fn queue_for(event_type: &str) -> Option<&'static str> {
    match event_type {
        "customer.created" | "customer.updated" | "customer.deleted" => Some(crate::jobs::CUSTOMERS_QUEUE),
        t if t.starts_with("customer.subscription.") => Some(crate::jobs::SUBSCRIPTIONS_QUEUE),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::queue_for;

    #[test]
    fn events_with_a_handler_have_a_queue_and_others_are_ignored() {
        assert_eq!(queue_for("customer.updated"), Some("stripe.customers"));
        assert_eq!(queue_for("customer.subscription.deleted"), Some("stripe.subscriptions"));
        assert_eq!(queue_for("plan.created"), None);
        assert_eq!(queue_for("something.new.from.stripe"), None);
    }
}
