//! `/admin`: the operators' start page - numbers and the newest accounts.

use billhook_model::{Role, Timestamp};
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use super::{sandbox::SandboxControls, sandbox_activity::SandboxActivity};
use crate::{
    AppError,
    components::{data::Loaded, table::Table, time::Time},
};

/// One account in the operators' list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminOverviewData {
    pub account_count: i64,
    pub latest_accounts: Vec<AccountSummary>,
}

/// Numbers and the newest accounts for the operators' start page. Operators only.
#[server(endpoint = "admin_overview")]
pub async fn admin_overview() -> Result<AdminOverviewData, AppError> {
    use crate::ssr::{require_operator, state};
    require_operator()?;
    let accounts = state()?.accounts;
    let account_count = accounts.count().await?;
    let latest_accounts = accounts
        .list(None, 20)
        .await?
        .into_iter()
        .map(|u| AccountSummary { id: u.id, email: u.email, role: u.role, created_at: Timestamp(u.created_at_ms) })
        .collect();
    Ok(AdminOverviewData { account_count, latest_accounts })
}

#[component]
pub fn AdminOverview() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| admin_overview());
    let user = crate::session::use_current_user();
    view! {
        <Title text="Operations - Billhook" />
        <section class="card">
            <h1>"Operations"</h1>
            <Loaded resource=data fallback=|| view! { <p>"Loading..."</p> } let:data>
                <Overview data />
            </Loaded>
        </section>
        // The sandbox's keys and clock controls are an admin's, not a viewer's.
        {move || user.get().is_some_and(|u| u.is_admin()).then(|| view! {
            <SandboxControls />
            <SandboxActivity />
        })}
    }
}

#[component]
fn Overview(data: AdminOverviewData) -> impl IntoView {
    view! {
        <p class="stat"><span data-testid="account-count">{data.account_count}</span>" accounts"</p>
        <p><a href="/admin/outbox" data-testid="outbox-link">"Outbox"</a>": the newest e-mails"</p>
        <h2>"Newest accounts"</h2>
        <Table columns=&["Id", "E-mail", "Role", "Created"]>
            {data.latest_accounts.into_iter().map(|a| view! {
                <tr>
                    <td>{a.id}</td>
                    <td><a href=format!("/admin/customers/{}", a.id) data-testid="customer-link">{a.email}</a></td>
                    <td>{a.role.as_str()}</td>
                    <td><Time at=a.created_at /></td>
                </tr>
            }).collect_view()}
        </Table>
    }
}
