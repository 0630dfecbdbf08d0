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

on_both_databases!(
    create_admin_reads_the_password_from_stdin_and_the_admin_can_log_in,
    add_domain_queues_a_certificate_or_says_what_is_wrong,
    create_admin_setting_a_new_password_ends_the_accounts_sessions,
);

fn create_admin(app: &TestApp, email: &str, password: &str) {
    let mut child = Command::new(BILLHOOK)
        .args(["create-admin", "--email", email])
        .env("DATABASE_URL", &app.database.url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

async fn create_admin_reads_the_password_from_stdin_and_the_admin_can_log_in(app: TestApp) {
    create_admin(&app, "Boss@Example.com", "boss password");
    assert_eq!(app.log_in("boss@example.com", "boss password").await.status(), StatusCode::OK);
    assert_eq!(app.get("/admin").await.status(), StatusCode::OK);
}

/// A password reset because it leaked must sign out whoever holds a session with the old one.
async fn create_admin_setting_a_new_password_ends_the_accounts_sessions(app: TestApp) {
    create_admin(&app, "boss@example.com", "old boss password");
    let intruder = app.with_fresh_client();
    assert_eq!(intruder.log_in("boss@example.com", "old boss password").await.status(), StatusCode::OK);
    assert_eq!(intruder.get("/admin").await.status(), StatusCode::OK);

    create_admin(&intruder, "boss@example.com", "new boss password");
    let after = intruder.get("/admin").await;
    assert_eq!(after.status(), StatusCode::FOUND, "the old session still reaches /admin");
    assert_eq!(after.headers()[reqwest::header::LOCATION], "/login?next=/admin");
    // The owner logs in with the new password as usual.
    let owner = intruder.with_fresh_client();
    assert_eq!(owner.log_in("boss@example.com", "new boss password").await.status(), StatusCode::OK);
    assert_eq!(owner.get("/admin").await.status(), StatusCode::OK);
}

async fn add_domain_queues_a_certificate_or_says_what_is_wrong(app: TestApp) {
    let owner = app.state.accounts.sign_up("owner@example.com", "owner password".into(), "127.0.0.1").await.unwrap();
    let add = |args: &[&str]| {
        Command::new(BILLHOOK).arg("add-domain").args(args).env("DATABASE_URL", &app.database.url).output().unwrap()
    };

    let output = add(&["--email", "owner@example.com", "Shop.Example.com"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("shop.example.com added for owner@example.com"));
    let domains = billhook_core::custom_domains::list(&app.state.db, owner.id).await.unwrap();
    assert_eq!(
        domains.iter().map(|d| (d.hostname.as_str(), d.status.as_str())).collect::<Vec<_>>(),
        [("shop.example.com", "pending")]
    );

    for (args, reason) in [
        (&["--email", "nobody@example.com", "other.example.com"][..], "no account has the e-mail nobody@example.com"),
        (&["--email", "owner@example.com", "shop.example.com"][..], "shop.example.com is already added"),
        (&["--email", "owner@example.com", "*.example.com"][..], "wildcard"),
    ] {
        let output = add(args);
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
    }
}
