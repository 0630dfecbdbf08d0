//! The operators' area: everything under `/admin` needs the admin role. The guard here decides
//! what is rendered; the server functions that return admin data check the role themselves.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Outlet, hooks::use_location};
use serde::{Deserialize, Serialize};

use super::errors::{Forbidden, LoginRequired, ServerError};
use crate::{AppError, Role, auth::use_current_user};

#[component]
pub fn AdminArea() -> impl IntoView {
    let user = use_current_user();
    let location = use_location();
    move || match user.get() {
        Some(user) if user.is_admin() => Outlet().into_any(),
        Some(_) => Forbidden().into_any(),
        None => view! { <LoginRequired next=location.pathname.get_untracked() /> }.into_any(),
    }
}

/// One account in the operators' list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminOverviewData {
    pub account_count: i64,
    pub latest_accounts: Vec<AccountSummary>,
}

/// Numbers and the newest accounts for the operators' start page. Admins only.
#[server(endpoint = "admin_overview")]
pub async fn admin_overview() -> Result<AdminOverviewData, AppError> {
    use crate::auth::server::{require_role, state};
    require_role(Role::Admin)?;
    let accounts = state()?.accounts;
    let account_count = accounts.count().await?;
    let latest_accounts = accounts
        .list(None, 20)
        .await?
        .iter()
        .map(|u| AccountSummary {
            id: u.id,
            email: u.email.clone(),
            role: u.role.into(),
            created_at_ms: u.created_at_ms,
        })
        .collect();
    Ok(AdminOverviewData { account_count, latest_accounts })
}

#[component]
pub fn AdminOverview() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| admin_overview());
    view! {
        <Title text="Operations - Billhook" />
        <section class="card">
            <h1>"Operations"</h1>
            <Suspense fallback=|| view! { <p>"Loading..."</p> }>
                {move || data.get().map(|result| match result {
                    Ok(data) => view! { <Overview data /> }.into_any(),
                    Err(_) => view! { <ServerError /> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Overview(data: AdminOverviewData) -> impl IntoView {
    view! {
        <p class="stat"><span data-testid="account-count">{data.account_count}</span>" accounts"</p>
        <h2>"Newest accounts"</h2>
        <table>
            <thead><tr><th>"Id"</th><th>"E-mail"</th><th>"Role"</th></tr></thead>
            <tbody>
                {data.latest_accounts.into_iter().map(|a| view! {
                    <tr>
                        <td>{a.id}</td>
                        <td>{a.email}</td>
                        <td>{a.role.label()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
