//! `/admin/outbox/{id}`: one message of the outbox as its recipient reads it - the headers, then
//! the body. Billhook sends plain text only (`text/plain`, see `billhook_core::email`), so the body
//! is shown as text, never interpreted as HTML. Read-only.

use billhook_model::Timestamp;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{data::Loaded, time::Time},
};

/// One message, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailView {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// The template it was made from (`welcome`, `receipt`, ...).
    pub template: String,
    /// Handed to the SMTP server; else kept in the outbox (no SMTP server configured).
    pub sent: bool,
    pub at: Timestamp,
}

/// Outbox message `id`. Operators only.
#[server(endpoint = "admin_outbox_mail")]
pub async fn admin_outbox_mail(id: String) -> Result<MailView, AppError> {
    use billhook_core::dashboard::outbox;

    use crate::ssr::{fail, require_operator, state};
    let result: Result<_, AppError> = async {
        require_operator()?;
        let m = outbox::get(&state()?.db, &id).await?.ok_or(AppError::NotFound)?;
        Ok(MailView {
            id: m.id,
            to: m.recipient,
            subject: m.subject,
            body: m.body,
            template: m.template,
            sent: m.status == "sent",
            at: Timestamp(m.created_at),
        })
    }
    .await;
    result.or_else(fail)
}

#[component]
pub fn OutboxMailPage() -> impl IntoView {
    let params = use_params_map();
    let mail = Resource::new(move || params.with(|p| p.get("id").unwrap_or_default()), admin_outbox_mail);
    view! {
        <Title text="Mail - Billhook" />
        <Loaded resource=mail let:mail>
            <article class="card mail" data-testid="mail">
                <dl class="mail-headers">
                    // The sender is the configuration's, not stored with each message.
                    <dt>"From"</dt><dd>"Billhook's sender ("<code>"BILLHOOK_EMAIL_FROM"</code>")"</dd>
                    <dt>"To"</dt><dd data-testid="mail-to">{mail.to}</dd>
                    <dt>"Subject"</dt><dd data-testid="mail-subject">{mail.subject}</dd>
                    <dt>"Date"</dt><dd><Time at=mail.at /></dd>
                    <dt>"Message-ID"</dt><dd><code>{format!("<{}@billhook>", mail.id)}</code></dd>
                </dl>
                <pre data-testid="mail-body">{mail.body}</pre>
                <p class="hint">{format!(
                    "Template {}; {}.",
                    mail.template,
                    if mail.sent { "handed to the SMTP server" } else { "kept in the outbox (no SMTP server)" },
                )}</p>
            </article>
        </Loaded>
        <p><a href="/admin/outbox">"All messages"</a></p>
    }
}
