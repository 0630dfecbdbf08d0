//! `/admin/audit`: every operator action, newest first - who, what, on what, how many rows.

use billhook_model::Timestamp;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{data::Loaded, table::Table, time::Time},
};

/// One action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLine {
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub rows: i64,
}

/// A page of the audit log and the cursor of the next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntries {
    pub entries: Vec<AuditLine>,
    pub next: Option<String>,
}

/// The audit log, 100 entries a page. Operators only.
#[server(endpoint = "admin_audit")]
pub async fn admin_audit(before: Option<String>) -> Result<AuditEntries, AppError> {
    use billhook_core::dashboard::{Cursor, audit};

    use crate::ssr::{fail, require_operator, state};
    let result: Result<_, AppError> = async {
        require_operator()?;
        let before = before.filter(|b| !b.is_empty()).map(|b| Cursor::parse(&b)).transpose()?;
        let (entries, next) = audit::list(&state()?.db, before.as_ref(), 100).await?;
        Ok(AuditEntries {
            entries: entries
                .into_iter()
                .map(|e| AuditLine {
                    at: Timestamp(e.at),
                    actor: e.actor_email,
                    action: e.action,
                    target: e.target,
                    rows: e.row_count,
                })
                .collect(),
            next: next.map(|c| c.to_string()),
        })
    }
    .await;
    result.or_else(fail)
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let page = Resource::new(move || query.with(|q| q.get("before")), admin_audit);
    view! {
        <Title text="Audit log - Billhook" />
        <h1>"Audit log"</h1>
        <Loaded resource=page let:page>
            {if page.entries.is_empty() {
                view! { <p>"No actions yet."</p> }.into_any()
            } else {
                view! {
                    <Table columns=&["When", "Who", "Action", "On", "Rows"] testid="audit">
                        {page.entries.into_iter().map(|e| view! {
                            <tr><td><Time at=e.at /></td><td>{e.actor}</td><td>{e.action}</td><td><code>{e.target}</code></td><td>{e.rows}</td></tr>
                        }).collect_view()}
                    </Table>
                }.into_any()
            }}
            {page.next.map(|cursor| view! { <p><a href=format!("/admin/audit?before={cursor}")>"Older"</a></p> })}
        </Loaded>
    }
}
