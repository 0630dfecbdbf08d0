//! What crosses the wire between Billhook's server and its pages: who an account is ([`Role`]),
//! every status a page shows, the one time type ([`Timestamp`]) and the [`Catalogue`] of
//! subscription types. No server dependency, so the
//! same types compile into the server (with `ssr`, which adds their `sqlx` encoding as TEXT or
//! INTEGER) and into the browser's WASM: a page matches on a status, never compares strings.

pub mod catalogue;
mod role;
mod status;
mod time;
mod window;

pub use catalogue::{Catalogue, CataloguePrice, Interval, SubscriptionType, format_amount};
pub use role::Role;
pub use status::{CertificateStatus, EventStatus, ExportStatus, InvoiceStatus, SubscriptionStatus, UnknownValue};
pub use time::Timestamp;
pub use window::ChartWindow;

/// apalis' job states, as its tables name them (the operators' filters offer these).
pub const JOB_STATES: [&str; 6] = ["Pending", "Queued", "Running", "Done", "Failed", "Killed"];

/// A job's argument values longer than this are not indexed, so not found by the operators'
/// search inside the arguments.
pub const MAX_SEARCHABLE_ARGUMENT_CHARS: usize = 200;
