//! `/admin/outbox`: the newest messages Billhook sent or kept (without an SMTP server, the outbox
//! is where mail goes - the offline demo reads its links here), optionally to one address; each
//! opens as its recipient reads it (`/admin/outbox/{id}`, see `outbox_mail`).

use billhook_model::Timestamp;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{data::Loaded, time::Time},
};

/// One message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub at: Timestamp,
}

/// The newest 100 messages, to `to` if given. Operators only.
#[server(endpoint = "admin_outbox")]
pub async fn outbox(to: Option<String>) -> Result<Vec<Mail>, AppError> {
    use crate::ssr::{fail, require_operator, state};
    let result: Result<_, AppError> = async {
        require_operator()?;
        let to = to.filter(|t| !t.trim().is_empty());
        let mails = billhook_core::email::outbox(&state()?.db, to.as_deref().map(str::trim), 100)
            .await
            .map_err(|e| AppError::internal("reading the outbox failed", e))?;
        Ok(mails
            .into_iter()
            .map(|m| Mail {
                id: m.id,
                to: m.recipient,
                subject: m.subject,
                body: m.body,
                status: m.status,
                at: Timestamp(m.created_at),
            })
            .collect())
    }
    .await;
    result.or_else(fail)
}

#[component]
pub fn OutboxPage() -> impl IntoView {
    let query = use_query_map();
    let mails = Resource::new(move || query.with(|q| q.get("to")), outbox);
    view! {
        <Title text="Outbox - Billhook" />
        <h1>"Outbox"</h1>
        <form method="get" action="/admin/outbox" class="inline">
            <label>"To " <input type="email" name="to" value=move || query.with(|q| q.get("to")) /></label>
            <button type="submit">"Filter"</button>
        </form>
        <Loaded resource=mails let:list>
            {if list.is_empty() {
                view! { <p>"No messages."</p> }.into_any()
            } else {
                list.into_iter().map(|mail| view! {
                    <article class="card mail" data-testid="mail">
                        <p class="hint"><Time at=mail.at />{format!(" to {} ({})", mail.to, mail.status)}</p>
                        <h2 data-testid="mail-subject"><a href=format!("/admin/outbox/{}", mail.id)>{mail.subject}</a></h2>
                        <pre data-testid="mail-body">{mail.body}</pre>
                    </article>
                }).collect_view().into_any()
            }}
        </Loaded>
    }
}
