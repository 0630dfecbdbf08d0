//! The operators' search inside the jobs' arguments: through the index written with each job,
//! at any path of names, newest queued first in keyset pages, narrowed by the other filters.

use billhook_core::{
    accounts::Role,
    email::Template,
    jobs::{ProcessEvent, SendEmail, enqueue},
};
use serde_json::Value;

use crate::{billing::ok, dashboard::as_operator, helpers::TestApp, on_both_databases};

on_both_databases!(a_search_inside_the_arguments_pages_through_every_match_newest_first);

fn ids(page: &Value) -> Vec<String> {
    page["jobs"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap().to_owned()).collect()
}

async fn a_search_inside_the_arguments_pages_through_every_match_newest_first(mut app: TestApp) {
    let mut tx = app.state.db.begin().await.unwrap();
    let paged: Vec<_> = (0..55)
        .map(|n| ProcessEvent { event_id: format!("evt_paged_{n:02}"), event_type: "customer.updated".into() })
        .collect();
    enqueue(&mut tx, &paged).await.unwrap();
    enqueue(&mut tx, &[ProcessEvent { event_id: "evt_other".into(), event_type: "invoice.paid".into() }])
        .await
        .unwrap();
    enqueue(&mut tx, &[SendEmail::new("searched@example.com", Template::Welcome)]).await.unwrap();
    tx.commit().await.unwrap();
    as_operator(&mut app, "searcher@example.com", Role::Viewer).await;

    let search = [("arg", "event_type"), ("value", "customer.updated")];
    let first = ok(&app, "admin_jobs", &search).await;
    assert_eq!(ids(&first).len(), 50, "a page");
    assert!(ids(&first).windows(2).all(|w| w[0] > w[1]), "newest queued first");
    assert_eq!(first["by_argument"], true);
    let cursor = first["next"].as_str().expect("a second page").to_owned();
    let second = ok(&app, "admin_jobs", &[search[0], search[1], ("before", cursor.as_str())]).await;
    assert_eq!(ids(&second).len(), 5, "the rest: {second}");
    assert_eq!(second["next"], Value::Null);
    let mut all = [ids(&first), ids(&second)].concat();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 55, "no job on two pages");

    // The other filters narrow the matches.
    let in_queue = [("arg", "event_type"), ("value", "invoice.paid"), ("queue", "stripe.customers")];
    assert_eq!(ids(&ok(&app, "admin_jobs", &in_queue).await), Vec::<String>::new());
    let in_its_queue = [("arg", "event_type"), ("value", "invoice.paid"), ("queue", "stripe.invoices")];
    assert_eq!(ids(&ok(&app, "admin_jobs", &in_its_queue).await).len(), 1);
    let waiting = [search[0], search[1], ("state", "Pending")];
    assert_eq!(ok(&app, "admin_jobs", &waiting).await["jobs"].as_array().unwrap().len(), 50);
    let done = [search[0], search[1], ("state", "Done")];
    assert_eq!(ids(&ok(&app, "admin_jobs", &done).await), Vec::<String>::new());

    // A top-level string of another job, and a value that is no argument's.
    let mail = ok(&app, "admin_jobs", &[("arg", "to"), ("value", "searched@example.com")]).await;
    assert_eq!(ids(&mail).len(), 1, "{mail}");
    let detail = ok(&app, "admin_job", &[("id", &ids(&mail)[0])]).await;
    assert!(detail["arguments"].as_str().unwrap().contains("searched@example.com"));
    let partial = ok(&app, "admin_jobs", &[("arg", "to"), ("value", "searched@")]).await;
    assert_eq!(ids(&partial), Vec::<String>::new(), "whole values only");
    // And the bulk dry run (an admin's) counts what the search lists.
    as_operator(&mut app, "search-admin@example.com", Role::Admin).await;
    let dry = [("action", "discard"), ("queue", ""), ("state", ""), search[0], search[1]];
    assert_eq!(ok(&app, "admin_jobs_dry_run", &dry).await["count"], 55);
}
