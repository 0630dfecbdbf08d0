//! The hosted invoice page an invoice's `hosted_invoice_url` leads to: what Stripe's page shows
//! (number, customer, lines, total, status) and, while the invoice is open, a way to pay it with
//! the Stripe.js stand-in. Like Stripe's, it is reached by its link alone.

use axum::{
    extract::{Path, State},
    response::{Html, IntoResponse, Response},
};
use billhook_model::{InvoiceStatus, format_amount};
use serde_json::Value;

use super::escape_html;
use crate::Sandbox;

/// The invoice's page.
pub fn url(sandbox: &Sandbox, id: &str) -> String {
    format!("{}/invoices/{id}", sandbox.public_base)
}

pub async fn page(State(sandbox): State<Sandbox>, Path(id): Path<String>) -> Response {
    let invoice = match sandbox.store.get("invoice", &id, "id").await {
        Ok(invoice) => invoice,
        Err(e) => return e.into_response(),
    };
    let currency = invoice["currency"].as_str().unwrap_or("eur");
    let money = |amount: &Value| format_amount(amount.as_i64().unwrap_or_default(), currency);
    let lines: String = invoice["lines"]["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|line| {
            format!(
                "<tr><td>{}</td><td class=\"amount\">{}</td></tr>",
                escape_html(line["description"].as_str().unwrap_or("")),
                money(&line["amount"])
            )
        })
        .collect();
    let status = invoice["status"].as_str().and_then(|s| InvoiceStatus::parse(s).ok()).unwrap_or(InvoiceStatus::Draft);
    let pay = match invoice.pointer("/confirmation_secret/client_secret").and_then(Value::as_str) {
        Some(secret) if status == InvoiceStatus::Open => format!(
            "<p><a class=\"pay\" href=\"{}/js/try?client_secret={}\">Pay this invoice</a></p>",
            sandbox.public_base,
            escape_html(secret)
        ),
        _ => String::new(),
    };
    Html(format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Invoice {number}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1a1f36}}
table{{width:100%;border-collapse:collapse}}td{{padding:.4rem 0;border-bottom:1px solid #e3e8ee}}.amount{{text-align:right}}
.pay{{display:inline-block;background:#635bff;color:#fff;padding:.6rem 1rem;border-radius:6px;text-decoration:none}}</style></head>
<body><p>Billhook's offline Stripe sandbox</p><h1>Invoice {number}</h1>
<p>For {email}. Status: <strong data-testid="invoice-status">{status}</strong></p>
<table>{lines}<tr><td><strong>Total</strong></td><td class="amount"><strong>{total}</strong></td></tr>
<tr><td>Amount due</td><td class="amount">{due}</td></tr></table>{pay}</body></html>"#,
        number = escape_html(invoice["number"].as_str().unwrap_or(&id)),
        email = escape_html(invoice["customer_email"].as_str().unwrap_or("the customer")),
        status = status.as_str(),
        total = money(&invoice["total"]),
        due = money(&invoice["amount_remaining"]),
    ))
    .into_response()
}
