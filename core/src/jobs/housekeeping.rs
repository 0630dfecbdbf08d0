//! Billhook's periodic jobs, declared in one place.

use std::time::Duration;

use super::scheduler::Schedule;
use crate::{
    clock,
    db::{Db, Sql},
    events::reconcile::{ReconcileOptions, reconcile},
    on_db,
    stripe_api::StripeApi,
};

/// How long finished jobs, their attempts and old ticks are kept.
pub const KEEP_FINISHED: Duration = Duration::from_secs(14 * 24 * 3600);
/// A stored event still `received` after this long was missed by the dispatchers (every worker
/// node's dispatcher looks at least once a fallback poll interval): the sweep queues it.
pub const SWEEP_AFTER: Duration = Duration::from_secs(10);

/// The schedule that queues certificate renewals (the cause its jobs record).
pub const CERTIFICATE_RENEWALS: &str = "certificate_renewals";

/// What the periodic jobs need besides the database (from the configuration).
#[derive(Debug, Clone)]
pub struct Periodic {
    /// Certificates expiring within this are renewed.
    pub certificate_renew_before: Duration,
    /// Stripe's API for reconciliation; `None` (no secret key configured): not reconciled.
    pub stripe: Option<StripeApi>,
    pub reconcile: ReconcileOptions,
}

impl Default for Periodic {
    fn default() -> Self {
        Self {
            certificate_renew_before: crate::custom_domains::AcmeSettings::default().renew_before,
            stripe: None,
            reconcile: ReconcileOptions::default(),
        }
    }
}

/// Every periodic job of Billhook, with its default cron expression.
pub fn schedules(periodic: &Periodic) -> Vec<Schedule> {
    let renew_before = periodic.certificate_renew_before;
    let (stripe, reconcile_options) = (periodic.stripe.clone(), periodic.reconcile.clone());
    vec![
        Schedule::new("dispatch_sweep", "*/30 * * * * *", |db| async move { dispatch_sweep(&db).await.map(|_| ()) }),
        Schedule::new("cleanup", "0 17 * * * *", |db| async move { cleanup(&db).await }),
        Schedule::new(CERTIFICATE_RENEWALS, "0 41 */6 * * *", move |db| async move {
            crate::custom_domains::queue_renewals(&db, renew_before).await?;
            Ok(())
        }),
        Schedule::new("stripe_reconcile", "0 */15 * * * *", move |db| {
            let (stripe, options) = (stripe.clone(), reconcile_options.clone());
            async move {
                match stripe {
                    Some(stripe) => reconcile(&db, &stripe, &options).await.map(|_| ()).map_err(Into::into),
                    None => {
                        tracing::debug!("no Stripe secret key configured: nothing to reconcile");
                        Ok(())
                    }
                }
            }
        }),
    ]
}

/// [`schedules`] with some cron expressions replaced (`name -> expression`, from the
/// configuration). An unknown name or a bad expression is an error, not ignored.
pub fn schedules_with(
    periodic: &Periodic,
    overrides: &std::collections::BTreeMap<String, String>,
) -> anyhow::Result<Vec<Schedule>> {
    let mut schedules = schedules(periodic);
    for (name, cron) in overrides {
        let schedule = schedules
            .iter_mut()
            .find(|s| s.name == name.as_str())
            .ok_or_else(|| anyhow::anyhow!("there is no schedule named {name:?} to configure"))?;
        schedule.cron = cron.clone().into();
        schedule.next_after(chrono::Utc::now())?;
    }
    Ok(schedules)
}

/// The safety net behind the dispatchers (`super::dispatch`): queues stored events still
/// `received` [`SWEEP_AFTER`] after they arrived; returns how many.
pub async fn dispatch_sweep(db: &Db) -> anyhow::Result<usize> {
    let before = clock::now_ms() - i64::try_from(SWEEP_AFTER.as_millis()).unwrap_or(0);
    let swept = super::dispatch::queue_all_received(db, before).await?;
    if swept > 0 {
        tracing::info!(swept, "queued events that were recorded but not dispatched");
    }
    Ok(swept)
}

