//! Processing stored Stripe events: which events have a handler (and so a queue), the handler
//! contract, the mirror of Stripe's billing objects, and what billing events set in motion
//! (e-mails, follow-up work: [`reactions`]).
//!
//! The contract: a handler runs inside the transaction that marks its event `processed`, so its
//! effect and that mark commit together - a job that dies before the commit leaves no effect, a
//! job re-run after it finds the event already processed. Handlers must also be out-of-order
//! safe: an event never overwrites state derived from a newer one (each mirror row remembers the
//! `created` and id of the event it came from, and an upsert only applies a newer one); two
//! events of one second are settled by reading the object from Stripe ([`refresh`]).

mod mirror;
mod process;
mod reactions;
pub mod reconcile;
mod refresh;

pub use billhook_model::EventStatus;
pub use mirror::{MirroredKind, READ_FROM_STRIPE};
pub use process::{ProcessError, ProcessOutcome, process_event};
pub use reactions::payment_path;
pub use refresh::{RefreshError, Refreshed, refresh, store_read};

/// The queue an event type is processed on, or None: no handler, stored and marked `ignored`.
pub fn queue_for(event_type: &str) -> Option<&'static str> {
    MirroredKind::of_event(event_type).map(MirroredKind::queue)
}

#[cfg(test)]
mod tests {
    use super::queue_for;

    #[test]
    fn events_with_a_handler_have_a_queue_and_others_are_ignored() {
        assert_eq!(queue_for("customer.updated"), Some("stripe.customers"));
        assert_eq!(queue_for("customer.subscription.deleted"), Some("stripe.subscriptions"));
        assert_eq!(queue_for("invoice.payment_action_required"), Some("stripe.invoices"));
        assert_eq!(queue_for("setup_intent.succeeded"), Some("stripe.payments"));
        assert_eq!(queue_for("payment_method.detached"), Some("stripe.payments"));
        assert_eq!(queue_for("invoiceitem.created"), None);
        assert_eq!(queue_for("plan.created"), None);
        assert_eq!(queue_for("something.new.from.stripe"), None);
    }
}
