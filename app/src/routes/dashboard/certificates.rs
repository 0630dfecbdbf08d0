//! `/admin/certificates` and `/admin/certificates/{id}`: customers' custom domains and their
//! certificates, newest first - whose they are, where the certificate stands, when it expires,
//! how the last attempt went - and one domain with its certificate's validity and every attempt
//! its certificate jobs recorded. Read-only; never the private key.

use billhook_model::{CertificateStatus, Timestamp};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use super::job::{AttemptLine, AttemptTable};
use crate::{
    AppError,
    components::{data::Loaded, status::StatusBadge, table::Table, time::Time},
};

/// One domain and its certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateLine {
    pub id: String,
    pub user_id: i64,
    pub email: String,
    pub hostname: String,
    pub status: CertificateStatus,
    pub created_at: Timestamp,
    pub not_before: Option<Timestamp>,
    pub not_after: Option<Timestamp>,
    pub issued_at: Option<Timestamp>,
    pub renewal_queued_at: Option<Timestamp>,
    pub last_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

#[cfg(feature = "ssr")]
impl From<billhook_core::dashboard::certificates::CertificateRow> for CertificateLine {
    fn from(r: billhook_core::dashboard::certificates::CertificateRow) -> Self {
        Self {
            id: r.id,
            user_id: r.user_id,
            email: r.email,
            hostname: r.hostname,
            status: r.status,
            created_at: Timestamp(r.created_at),
            not_before: r.not_before.map(Timestamp),
            not_after: r.not_after.map(Timestamp),
            issued_at: r.issued_at.map(Timestamp),
            renewal_queued_at: r.renewal_queued_at.map(Timestamp),
            last_attempt_at: r.last_attempt_at.map(Timestamp),
            last_error: r.last_error,
        }
    }
}

/// A certificate job run for the domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateJob {
    pub id: String,
    pub status: String,
    pub dead: bool,
    pub history: Vec<AttemptLine>,
}

/// One domain, its certificate and its certificate jobs (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateView {
    pub domain: CertificateLine,
    pub jobs: Vec<CertificateJob>,
}

/// The newest domains. Operators only.
#[server(endpoint = "admin_certificates")]
pub async fn admin_certificates() -> Result<Vec<CertificateLine>, AppError> {
    use billhook_core::dashboard::certificates;

    use crate::ssr::{fail, require_operator, state};
    let result: Result<_, AppError> = async {
        require_operator()?;
        let rows = certificates::list(&state()?.db).await?;
        Ok(rows.into_iter().map(CertificateLine::from).collect())
    }
    .await;
    result.or_else(fail)
}

/// Domain `id` and its certificate jobs. Operators only.
#[server(endpoint = "admin_certificate")]
pub async fn admin_certificate(id: String) -> Result<CertificateView, AppError> {
    use billhook_core::dashboard::certificates;

    use crate::ssr::{fail, require_operator, state};
    let result: Result<_, AppError> = async {
        require_operator()?;
        let db = &state()?.db;
        let domain = certificates::get(db, &id).await?.ok_or(AppError::NotFound)?;
        let jobs = certificates::attempts(db, &id)
            .await?
            .into_iter()
            .map(|(row, attempts)| CertificateJob {
                dead: row.is_dead(),
                id: row.id,
                status: row.status,
                history: attempts.into_iter().map(AttemptLine::from).collect(),
            })
            .collect();
        Ok(CertificateView { domain: CertificateLine::from(domain), jobs })
    }
    .await;
    result.or_else(fail)
}

#[component]
pub fn CertificatesPage() -> impl IntoView {
    let domains = Resource::new(|| (), |_| admin_certificates());
    view! {
        <Title text="Certificates - Billhook" />
        <h1>"Certificates"</h1>
        <Loaded resource=domains let:list>
            {if list.is_empty() {
                view! { <p>"No custom domain has been added."</p> }.into_any()
            } else {
                view! {
                    <Table columns=&["Domain", "Account", "Certificate", "Expires", "Last attempt", "Error"] testid="certificates">
                        {list.into_iter().map(|d| view! {
                            <tr data-testid="certificate">
                                <td><a href=format!("/admin/certificates/{}", d.id)><code data-testid="certificate-hostname">{d.hostname}</code></a></td>
                                <td>{d.email}</td>
                                <td data-testid="certificate-status"><StatusBadge status=d.status /></td>
                                <td>{d.not_after.map(|at| view! { <Time at /> })}</td>
                                <td>{d.last_attempt_at.map(|at| view! { <Time at /> })}</td>
                                <td class="error">{d.last_error}</td>
                            </tr>
                        }).collect_view()}
                    </Table>
                }.into_any()
            }}
        </Loaded>
    }
}

#[component]
pub fn CertificatePage() -> impl IntoView {
    let params = use_params_map();
    let domain = Resource::new(move || params.with(|p| p.get("id").unwrap_or_default()), admin_certificate);
    view! {
        <Title text="Certificate - Billhook" />
        <Loaded resource=domain let:cert>
            <CertificateDetail cert />
        </Loaded>
        <p><a href="/admin/certificates">"All certificates"</a></p>
    }
}

#[component]
fn CertificateDetail(cert: CertificateView) -> impl IntoView {
    let d = cert.domain;
    let at = |time: Option<Timestamp>| time.map(|at| view! { <Time at /> });
    view! {
        <h1><code data-testid="certificate-hostname">{d.hostname}</code></h1>
        <section class="card">
            <dl>
                <dt>"Account"</dt><dd><a href=format!("/admin/customers/{}", d.user_id)>{d.email}</a></dd>
                <dt>"Certificate"</dt><dd data-testid="certificate-status"><StatusBadge status=d.status /></dd>
                <dt>"Added"</dt><dd><Time at=d.created_at /></dd>
                <dt>"Issued"</dt><dd>{at(d.issued_at)}</dd>
                <dt>"Valid from"</dt><dd>{at(d.not_before)}</dd>
                <dt>"Valid until"</dt><dd data-testid="certificate-not-after">{at(d.not_after)}</dd>
                <dt>"Renewal queued"</dt><dd>{at(d.renewal_queued_at)}</dd>
                <dt>"Last attempt"</dt><dd>{at(d.last_attempt_at)}
                    {d.last_error.map(|e| view! { <p class="error" data-testid="certificate-error">{e}</p> })}</dd>
            </dl>
        </section>
        <section class="card">
            <h2>"Certificate jobs"</h2>
            {if cert.jobs.is_empty() {
                view! { <p>"None recorded."</p> }.into_any()
            } else {
                view! {
                    <ol class="caused" data-testid="certificate-jobs">
                        {cert.jobs.into_iter().map(|job| view! {
                            <li data-testid="certificate-job">
                                <a href=format!("/admin/jobs/{}", job.id)><code>{job.id.clone()}</code></a>": "
                                <span>{job.status}</span>
                                {job.dead.then_some(" (dead)")}
                                <AttemptTable history=job.history />
                            </li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </section>
    }
}
