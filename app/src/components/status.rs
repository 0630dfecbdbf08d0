//! How a status is shown: its label in a badge whose class names the status (`badge-ready`), so
//! the style sheet can colour it. Pages match on the model's enums; none compares status strings.

use billhook_model::{CertificateStatus, EventStatus, ExportStatus, InvoiceStatus, SubscriptionStatus};
use leptos::prelude::*;

/// A status a page shows.
pub trait Status: Copy + Send + Sync + 'static {
    /// The stored name (also the CSS modifier: `badge-ready`).
    fn name(self) -> &'static str;
    /// What the user reads.
    fn label(self) -> &'static str;
}

macro_rules! labelled_status {
    ($($status:ty),+) => {$(
        impl Status for $status {
            fn name(self) -> &'static str {
                self.as_str()
            }

            fn label(self) -> &'static str {
                <$status>::label(self)
            }
        }
    )+};
}

labelled_status!(CertificateStatus, EventStatus, ExportStatus, InvoiceStatus, SubscriptionStatus);

#[component]
pub fn StatusBadge<S: Status>(status: S) -> impl IntoView {
    view! { <span class=format!("badge badge-{}", status.name())>{status.label()}</span> }
}
