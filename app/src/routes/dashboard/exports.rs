//! `/admin/exports` and `/admin/exports/{id}`: customers' data exports, newest request first in
//! keyset pages - whose they are, where they stand, their size and expiry - and one export with
//! everything stored of it but the archive (only its owner downloads that). Read-only.

use billhook_model::{ExportStatus, Timestamp};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{data::Loaded, status::StatusBadge, table::Table, time::Time},
};

/// One export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportLine {
    pub id: String,
    pub user_id: i64,
    pub email: String,
    pub status: ExportStatus,
    pub requested_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub size_bytes: Option<i64>,
    pub error: Option<String>,
}

#[cfg(feature = "ssr")]
impl From<billhook_core::dashboard::exports::ExportRow> for ExportLine {
    fn from(r: billhook_core::dashboard::exports::ExportRow) -> Self {
        Self {
            id: r.id,
            user_id: r.user_id,
            email: r.email,
            status: r.status,
            requested_at: Timestamp(r.requested_at),
            finished_at: r.finished_at.map(Timestamp),
            expires_at: r.expires_at.map(Timestamp),
            size_bytes: r.size_bytes,
            error: r.error,
        }
    }
}

/// One page of the list, and the cursor of the next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportList {
    pub exports: Vec<ExportLine>,
    pub next: Option<String>,
}

/// The newest exports, a page at a time: `before` is the cursor the previous page gave.
/// Operators only.
#[server(endpoint = "admin_exports")]
pub async fn admin_exports(before: Option<String>) -> Result<ExportList, AppError> {
    use billhook_core::dashboard::{Cursor, exports};

    use crate::ssr::{fail, require_operator, state};
    let result: Result<_, AppError> = async {
        require_operator()?;
        let before = before.filter(|c| !c.trim().is_empty()).map(|c| Cursor::parse(c.trim())).transpose()?;
        let (rows, next) = exports::list(&state()?.db, before.as_ref(), 100).await?;
        Ok(ExportList { exports: rows.into_iter().map(ExportLine::from).collect(), next: next.map(|c| c.to_string()) })
    }
    .await;
    result.or_else(fail)
}

/// Export `id` (never its archive). Operators only.
#[server(endpoint = "admin_export")]
pub async fn admin_export(id: String) -> Result<ExportLine, AppError> {
    use billhook_core::dashboard::exports;

    use crate::ssr::{fail, require_operator, state};
    let result: Result<_, AppError> = async {
        require_operator()?;
        let row = exports::get(&state()?.db, &id).await?.ok_or(AppError::NotFound)?;
        Ok(ExportLine::from(row))
    }
    .await;
    result.or_else(fail)
}

/// `1.2 MB`, `3.4 kB`, `512 B` (rounded down).
fn size(bytes: i64) -> String {
    match bytes {
        b if b >= 1_000_000 => format!("{}.{} MB", b / 1_000_000, b % 1_000_000 / 100_000),
        b if b >= 1_000 => format!("{}.{} kB", b / 1_000, b % 1_000 / 100),
        b => format!("{b} B"),
    }
}

#[component]
pub fn ExportsPage() -> impl IntoView {
    let query = use_query_map();
    let page = Resource::new(
        move || query.with(|q| q.get("before")),
        |before| admin_exports(before.filter(|b| !b.is_empty())),
    );
    view! {
        <Title text="Exports - Billhook" />
        <h1>"Data exports"</h1>
        <Loaded resource=page let:page>
            {if page.exports.is_empty() {
                view! { <p>"No export has been requested."</p> }.into_any()
            } else {
                view! {
                    <Table columns=&["Requested", "Export", "Account", "State", "Finished", "Size", "Expires"] testid="exports">
                        {page.exports.into_iter().map(|e| view! {
                            <tr data-testid="export">
                                <td><Time at=e.requested_at /></td>
                                <td><a href=format!("/admin/exports/{}", e.id)><code>{e.id.clone()}</code></a></td>
                                <td data-testid="export-account">{e.email}</td>
                                <td data-testid="export-status"><StatusBadge status=e.status /></td>
                                <td>{e.finished_at.map(|at| view! { <Time at /> })}</td>
                                <td>{e.size_bytes.map(size)}</td>
                                <td>{e.expires_at.map(|at| view! { <Time at /> })}</td>
                            </tr>
                        }).collect_view()}
                    </Table>
                }.into_any()
            }}
            {page.next.map(|cursor| view! {
                <p><a href=format!("/admin/exports?before={}", utf8_percent_encode(&cursor, NON_ALPHANUMERIC)) data-testid="older">"Older exports"</a></p>
            })}
        </Loaded>
    }
}

#[component]
pub fn ExportPage() -> impl IntoView {
    let params = use_params_map();
    let export = Resource::new(move || params.with(|p| p.get("id").unwrap_or_default()), admin_export);
    view! {
        <Title text="Export - Billhook" />
        <Loaded resource=export let:e>
            <h1><code data-testid="export-id">{e.id.clone()}</code></h1>
            <section class="card">
                <dl>
                    <dt>"Account"</dt><dd><a href=format!("/admin/customers/{}", e.user_id)>{e.email}</a></dd>
                    <dt>"State"</dt><dd data-testid="export-status"><StatusBadge status=e.status />
                        {e.error.map(|error| view! { <p class="error">{error}</p> })}</dd>
                    <dt>"Requested"</dt><dd><Time at=e.requested_at /></dd>
                    <dt>"Finished"</dt><dd>{e.finished_at.map(|at| view! { <Time at /> })}</dd>
                    <dt>"Size"</dt><dd>{e.size_bytes.map(size)}</dd>
                    <dt>"Expires"</dt><dd>{e.expires_at.map(|at| view! { <Time at /> })}</dd>
                    <dt>"Jobs"</dt><dd><a href=format!("/admin/jobs?queue=exports&arg=export_id&value={}", utf8_percent_encode(&e.id, NON_ALPHANUMERIC))>"The jobs that built it"</a></dd>
                </dl>
            </section>
        </Loaded>
        <p><a href="/admin/exports">"All exports"</a></p>
    }
}

#[cfg(test)]
mod tests {
    use super::size;

    #[test]
    fn sizes_read_in_decimal_units_rounded_down() {
        assert_eq!(size(512), "512 B");
        assert_eq!(size(3_456), "3.4 kB");
        assert_eq!(size(1_299_999), "1.2 MB");
    }
}
