use std::{
    io::Write,
    process::{Command, Stdio},
};

use reqwest::StatusCode;

use crate::{helpers::TestApp, on_both_databases};

const BILLHOOK: &str = env!("CARGO_BIN_EXE_billhook");

#[test]
fn help_lists_the_subcommands() {
    let output = Command::new(BILLHOOK).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for subcommand in ["serve", "migrate", "create-admin"] {
        assert!(help.contains(subcommand), "{subcommand} missing from:\n{help}");
    }
    let serve = Command::new(BILLHOOK).args(["serve", "--help"]).output().unwrap();
    assert!(String::from_utf8(serve.stdout).unwrap().contains("--role"));
}

on_both_databases!(create_admin_reads_the_password_from_stdin_and_the_admin_can_log_in);

async fn create_admin_reads_the_password_from_stdin_and_the_admin_can_log_in(app: TestApp) {
    let mut child = Command::new(BILLHOOK)
        .args(["create-admin", "--email", "Boss@Example.com"])
        .env("DATABASE_URL", &app.database.url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"boss password\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    assert_eq!(app.log_in("boss@example.com", "boss password").await.status(), StatusCode::OK);
    assert_eq!(app.get("/admin").await.status(), StatusCode::OK);
}
