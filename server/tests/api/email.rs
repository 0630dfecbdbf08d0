//! E-mail through a real SMTP server (aiosmtpd, storing into a Maildir), and the outbox.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use billhook_core::{
    email::{Delivered, Mailer, Template},
    jobs::SendEmail,
    jobs::WorkerOptions,
    on_db,
};

use crate::{
    helpers::{TestApp, wait_for_listener},
    on_both_databases,
};

on_both_databases!(
    a_new_customer_gets_a_welcome_email_over_smtp,
    without_smtp_mail_stays_in_the_outbox,
    a_message_is_sent_once_however_often_its_job_runs,
);

/// aiosmtpd on a free port, delivering into a fresh Maildir; stopped when dropped.
struct SmtpServer {
    child: Child,
    port: u16,
    maildir: PathBuf,
}

impl SmtpServer {
    fn start() -> Self {
        let python = std::env::var("BILLHOOK_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let maildir = std::env::temp_dir().join(format!("billhook-maildir-{}", uuid::Uuid::new_v4()));
        let child = Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting aiosmtpd with {python}: {e} (scripts/setup installs it)"));
        let mut server = Self { child, port, maildir };
        wait_for_listener(&mut server.child, port, "aiosmtpd");
        server
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The raw messages received so far.
    fn messages(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else { return Vec::new() };
        entries.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok()).collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}

fn fast() -> WorkerOptions {
    WorkerOptions { poll_interval: Duration::from_millis(50), ..Default::default() }
}

/// The outbox's rows (recipient, subject, status), once there is at least one.
async fn outbox(app: &TestApp) -> Vec<(String, String, String)> {
    app.wait_for("an outbox record", Duration::from_secs(30), || async {
        let rows: Vec<(String, String, String)> = on_db!(&app.state.db, pool => {
            sqlx::query_as("SELECT recipient, subject, status FROM email_outbox ORDER BY created_at").fetch_all(pool).await
        })
        .unwrap();
        (!rows.is_empty()).then_some(rows)
    })
    .await
}

async fn a_new_customer_gets_a_welcome_email_over_smtp(app: TestApp) {
    let smtp = SmtpServer::start();
    app.start_workers_with(fast(), Some(&smtp.url()));
    app.signed_in_customer("welcome@example.com").await;
    let message = app
        .wait_for("the welcome message", Duration::from_secs(30), || async { smtp.messages().into_iter().next() })
        .await;
    assert!(message.contains("Subject: Welcome to Billhook"), "{message}");
    assert!(message.contains("To: welcome@example.com"), "{message}");
    assert!(message.contains(&format!("{}/account", app.address)), "the link points at this site: {message}");
    // The record follows the SMTP server's acceptance.
    assert_eq!(outbox(&app).await, vec![("welcome@example.com".into(), "Welcome to Billhook".into(), "sent".into())]);
}

async fn without_smtp_mail_stays_in_the_outbox(app: TestApp) {
    app.start_workers_with(fast(), None);
    app.signed_in_customer("outbox@example.com").await;
    assert_eq!(outbox(&app).await, vec![("outbox@example.com".into(), "Welcome to Billhook".into(), "outbox".into())]);
}

async fn a_message_is_sent_once_however_often_its_job_runs(app: TestApp) {
    let smtp = SmtpServer::start();
    let mailer = Mailer::new(Some(&smtp.url()), "Billhook <billing@example.com>", &app.address).unwrap();
    let mail = SendEmail::new("twice@example.com", Template::PaymentFailed { invoice_id: "in_123".into(), path: None });
    assert_eq!(mailer.deliver(&app.state.db, &mail).await.unwrap(), Delivered::Sent);
    assert_eq!(mailer.deliver(&app.state.db, &mail).await.unwrap(), Delivered::AlreadyDone);
    let messages = app
        .wait_for("the message", Duration::from_secs(10), || async {
            let m = smtp.messages();
            (!m.is_empty()).then_some(m)
        })
        .await;
    assert_eq!(messages.len(), 1);
    assert!(messages[0].contains(&format!("Message-ID: <{}@billhook>", mail.id)), "{}", messages[0]);
}