const DELETE_FINISHED_JOBS: Sql = Sql {
    sqlite: "DELETE FROM Jobs WHERE status IN ('Done', 'Killed') AND done_at < $1",
    postgres: "DELETE FROM apalis.jobs WHERE status IN ('Done', 'Killed') AND done_at < to_timestamp($1)",
};

/// The argument index of jobs that are gone (a job waiting for weeks stays findable).
const DELETE_ORPHAN_ARGUMENTS: Sql = Sql {
    sqlite: "DELETE FROM job_arguments WHERE created_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM Jobs WHERE Jobs.id = job_arguments.task_id)",
    postgres: "DELETE FROM job_arguments WHERE created_at < $1 \
               AND NOT EXISTS (SELECT 1 FROM apalis.jobs j WHERE j.id = job_arguments.task_id)",
};

/// Deletes expired sessions, stale throttle counters, and finished jobs, attempts and ticks older
/// than [`KEEP_FINISHED`]; drops the archives of expired data exports. Stored webhook events are kept: they are the audit trail.
pub async fn cleanup(db: &Db) -> anyhow::Result<()> {
    let now = clock::now_ms();
    let horizon = now - i64::try_from(KEEP_FINISHED.as_millis()).unwrap_or(0);
    let finished_jobs = db.sql(&DELETE_FINISHED_JOBS);
    let orphan_arguments = db.sql(&DELETE_ORPHAN_ARGUMENTS);
    on_db!(db, pool => {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(pool).await?;
        sqlx::query("DELETE FROM auth_throttle WHERE window_started_at < $1").bind(horizon).execute(pool).await?;
        sqlx::query(finished_jobs).bind(horizon / 1000).execute(pool).await?;
        sqlx::query("DELETE FROM job_attempts WHERE finished_at < $1").bind(horizon).execute(pool).await?;
        sqlx::query("DELETE FROM scheduler_ticks WHERE tick_at < $1").bind(horizon).execute(pool).await?;
        sqlx::query("DELETE FROM schedule_requests WHERE claimed_at < $1").bind(horizon).execute(pool).await?;
        sqlx::query("DELETE FROM nodes WHERE heartbeat_at < $1").bind(horizon).execute(pool).await?;
        sqlx::query("DELETE FROM job_causes WHERE created_at < $1").bind(horizon).execute(pool).await?;
        sqlx::query(orphan_arguments).bind(horizon).execute(pool).await?;
        sqlx::query("DELETE FROM job_rescues WHERE rescued_at < $1").bind(horizon).execute(pool).await?;
        anyhow::Ok(())
    })?;
    // The charts read an hour of minutes and a week of hours.
    crate::activity::trim(db, now - 2 * 86_400_000, horizon).await?;
    crate::exports::expire(db).await?;
    crate::webhooks::refused::trim(db, horizon).await?;
    if let Db::Sqlite(sqlite) = db {
        let pool = sqlite.pool();
        // Keeps the planner statistics current (see `jobs::schema`); cheap when nothing changed.
        sqlx::query("PRAGMA optimize").execute(pool).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{Periodic, schedules_with};

    #[test]
    fn a_schedule_can_be_retimed_but_not_invented_or_broken() {
        let retimed = schedules_with(
            &Periodic::default(),
            &BTreeMap::from([("dispatch_sweep".to_owned(), "*/5 * * * * *".to_owned())]),
        )
        .unwrap();
        assert_eq!(retimed.iter().find(|s| s.name == "dispatch_sweep").unwrap().cron, "*/5 * * * * *");
        assert!(
            schedules_with(&Periodic::default(), &BTreeMap::from([("no_such".to_owned(), "* * * * * *".to_owned())]))
                .is_err()
        );
        assert!(
            schedules_with(&Periodic::default(), &BTreeMap::from([("cleanup".to_owned(), "not cron".to_owned())]))
                .is_err()
        );
    }
}
