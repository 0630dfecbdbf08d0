//! The Billhook server: configuration, start-up, HTTP layers and the process roles. `main.rs`
//! only parses the command line; integration tests build the same [`startup::Application`].

pub mod cli;
pub mod config;
pub mod http;
pub mod process_roles;
pub mod sandbox;
pub mod startup;
pub mod telemetry;
