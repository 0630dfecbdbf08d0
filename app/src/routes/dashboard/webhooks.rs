//! `/admin/webhooks`: the stored Stripe events, newest first, filtered by type, status, object,
//! event id and the days they were received. The filters live in the query string (a view can be
//! bookmarked and shared); pages follow a keyset cursor, so page 1000 costs what page 1 does.

use billhook_model::{EventStatus, Timestamp};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{data::Loaded, status::StatusBadge, table::Table, time::Time},
};

/// One event in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventLine {
    pub id: String,
    pub event_type: String,
    pub status: EventStatus,
    pub object_id: Option<String>,
    pub received_at: Timestamp,
    pub delivery_count: i64,
    pub source: String,
}

/// One page of the list, and the cursor of the next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPage {
    pub events: Vec<EventLine>,
    pub next: Option<String>,
}

/// The filters as the query string carries them (empty means "any"), and the page's cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventQuery {
    pub event_type: String,
    pub status: String,
    pub object_id: String,
    pub event_id: String,
    /// `YYYY-MM-DD`, received on or after that day (UTC).
    pub from: String,
    /// `YYYY-MM-DD`, received on or before that day (UTC).
    pub to: String,
    pub before: String,
}

/// The events matching the filters (each empty or absent: any), a page at a time: `before` is
/// the cursor the previous page gave. Operators only.
#[server(endpoint = "admin_webhooks")]
pub async fn admin_webhooks(
    event_type: Option<String>,
    status: Option<String>,
    object_id: Option<String>,
    event_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
) -> Result<EventPage, AppError> {
    use billhook_core::dashboard::{Cursor, webhooks};

    use crate::ssr::{fail, require_operator, state};
    let result: Result<_, AppError> = async {
        require_operator()?;
        let filter = event_filter(&EventQuery {
            event_type: event_type.unwrap_or_default(),
            status: status.unwrap_or_default(),
            object_id: object_id.unwrap_or_default(),
            event_id: event_id.unwrap_or_default(),
            from: from.unwrap_or_default(),
            to: to.unwrap_or_default(),
            before: String::new(),
        })?;
        let before = before.filter(|c| !c.trim().is_empty()).map(|c| Cursor::parse(c.trim())).transpose()?;
        let (rows, next) = webhooks::list(&state()?.db, &filter, before.as_ref(), 50).await?;
        Ok(EventPage {
            events: rows
                .into_iter()
                .map(|r| EventLine {
                    id: r.id,
                    event_type: r.event_type,
                    status: r.status,
                    object_id: r.object_id,
                    received_at: Timestamp(r.received_at),
                    delivery_count: r.delivery_count,
                    source: r.source,
                })
                .collect(),
            next: next.map(|c| c.to_string()),
        })
    }
    .await;
    result.or_else(fail)
}

/// The filter `query` describes (each empty field: any); a status or day it cannot read is 400.
#[cfg(feature = "ssr")]
pub fn event_filter(query: &EventQuery) -> Result<billhook_core::dashboard::webhooks::EventFilter, AppError> {
    let text = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    let status = text(&query.status).map(|s| EventStatus::parse(&s).map_err(|_| AppError::Invalid)).transpose()?;
    Ok(billhook_core::dashboard::webhooks::EventFilter {
        event_type: text(&query.event_type),
        status,
        object_id: text(&query.object_id),
        event_id: text(&query.event_id),
        from: text(&query.from).map(|d| day_start(&d)).transpose()?,
        to: text(&query.to).map(|d| day_start(&d).map(|ms| ms + 86_400_000)).transpose()?,
    })
}

/// Midnight UTC of day `day` (`YYYY-MM-DD`), in unix ms.
#[cfg(feature = "ssr")]
fn day_start(day: &str) -> Result<i64, AppError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(day, &format).map_err(|_| AppError::Invalid)?;
    Ok(date.midnight().assume_utc().unix_timestamp() * 1000)
}

