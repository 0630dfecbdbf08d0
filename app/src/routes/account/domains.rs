//! `/account/domains`: the account's custom domains and the state of their certificates; a
//! customer holding a type with custom domains (the SSL add-on) adds and removes them here, and
//! the certificate job does the rest. Forms work without JavaScript.

use billhook_model::{CertificateStatus, Timestamp};
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{
        data::Loaded,
        form::{ErrorNote, form_error},
        status::StatusBadge,
        table::Table,
        time::Time,
    },
};

/// One custom domain as the page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainSummary {
    pub id: String,
    pub hostname: String,
    pub status: CertificateStatus,
    pub certificate_expires_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

/// The account's domains, and whether it may add more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domains {
    /// None: the account may add domains; else the name of the type that brings them.
    pub needs: Option<String>,
    pub list: Vec<DomainSummary>,
}

/// The signed-in account's custom domains.
#[server(endpoint = "my_domains")]
pub async fn my_domains() -> Result<Domains, AppError> {
    use billhook_core::{billing, custom_domains};

    use crate::ssr::{fail, require_user, state};
    let result: Result<_, AppError> = async {
        let user = require_user()?;
        let state = state()?;
        let catalogue = &state.billing.catalogue;
        let allowed = match &state.billing.stripe {
            Some(stripe) => billing::custom_domains_allowed(&state.db, stripe, catalogue, user.id).await?,
            None => false,
        };
        let needs = (!allowed).then(|| {
            catalogue.types.iter().find(|t| t.custom_domains).map_or("a plan", |t| t.name.as_str()).to_owned()
        });
        let list = custom_domains::list(&state.db, user.id)
            .await?
            .into_iter()
            .map(|d| DomainSummary {
                id: d.id,
                hostname: d.hostname,
                status: d.status,
                certificate_expires_at: d.not_after,
                last_error: d.last_error,
            })
            .collect();
        Ok(Domains { needs, list })
    }
    .await;
    result.or_else(fail)
}

/// Adds `hostname` to the signed-in account, when its plan brings custom domains.
#[server(endpoint = "add_domain")]
pub async fn add_domain(hostname: String) -> Result<(), AppError> {
    use billhook_core::billing;

    use crate::ssr::{finish_form, require_user, state};
    let result = async {
        let user = require_user()?;
        let state = state()?;
        let stripe = state.billing.stripe()?;
        billing::add_custom_domain(&state.db, stripe, &state.billing.catalogue, user.id, &hostname).await?;
        Ok(())
    }
    .await;
    finish_form(result, "/account/domains", "/account/domains")
}

/// Removes the signed-in account's domain `id` (another account's: 404, nothing removed).
#[server(endpoint = "remove_domain")]
pub async fn remove_domain(id: String) -> Result<(), AppError> {
    use billhook_core::custom_domains;

    use crate::ssr::{finish_form, require_user, state};
    let result = async {
        let user = require_user()?;
        if custom_domains::remove(&state()?.db, user.id, &id).await? { Ok(()) } else { Err(AppError::NotFound) }
    }
    .await;
    finish_form(result, "/account/domains", "/account/domains")
}

#[component]
pub fn DomainsPage() -> impl IntoView {
    let add = ServerAction::<AddDomain>::new();
    let remove = ServerAction::<RemoveDomain>::new();
    let domains = Resource::new(move || (add.version().get(), remove.version().get()), |_| my_domains());
    view! {
        <Title text="Custom domains - Billhook" />
        <h1>"Custom domains"</h1>
        <ErrorNote message=form_error(move || add.value().get().or_else(|| remove.value().get())) />
        <Loaded resource=domains let:domains>
            {match domains.needs {
                None => view! {
                    <div data-testid="add-domain">
                        <ActionForm action=add attr:class="inline">
                            <label>"Domain " <input type="text" name="hostname" required placeholder="shop.example.com" /></label>
                            <button type="submit">"Add"</button>
                        </ActionForm>
                    </div>
                    <p class="hint">"Point the domain's DNS at this service; its certificate follows by itself."</p>
                }.into_any(),
                Some(needs) => view! {
                    <p data-testid="domains-not-included">
                        {format!("Custom domains come with {needs}. ")}<a href="/account/plans">"See the plans"</a>
                    </p>
                }.into_any(),
            }}
            {(!domains.list.is_empty()).then(|| view! {
                <Table columns=&["Domain", "Certificate", "Valid until", ""] testid="domains">
                    {domains.list.into_iter().map(|domain| view! { <DomainRow domain remove /> }).collect_view()}
                </Table>
            })}
        </Loaded>
    }
}

#[component]
fn DomainRow(domain: DomainSummary, remove: ServerAction<RemoveDomain>) -> impl IntoView {
    // The last error explains a failure; after a success it is history.
    let error = domain.last_error.filter(|_| domain.status == CertificateStatus::Failed);
    let testid = format!("domain-{}", domain.hostname);
    view! {
        <tr data-testid=testid>
            <td>{domain.hostname}</td>
            <td data-testid="domain-status">
                <StatusBadge status=domain.status />
                {error.map(|e| view! { <p class="error">{e}</p> })}
            </td>
            <td>{domain.certificate_expires_at.map(|at| view! { <Time at /> })}</td>
            <td>
                <ActionForm action=remove attr:class="inline">
                    <input type="hidden" name="id" value=domain.id />
                    <button type="submit" data-testid="remove-domain">"Remove"</button>
                </ActionForm>
            </td>
        </tr>
    }
}
