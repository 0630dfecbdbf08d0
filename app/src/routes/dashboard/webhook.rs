//! `/admin/webhooks/{event id}`: one stored event - its payload as Stripe sent it (indented), the
//! delivery's headers, how often and when it arrived, where its processing stands, the jobs it
//! set off with every attempt - and, for admins, "Process again".

use billhook_model::{EventStatus, Timestamp};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use super::job::{AttemptLine, AttemptTable};
use crate::{
    AppError,
    components::{
        data::Loaded,
        form::{ErrorNote, form_error},
        status::StatusBadge,
        table::Table,
        time::Time,
    },
    session::use_current_user,
};

/// Everything stored of one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    pub id: String,
    pub event_type: String,
    pub status: EventStatus,
    pub error: Option<String>,
    pub object_id: Option<String>,
    pub api_version: Option<String>,
    /// Stripe's stamp.
    pub created: Timestamp,
    pub received_at: Timestamp,
    pub last_received_at: Timestamp,
    pub delivery_count: i64,
    pub source: String,
    pub status_changed_at: Option<Timestamp>,
    pub processed_count: i64,
    pub queue: Option<String>,
    pub headers: Vec<(String, String)>,
    pub payload: String,
    /// The jobs it set off (its processing, then what that queued), each with its attempts.
    pub jobs: Vec<CausedJob>,
}

/// A job an event set off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CausedJob {
    pub id: String,
    pub queue: String,
    pub status: String,
    pub dead: bool,
    pub history: Vec<AttemptLine>,
}

/// Stored event `id`. Operators only.
#[server(endpoint = "admin_webhook")]
pub async fn admin_webhook(id: String) -> Result<EventView, AppError> {
    use billhook_core::{
        dashboard::{jobs, webhooks},
        jobs::Cause,
    };

    use crate::ssr::{fail, require_operator, state};
    let result: Result<_, AppError> = async {
        require_operator()?;
        let db = &state()?.db;
        let d = webhooks::detail(db, &id).await?.ok_or(AppError::NotFound)?;
        let jobs = jobs::caused_by(db, Cause::Event(&id))
            .await?
            .into_iter()
            .map(|(row, attempts)| CausedJob {
                dead: row.is_dead(),
                id: row.id,
                queue: row.queue,
                status: row.status,
                history: attempts.into_iter().map(AttemptLine::from).collect(),
            })
            .collect();
        Ok(EventView {
            jobs,
            id: d.row.id,
            event_type: d.row.event_type,
            status: d.row.status,
            error: d.row.error,
            object_id: d.row.object_id,
            api_version: d.api_version,
            created: Timestamp(d.row.created * 1000),
            received_at: Timestamp(d.row.received_at),
            last_received_at: Timestamp(d.last_received_at),
            delivery_count: d.row.delivery_count,
            source: d.row.source,
            status_changed_at: d.status_changed_at.map(Timestamp),
            processed_count: d.processed_count,
            queue: d.queue.map(str::to_owned),
            headers: d.headers,
            payload: d.payload,
        })
    }
    .await;
    result.or_else(fail)
}

/// Queues event `id`'s handler again. Admins only; recorded in the audit log.
#[server(endpoint = "admin_process_again")]
pub async fn process_again(id: String) -> Result<(), AppError> {
    use billhook_core::dashboard::webhooks;
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

    use crate::ssr::{finish_form, require_admin, state};
    let page = format!("/admin/webhooks/{}", utf8_percent_encode(&id, NON_ALPHANUMERIC));
    let result = async {
        let actor = require_admin()?;
        webhooks::process_again(&state()?.db, &actor, &id).await?;
        Ok(())
    }
    .await;
    finish_form(result, &page, &page)
}

#[component]
pub fn WebhookPage() -> impl IntoView {
    let params = use_params_map();
    let again = ServerAction::<ProcessAgain>::new();
    let event = Resource::new(
        move || (params.with(|p| p.get("id").unwrap_or_default()), again.version().get()),
        |(id, _)| admin_webhook(id),
    );
    view! {
        <Title text="Webhook event - Billhook" />
        <ErrorNote message=form_error(move || again.value().get()) />
        <Loaded resource=event let:event>
            <EventDetail event again />
        </Loaded>
        <p><a href="/admin/webhooks">"All events"</a></p>
    }
}

#[component]
fn EventDetail(event: EventView, again: ServerAction<ProcessAgain>) -> impl IntoView {
    let admin = use_current_user().get_untracked().is_some_and(|u| u.is_admin());
    let can_run = admin && event.queue.is_some();
    let id = event.id.clone();
    view! {
        <h1><code data-testid="event-id">{event.id.clone()}</code></h1>
        <section class="card">
            <dl>
                <dt>"Type"</dt><dd>{event.event_type}</dd>
                <dt>"Status"</dt><dd data-testid="event-status"><StatusBadge status=event.status />
                    {event.error.map(|e| view! { <p class="error">{e}</p> })}</dd>
                <dt>"Object"</dt><dd><code>{event.object_id.unwrap_or_default()}</code></dd>
                <dt>"Created at Stripe"</dt><dd><Time at=event.created /></dd>
                <dt>"Received"</dt><dd><Time at=event.received_at />{format!(" ({} deliveries, last ", event.delivery_count)}<Time at=event.last_received_at />")"</dd>
                <dt>"Source"</dt><dd>{event.source}</dd>
                <dt>"API version"</dt><dd>{event.api_version.unwrap_or_default()}</dd>
                <dt>"Handler"</dt><dd>{event.queue.map_or_else(|| "none (ignored)".to_owned(), |q| format!("queue {q}"))}
                    {format!("; effect committed {} time(s)", event.processed_count)}
                    {event.status_changed_at.map(|at| view! { "; status changed " <Time at /> })}</dd>
            </dl>
            {can_run.then(|| view! {
                <ActionForm action=again attr:class="inline">
                    <input type="hidden" name="id" value=id />
                    <button type="submit" data-testid="process-again">"Process again"</button>
                </ActionForm>
            })}
        </section>
        <section class="card">
            <h2>"Jobs it caused"</h2>
            {if event.jobs.is_empty() {
                view! { <p>"None recorded."</p> }.into_any()
            } else {
                view! {
                    <ol class="caused" data-testid="caused-jobs">
                        {event.jobs.into_iter().map(|job| view! {
                            <li data-testid="caused-job">
                                <a href=format!("/admin/jobs/{}", job.id)><code>{job.id.clone()}</code></a>
                                " on "<code>{job.queue}</code>": "
                                <span data-testid="caused-job-status">{job.status}</span>
                                {job.dead.then_some(" (dead)")}
                                <AttemptTable history=job.history />
                            </li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </section>
        <section class="card">
            <h2>"Headers"</h2>
            <Table columns=&["Name", "Value"] testid="event-headers">
                {event.headers.into_iter().map(|(name, value)| view! { <tr><td>{name}</td><td><code>{value}</code></td></tr> }).collect_view()}
            </Table>
        </section>
        <section class="card">
            <h2>"Payload"</h2>
            <pre data-testid="event-payload">{event.payload}</pre>
        </section>
    }
}
