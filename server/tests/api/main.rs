//! Integration tests: each starts the real app on a random port with a fresh database, once on
//! SQLite and once on PostgreSQL (`BILLHOOK_TEST_POSTGRES_URL`, default the local server).

mod helpers;
mod pebble;
mod stripe_events;

mod accounts;
mod billing;
mod cli;
mod cluster;
mod csrf;
mod custom_domains;
mod dashboard;
mod dashboard_cluster;
mod dashboard_records;
mod dashboard_search;
mod dispatch;
mod email;
mod exports;
mod operations;
mod outage;
mod pipeline;
mod reconciliation;
mod roles;
mod sandbox;
mod scheduler;
mod schema;
mod throttling;
mod webhook_backlog;
mod webhooks;
