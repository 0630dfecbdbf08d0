//! The account page's custom domains and the state of their certificates (a section shown once
//! there is a domain). Who may add domains is the billing layer's decision; operators add them
//! with `billhook add-domain`.

use billhook_model::{CertificateStatus, Timestamp};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{data::Loaded, status::StatusBadge, table::Table, time::Time},
};

/// One custom domain as the account page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainSummary {
    pub hostname: String,
    pub status: CertificateStatus,
    pub certificate_expires_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

/// The signed-in account's custom domains.
#[server(endpoint = "my_domains")]
pub async fn my_domains() -> Result<Vec<DomainSummary>, AppError> {
    use crate::ssr::{require_user, state};
    let user = require_user()?;
    let domains = billhook_core::custom_domains::list(&state()?.db, user.id).await?;
    Ok(domains
        .into_iter()
        .map(|d| DomainSummary {
            hostname: d.hostname,
            status: d.status,
            certificate_expires_at: d.not_after,
            last_error: d.last_error,
        })
        .collect())
}

#[component]
pub fn CustomDomains() -> impl IntoView {
    let domains = Resource::new(|| (), |()| my_domains());
    view! {
        <Loaded resource=domains let:list>
            {(!list.is_empty()).then(|| view! {
                <section class="card">
                    <h2>"Custom domains"</h2>
                    <Table columns=&["Domain", "Certificate", "Valid until"] testid="domains">
                        {list.into_iter().map(|d| view! { <DomainRow domain=d /> }).collect_view()}
                    </Table>
                </section>
            })}
        </Loaded>
    }
}

#[component]
fn DomainRow(domain: DomainSummary) -> impl IntoView {
    // The last error explains a failure; after a success it is history.
    let error = domain.last_error.filter(|_| domain.status == CertificateStatus::Failed);
    view! {
        <tr>
            <td>{domain.hostname}</td>
            <td data-testid="domain-status">
                <StatusBadge status=domain.status />
                {error.map(|e| view! { <p class="error">{e}</p> })}
            </td>
            <td>{domain.certificate_expires_at.map(|at| view! { <Time at /> })}</td>
        </tr>
    }
}
