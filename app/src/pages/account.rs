//! The customer area: everything under `/account` needs a log-in.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Outlet, hooks::use_location};

use super::errors::LoginRequired;
use crate::{
    auth::use_current_user,
    domains::my_domains,
    exports::{RequestExport, my_exports},
};

/// Guards `/account/...`: without a log-in, redirects to the log-in page (302 on the server).
#[component]
pub fn CustomerArea() -> impl IntoView {
    let user = use_current_user();
    let location = use_location();
    move || match user.get() {
        Some(_) => Outlet().into_any(),
        None => view! { <LoginRequired next=location.pathname.get_untracked() /> }.into_any(),
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let user = use_current_user();
    view! {
        <Title text="Your account - Billhook" />
        <section class="card">
            <h1>"Your account"</h1>
            {move || user.get().map(|user| view! {
                <dl>
                    <dt>"E-mail"</dt>
                    <dd data-testid="account-email">{user.email}</dd>
                    <dt>"Role"</dt>
                    <dd>{user.role.label()}</dd>
                </dl>
            })}
            <p class="hint">"Subscriptions, payment methods and invoices will appear here."</p>
        </section>
        <CustomDomains />
        <DataExports />
    }
}

/// The account's custom domains and the state of their certificates (shown once there is one).
#[component]
fn CustomDomains() -> impl IntoView {
    let domains = Resource::new(|| (), |()| my_domains());
    view! {
        <Suspense fallback=|| ()>
            {move || domains.get().map(|result| match result {
                Ok(list) if list.is_empty() => ().into_any(),
                Ok(list) => view! {
                    <section class="card">
                        <h2>"Custom domains"</h2>
                        <table data-testid="domains">
                            <thead><tr><th>"Domain"</th><th>"Certificate"</th><th>"Valid until"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|d| view! {
                                    <tr>
                                        <td>{d.hostname}</td>
                                        <td data-testid="domain-status">
                                            {certificate_state(&d.status)}
                                            {d.last_error.filter(|_| d.status == "failed").map(|e| view! { <p class="error">{e}</p> })}
                                        </td>
                                        <td>{d.certificate_expires_at_ms.map(format_ms)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </section>
                }.into_any(),
                Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
            })}
        </Suspense>
    }
}

fn certificate_state(status: &str) -> &'static str {
    match status {
        "pending" => "Queued",
        "issuing" => "Being issued",
        "active" => "Active",
        "failed" => "Failed; retried automatically",
        _ => "Unknown",
    }
}

/// Ask for an export of your data; see its progress; download it while it lasts.
#[component]
fn DataExports() -> impl IntoView {
    let request = ServerAction::<RequestExport>::new();
    let exports = Resource::new(move || request.version().get(), |_| my_exports());
    view! {
        <section class="card">
            <h2>"Your data"</h2>
            <p>"Download everything Billhook holds about your account, as JSON. Links work for 7 days, for you only."</p>
            <ActionForm action=request>
                <button type="submit" data-testid="request-export">"Export my data"</button>
            </ActionForm>
            <Suspense fallback=|| view! { <p>"Loading..."</p> }>
                {move || exports.get().map(|result| match result {
                    Ok(list) if list.is_empty() => view! { <p class="hint">"No exports yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table data-testid="exports">
                            <thead><tr><th>"Requested"</th><th>"Status"</th><th></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|e| view! {
                                    <tr>
                                        <td>{format_ms(e.requested_at_ms)}</td>
                                        <td data-testid="export-status">{e.status.clone()}</td>
                                        <td>{(e.status == "ready").then(|| view! {
                                            <a href=format!("/account/exports/{}", e.id) download>"Download"</a>
                                        })}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

/// A UTC timestamp as `YYYY-MM-DD HH:MM` (the same on server and client, so hydration agrees).
fn format_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", rest / 3600, rest % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::format_ms;

    #[test]
    fn timestamps_read_as_utc_dates() {
        assert_eq!(format_ms(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_ms(1_795_716_257_914), "2026-11-26 18:04 UTC"); // checked with Python's datetime
        assert_eq!(format_ms(951_782_400_000), "2000-02-29 00:00 UTC");
    }
}
