//! `/admin/refused`: the webhook deliveries refused across the cluster - how many per reason in
//! the last 24 hours, and the newest sampled ones with the node, the source address and the size.
//! A spike of `signature_mismatch` after a deploy is a rotated secret; from one source, a probe.

use billhook_model::Timestamp;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{data::Loaded, table::Table, time::Time},
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalLine {
    pub at: Timestamp,
    pub node: String,
    pub reason: String,
    pub source: String,
    pub size: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusals {
    /// Per reason, the last 24 hours, most first.
    pub by_reason: Vec<(String, i64)>,
    pub recent: Vec<RefusalLine>,
}

/// The cluster's refused deliveries. Operators only.
#[server(endpoint = "admin_refused")]
pub async fn admin_refused() -> Result<Refusals, AppError> {
    use billhook_core::{clock, dashboard::refusals};

    use crate::ssr::{fail, require_operator, state};
    let result: Result<_, AppError> = async {
        require_operator()?;
        let db = &state()?.db;
        let by_reason = refusals::by_reason(db, clock::now_ms() - 24 * 3_600_000).await?;
        let recent = refusals::recent(db, 100)
            .await?
            .into_iter()
            .map(|r| RefusalLine {
                at: Timestamp(r.at),
                node: r.node,
                reason: r.reason,
                source: r.source,
                size: r.size,
            })
            .collect();
        Ok(Refusals { by_reason, recent })
    }
    .await;
    result.or_else(fail)
}

#[component]
pub fn RefusedPage() -> impl IntoView {
    let refused = Resource::new(|| (), |_| admin_refused());
    view! {
        <Title text="Refused deliveries - Billhook" />
        <section class="card">
            <h1>"Refused deliveries"</h1>
            <p class="hint">"Every web node writes what it refused every few seconds: a count per reason and the newest in full."</p>
            <Loaded resource=refused let:refused>
                <h2>"Last 24 hours"</h2>
                <Table columns=&["Reason", "Deliveries"] testid="refusals-by-reason">
                    {refused.by_reason.into_iter().map(|(reason, count)| view! {
                        <tr><td><code>{reason}</code></td><td>{count}</td></tr>
                    }).collect_view()}
                </Table>
                <h2>"Newest"</h2>
                <Table columns=&["When", "Reason", "Source", "Bytes", "Node"] testid="refusals">
                    {refused.recent.into_iter().map(|r| view! {
                        <tr>
                            <td><Time at=r.at /></td>
                            <td><code>{r.reason}</code></td>
                            <td>{r.source}</td>
                            <td>{r.size}</td>
                            <td><code>{r.node}</code></td>
                        </tr>
                    }).collect_view()}
                </Table>
            </Loaded>
        </section>
    }
}
