//! The sandbox's clocks and webhook deliveries on the operators' page: each test clock with its
//! time and next renewal, and buttons to advance it by a day, a month or to that renewal; the
//! newest deliveries to Billhook's webhook endpoint with their attempts. Admins only.

use billhook_model::Timestamp;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{data::Loaded, table::Table, time::Time},
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockRow {
    pub id: String,
    pub name: Option<String>,
    pub time: Timestamp,
    pub subscriptions: i64,
    pub next_renewal: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRow {
    pub event_id: String,
    pub event_type: String,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub delivered_at: Option<Timestamp>,
    pub given_up_at: Option<Timestamp>,
    pub next_attempt_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub clocks: Vec<ClockRow>,
    pub deliveries: Vec<DeliveryRow>,
}

/// The sandbox's clocks and newest deliveries, or None when it is not active. Admins only.
#[server(endpoint = "sandbox_activity")]
pub async fn sandbox_activity() -> Result<Option<Activity>, AppError> {
    use crate::ssr::{require_role, state};
    require_role(billhook_model::Role::Admin)?;
    let Some(sandbox) = state()?.sandbox else { return Ok(None) };
    let clocks = sandbox
        .clocks()
        .await?
        .into_iter()
        .map(|c| ClockRow {
            id: c.id,
            name: c.name,
            time: Timestamp(c.frozen_time * 1000),
            subscriptions: i64::try_from(c.subscriptions).unwrap_or(i64::MAX),
            next_renewal: c.next_renewal.map(|at| Timestamp(at * 1000)),
        })
        .collect();
    let deliveries = sandbox
        .recent_deliveries(20)
        .await?
        .into_iter()
        .map(|d| DeliveryRow {
            event_id: d.event_id,
            event_type: d.event_type,
            attempts: d.attempts,
            last_status: d.last_status,
            delivered_at: d.delivered_at.map(Timestamp),
            given_up_at: d.given_up_at.map(Timestamp),
            next_attempt_at: Timestamp(d.next_attempt_at),
        })
        .collect();
    Ok(Some(Activity { clocks, deliveries }))
}

/// Advances test clock `clock` by `by` (`day`, `month` or `renewal`). Admins only.
#[server(endpoint = "advance_sandbox_clock")]
pub async fn advance_sandbox_clock(clock: String, by: String) -> Result<(), AppError> {
    use billhook_sandbox::Advance;

    use crate::ssr::{finish_form, require_role, state};
    let result = async {
        require_role(billhook_model::Role::Admin)?;
        let sandbox = state()?.sandbox.ok_or(AppError::Invalid)?;
        let by = match by.as_str() {
            "day" => Advance::Day,
            "month" => Advance::Month,
            "renewal" => Advance::NextRenewal,
            _ => return Err(AppError::Invalid),
        };
        sandbox.advance_clock(&clock, by).await?;
        Ok(())
    }
    .await;
    finish_form(result, "/admin", "/admin")
}

#[component]
pub fn SandboxActivity() -> impl IntoView {
    let advance = ServerAction::<AdvanceSandboxClock>::new();
    let activity = Resource::new(move || advance.version().get(), |_| sandbox_activity());
    view! {
        <Loaded resource=activity let:activity>
            {activity.map(|activity| view! {
                <section class="card" data-testid="sandbox-clocks">
                    <h2>"Sandbox test clocks"</h2>
                    {if activity.clocks.is_empty() {
                        view! { <p class="hint">"No test clocks yet: create one with the sandbox's API (POST /v1/test_helpers/test_clocks)."</p> }.into_any()
                    } else {
                        view! {
                            <Table columns=&["Clock", "Time", "Subscriptions", "Next renewal", ""]>
                                {activity.clocks.into_iter().map(|clock| view! { <ClockLine clock advance /> }).collect_view()}
                            </Table>
                        }.into_any()
                    }}
                </section>
                <section class="card" data-testid="sandbox-deliveries">
                    <h2>"Sandbox webhook deliveries"</h2>
                    <Table columns=&["Event", "Type", "Attempts", "Last answer", "Delivered"]>
                        {activity.deliveries.into_iter().map(|d| view! {
                            <tr>
                                <td><code>{d.event_id}</code></td>
                                <td>{d.event_type}</td>
                                <td>{d.attempts}</td>
                                <td>{d.last_status.map_or_else(|| "-".to_owned(), |s| s.to_string())}</td>
                                <td>{match (d.delivered_at, d.given_up_at) {
                                    (Some(at), _) => view! { <Time at /> }.into_any(),
                                    (None, Some(at)) => view! { "given up " <Time at /> }.into_any(),
                                    (None, None) => view! { "retrying, next " <Time at=d.next_attempt_at /> }.into_any(),
                                }}</td>
                            </tr>
                        }).collect_view()}
                    </Table>
                </section>
            })}
        </Loaded>
    }
}

#[component]
fn ClockLine(clock: ClockRow, advance: ServerAction<AdvanceSandboxClock>) -> impl IntoView {
    let id = clock.id.clone();
    let button = move |by: &'static str, label: &'static str| {
        let id = id.clone();
        view! {
            <ActionForm action=advance attr:class="inline">
                <input type="hidden" name="clock" value=id />
                <input type="hidden" name="by" value=by />
                <button type="submit" data-testid=format!("advance-{by}")>{label}</button>
            </ActionForm>
        }
    };
    view! {
        <tr data-testid="sandbox-clock">
            <td><code>{clock.id.clone()}</code>{clock.name.map(|n| format!(" {n}"))}</td>
            <td data-testid="clock-time"><Time at=clock.time /></td>
            <td>{clock.subscriptions}</td>
            <td>{clock.next_renewal.map(|at| view! { <Time at /> })}</td>
            <td>
                {button("day", "+1 day")}
                {button("month", "+1 month")}
                {clock.next_renewal.is_some().then(|| button("renewal", "To next renewal"))}
            </td>
        </tr>
    }
}
