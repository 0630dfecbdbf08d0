//! E-mail as a job: templated messages sent over SMTP (lettre) when `BILLHOOK_SMTP_URL` is set,
//! and always recorded in `email_outbox` (which the dashboard shows; without SMTP the outbox is
//! where mail goes). Sending is idempotent by the message id: a job that runs again after the
//! message was recorded as sent does not send it again. (A crash between the SMTP server's
//! acceptance and that record can still send twice - SMTP has no idempotency - but the
//! `Message-ID` header is the same, so mail systems can tell.)

mod templates;

use anyhow::Context;
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
};

pub use templates::Template;

use crate::{clock, db::Db, jobs::SendEmail, on_db};

/// What happened to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    /// Handed to the SMTP server.
    Sent,
    /// No SMTP server configured: kept in the outbox.
    Stored,
    /// Recorded before: nothing done.
    AlreadyDone,
}

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// The address or the message cannot be built: retrying will not help.
    #[error("the message cannot be built: {0}")]
    Invalid(String),
    #[error("SMTP: {0}")]
    Smtp(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// Sends (or stores) messages.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    base_url: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.to_string()).field("smtp", &self.smtp.is_some()).finish()
    }
}

impl Mailer {
    /// `smtp_url`: e.g. `smtp://user:pass@mail.example.com:587?tls=required`, `smtps://...`, or
    /// `smtp://127.0.0.1:2525` (lettre's URL syntax). `base_url` prefixes links in messages.
    pub fn new(smtp_url: Option<&str>, from: &str, base_url: &str) -> anyhow::Result<Self> {
        let from: Mailbox = from.parse().with_context(|| format!("BILLHOOK_EMAIL_FROM {from:?} is not an address"))?;
        let smtp = match smtp_url.filter(|u| !u.trim().is_empty()) {
            Some(url) => {
                Some(AsyncSmtpTransport::<Tokio1Executor>::from_url(url).context("BILLHOOK_SMTP_URL")?.build())
            }
            None => None,
        };
        Ok(Self { from, smtp, base_url: base_url.trim_end_matches('/').to_owned() })
    }

    /// Sends `mail` once (see the module docs).
    pub async fn deliver(&self, db: &Db, mail: &SendEmail) -> Result<Delivered, EmailError> {
        let recorded: Option<String> = on_db!(db, pool => {
            sqlx::query_scalar("SELECT status FROM email_outbox WHERE id = $1").bind(&mail.id).fetch_optional(pool).await
        })?;
        if recorded.is_some() {
            return Ok(Delivered::AlreadyDone);
        }
        let to: Mailbox = mail.to.parse().map_err(|e| EmailError::Invalid(format!("recipient {:?}: {e}", mail.to)))?;
        let (subject, body) = mail.template.render(&self.base_url);
        let outcome = match &self.smtp {
            Some(smtp) => {
                let message = Message::builder()
                    .from(self.from.clone())
                    .to(to)
                    .subject(&subject)
                    .message_id(Some(format!("<{}@billhook>", mail.id)))
                    .header(ContentType::TEXT_PLAIN)
                    .body(body.clone())
                    .map_err(|e| EmailError::Invalid(e.to_string()))?;
                smtp.send(message).await.map_err(|e| EmailError::Smtp(e.to_string()))?;
                Delivered::Sent
            }
            None => Delivered::Stored,
        };
        let status = if outcome == Delivered::Sent { "sent" } else { "outbox" };
        on_db!(db, pool => {
            sqlx::query(
                "INSERT INTO email_outbox (id, recipient, subject, body, template, status, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&mail.id)
            .bind(&mail.to)
            .bind(&subject)
            .bind(&body)
            .bind(mail.template.name())
            .bind(status)
            .bind(clock::now_ms())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(outcome)
    }
}

/// A message as the outbox keeps it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxMessage {
    pub id: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub template: String,
    /// `sent` (handed to SMTP) or `outbox` (kept here: no SMTP server configured).
    pub status: String,
    /// Unix ms.
    pub created_at: i64,
}

/// The newest `limit` messages, newest first, to `recipient` if given.
pub async fn outbox(db: &Db, recipient: Option<&str>, limit: i64) -> Result<Vec<OutboxMessage>, sqlx::Error> {
    on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, recipient, subject, body, template, status, created_at FROM email_outbox \
             WHERE $1 IS NULL OR recipient = $1 ORDER BY created_at DESC, id LIMIT $2",
        )
        .bind(recipient)
        .bind(limit.clamp(1, 500))
        .fetch_all(pool)
        .await
    })
}
