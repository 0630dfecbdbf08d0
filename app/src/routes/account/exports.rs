//! The account page's data exports: ask for one, see its progress, download it while it lasts
//! (the archive itself is served by the server crate at `/account/exports/{id}`).

use billhook_model::{ExportStatus, Timestamp};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{data::Loaded, status::StatusBadge, table::Table, time::Time},
};

/// One export as the account page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportSummary {
    pub id: String,
    pub status: ExportStatus,
    pub requested_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub size_bytes: Option<i64>,
}

/// Asks for an export of the signed-in account's data (a job builds it). While one is still
/// being made, that one stands.
#[server(endpoint = "request_export")]
pub async fn request_export() -> Result<(), AppError> {
    use crate::ssr::{finish_form, require_user, state};
    let result = async {
        let user = require_user()?;
        billhook_core::exports::request(&state()?.db, user.id).await?;
        Ok(())
    }
    .await;
    finish_form(result, "/account", "/account")
}

/// The signed-in account's exports, newest first.
#[server(endpoint = "my_exports")]
pub async fn my_exports() -> Result<Vec<ExportSummary>, AppError> {
    use crate::ssr::{require_user, state};
    let user = require_user()?;
    let exports = billhook_core::exports::list(&state()?.db, user.id).await?;
    Ok(exports
        .into_iter()
        .map(|e| ExportSummary {
            id: e.id,
            status: e.status,
            requested_at: e.requested_at,
            expires_at: e.expires_at,
            size_bytes: e.size_bytes,
        })
        .collect())
}

#[component]
pub fn DataExports() -> impl IntoView {
    let request = ServerAction::<RequestExport>::new();
    let exports = Resource::new(move || request.version().get(), |_| my_exports());
    view! {
        <section class="card">
            <h2>"Your data"</h2>
            <p>"Download everything Billhook holds about your account, as JSON. Links work for 7 days, for you only."</p>
            <ActionForm action=request>
                <button type="submit" data-testid="request-export">"Export my data"</button>
            </ActionForm>
            <Loaded resource=exports fallback=|| view! { <p>"Loading..."</p> } let:list>
                {if list.is_empty() {
                    view! { <p class="hint">"No exports yet."</p> }.into_any()
                } else {
                    view! {
                        <Table columns=&["Requested", "Status", ""] testid="exports">
                            {list.into_iter().map(|e| view! { <ExportRow export=e /> }).collect_view()}
                        </Table>
                    }.into_any()
                }}
            </Loaded>
        </section>
    }
}

#[component]
fn ExportRow(export: ExportSummary) -> impl IntoView {
    let download = (export.status == ExportStatus::Ready).then(|| {
        view! {
            <a href=format!("/account/exports/{}", export.id) download>"Download"</a>
            {export.expires_at.map(|at| view! { " (until " <Time at /> ")" })}
        }
    });
    view! {
        <tr>
            <td><Time at=export.requested_at /></td>
            <td data-testid="export-status"><StatusBadge status=export.status /></td>
            <td>{download}</td>
        </tr>
    }
}
