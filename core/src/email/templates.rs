//! The messages Billhook sends, as plain text.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "template", rename_all = "snake_case")]
pub enum Template {
    Welcome,
    Receipt {
        invoice_id: String,
        amount_minor: i64,
        currency: String,
    },
    PaymentFailed {
        invoice_id: String,
        /// The page where the customer pays it with another card (absent in older jobs).
        #[serde(default)]
        path: Option<String>,
    },
    /// A renewal needs the customer to authenticate (3-D Secure): `path` is the page that
    /// completes the payment.
    PaymentActionRequired {
        path: String,
    },
    SubscriptionCancelled {
        plan: String,
    },
    ExportReady {
        path: String,
    },
}

fn money(amount_minor: i64, currency: &str) -> String {
    format!("{}.{:02} {}", amount_minor / 100, (amount_minor % 100).abs(), currency.to_uppercase())
}

impl Template {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Welcome => "welcome",
            Self::Receipt { .. } => "receipt",
            Self::PaymentFailed { .. } => "payment_failed",
            Self::PaymentActionRequired { .. } => "payment_action_required",
            Self::SubscriptionCancelled { .. } => "subscription_cancelled",
            Self::ExportReady { .. } => "export_ready",
        }
    }

    /// Subject and body; links are `base_url` + path.
    pub fn render(&self, base_url: &str) -> (String, String) {
        let sign_off = "\n\n-- \nBillhook";
        match self {
            Self::Welcome => (
                "Welcome to Billhook".into(),
                format!("Your account is ready. Choose a plan at {base_url}/account{sign_off}"),
            ),
            Self::Receipt { invoice_id, amount_minor, currency } => (
                format!("Receipt for {}", money(*amount_minor, currency)),
                format!(
                    "We received your payment of {} (invoice {invoice_id}). Thank you!{sign_off}",
                    money(*amount_minor, currency)
                ),
            ),
            Self::PaymentFailed { invoice_id, path } => (
                "Your payment failed".into(),
                format!(
                    "We could not collect the payment for invoice {invoice_id}. Please pay it with another card at {base_url}{}{sign_off}",
                    path.as_deref().unwrap_or("/account/invoices")
                ),
            ),
            Self::PaymentActionRequired { path } => (
                "Please confirm your payment".into(),
                format!("Your bank asks you to confirm this payment. Complete it here: {base_url}{path}{sign_off}"),
            ),
            Self::SubscriptionCancelled { plan } => (
                format!("Your {plan} subscription is cancelled"),
                format!(
                    "Your {plan} subscription has been cancelled. You can subscribe again at {base_url}/account{sign_off}"
                ),
            ),
            Self::ExportReady { path } => (
                "Your data export is ready".into(),
                format!(
                    "Download your data (the link works while you are logged in, for 7 days): {base_url}{path}{sign_off}"
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_renders_a_subject_and_a_body_with_working_links() {
        let all = [
            Template::Welcome,
            Template::Receipt { invoice_id: "in_1".into(), amount_minor: 2905, currency: "eur".into() },
            Template::PaymentFailed { invoice_id: "in_1".into(), path: Some("/account/invoices/in_1/pay".into()) },
            Template::PaymentActionRequired { path: "/account/invoices/in_1/pay".into() },
            Template::SubscriptionCancelled { plan: "Basic".into() },
            Template::ExportReady { path: "/account/exports/1".into() },
        ];
        for template in all {
            let (subject, body) = template.render("https://billing.example.com");
            assert!(!subject.is_empty() && !body.is_empty(), "{}", template.name());
        }
        let (subject, _) =
            Template::Receipt { invoice_id: "in_1".into(), amount_minor: 2905, currency: "eur".into() }.render("");
        assert_eq!(subject, "Receipt for 29.05 EUR");
        let (_, body) =
            Template::PaymentActionRequired { path: "/account/invoices/in_1/pay".into() }.render("https://b.example");
        assert!(body.contains("https://b.example/account/invoices/in_1/pay"));
    }
}