/// `query`'s filters as a query string (`event_type=...&status=...`; the page cursor left out).
pub fn filter_string(query: &EventQuery) -> String {
    let pairs = [
        ("event_type", &query.event_type),
        ("status", &query.status),
        ("object_id", &query.object_id),
        ("event_id", &query.event_id),
        ("from", &query.from),
        ("to", &query.to),
    ];
    pairs
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(name, value)| format!("{name}={}", utf8_percent_encode(value, NON_ALPHANUMERIC)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The list's query string with `before` set to `cursor`.
fn page_link(query: &EventQuery, cursor: &str) -> String {
    format!("/admin/webhooks?{}&before={}", filter_string(query), utf8_percent_encode(cursor, NON_ALPHANUMERIC))
}

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let params = use_query_map();
    let query = move || {
        params.with(|q| {
            let get = |name: &str| q.get(name).unwrap_or_default();
            EventQuery {
                event_type: get("event_type"),
                status: get("status"),
                object_id: get("object_id"),
                event_id: get("event_id"),
                from: get("from"),
                to: get("to"),
                before: get("before"),
            }
        })
    };
    let page = Resource::new(query, |q| {
        let some = |v: String| Some(v).filter(|v| !v.is_empty());
        admin_webhooks(
            some(q.event_type),
            some(q.status),
            some(q.object_id),
            some(q.event_id),
            some(q.from),
            some(q.to),
            some(q.before),
        )
    });
    let user = crate::session::use_current_user();
    let is_admin = move || user.get_untracked().is_some_and(|u| u.is_admin());
    let field = move |name: &'static str, label: &'static str, kind: &'static str| {
        view! {
            <label>{label}" "<input type=kind name=name value=move || params.with(|q| q.get(name)) /></label>" "
        }
    };
    view! {
        <Title text="Webhooks - Billhook" />
        <h1>"Webhooks"</h1>
        <form method="get" action="/admin/webhooks" class="filters" data-testid="webhook-filters">
            {field("event_type", "Type", "text")}
            <label>"Status "
                <select name="status">
                    <option value="">"any"</option>
                    {EventStatus::ALL.iter().map(|s| {
                        let selected = move || params.with(|q| q.get("status").as_deref() == Some(s.as_str()));
                        view! { <option value=s.as_str() selected=selected>{s.as_str()}</option> }
                    }).collect_view()}
                </select>
            </label>" "
            {field("object_id", "Object", "text")}
            {field("event_id", "Event", "text")}
            {field("from", "From", "date")}
            {field("to", "To", "date")}
            <button type="submit">"Filter"</button>
        </form>
        <Loaded resource=page let:page>
            <EventTable events=page.events />
            {is_admin().then(|| view! {
                <p>
                    <a href=format!("/admin/webhooks/bulk?{}", filter_string(&query())) class="button" data-testid="bulk-process-again">
                        "Process all that match again"
                    </a>
                </p>
            })}
            {page.next.map(|cursor| view! {
                <p><a href=page_link(&query(), &cursor) data-testid="older">"Older events"</a></p>
            })}
        </Loaded>
    }
}

#[component]
fn EventTable(events: Vec<EventLine>) -> impl IntoView {
    if events.is_empty() {
        return view! { <p>"No events match."</p> }.into_any();
    }
    view! {
        <Table columns=&["Received", "Event", "Type", "Object", "Status", "Deliveries", "Source"] testid="webhook-events">
            {events.into_iter().map(|e| view! {
                <tr>
                    <td><Time at=e.received_at /></td>
                    <td><a href=format!("/admin/webhooks/{}", e.id)><code>{e.id.clone()}</code></a></td>
                    <td>{e.event_type}</td>
                    <td><code>{e.object_id.unwrap_or_default()}</code></td>
                    <td><StatusBadge status=e.status /></td>
                    <td>{e.delivery_count}</td>
                    <td>{e.source}</td>
                </tr>
            }).collect_view()}
        </Table>
    }
    .into_any()
}
