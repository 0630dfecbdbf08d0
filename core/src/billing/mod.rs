//! Billing: the catalogue synced to Stripe, customers' subscriptions, payment methods and
//! invoices. Every state shown comes from Stripe (its webhooks, or a fresh read), never from the
//! browser's word.

mod catalogue_sync;
mod customers;
mod domains;
mod invoices;
mod overview;
mod payment_methods;
mod plan_change;
mod requirements;
mod subscriptions;

pub use catalogue_sync::{SyncReport, sync_catalogue};
pub use customers::{customer_of, ensure_customer, owner_of};
pub use domains::{add_custom_domain, custom_domains_allowed};
pub use invoices::{
    InvoicePayment, InvoiceSummary, PaymentStep, WaitingInvoice, invoice_payment, invoices, invoices_waiting,
};
pub use overview::{SubscriptionSummary, overview, set_cancel_at_period_end};
pub use payment_methods::{SavedCard, default_card, finish_card_replacement, start_card_replacement};
pub use plan_change::{PlanChangePreview, change_plan, preview_plan_change};
pub use requirements::enforce_requirements;
pub use subscriptions::{
    Customer, FirstPayment, own_subscription, payment_failure, status_of, subscribe, subscriptions_at_stripe, type_of,
};

use crate::stripe_api::StripeApiError;

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error(transparent)]
    Catalogue(#[from] billhook_model::catalogue::CatalogueError),
    #[error("{0:?} is not a price in the catalogue")]
    UnknownPrice(String),
    #[error("the price {0:?} is not at Stripe yet: run `billhook stripe sync-catalog`")]
    PriceNotSynced(String),
    #[error("{wanted} needs an active {required} subscription")]
    Requires { wanted: String, required: String },
    #[error("you already have {0}")]
    AlreadyHeld(String),
    #[error(transparent)]
    Stripe(#[from] StripeApiError),
    #[error("the preview is too old: look at the change again")]
    StalePreview,
    #[error("no such object of this account")]
    NotFound,
    #[error("Stripe answered something billing cannot use: {0}")]
    Unexpected(String),
    #[error("custom domains come with an active {with} subscription")]
    DomainsNotIncluded { with: String },
    #[error(transparent)]
    Domain(#[from] crate::custom_domains::CustomDomainError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}
