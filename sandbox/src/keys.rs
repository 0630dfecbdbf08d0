//! The sandbox's key pair: from `BILLHOOK_SANDBOX_SECRET_KEY` / `_PUBLISHABLE_KEY`, or generated
//! once and kept in the database (every node of a cluster then uses the same pair); and the
//! secret the sandbox signs its webhook deliveries with (`whsec_...`), always kept there.

use billhook_core::{Db, on_db};

use crate::SandboxError;

/// `sk_test_...`, `pk_test_...` and the webhook endpoint's `whsec_...`.
#[derive(Clone, PartialEq, Eq)]
pub struct Keys {
    pub secret: String,
    pub publishable: String,
    pub webhook_secret: String,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("secret", &"sk_test_...")
            .field("publishable", &self.publishable)
            .field("webhook_secret", &"whsec_...")
            .finish()
    }
}

fn random(prefix: &str) -> String {
    format!("{prefix}{}", crate::store::random_token(32))
}

/// The value kept under `name`; the first node to store one wins, the others read it.
async fn kept(db: &Db, name: &str, candidate: String) -> Result<String, SandboxError> {
    Ok(on_db!(db, pool => {
        sqlx::query("INSERT INTO sandbox_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(&candidate)
            .execute(pool)
            .await?;
        sqlx::query_scalar("SELECT value FROM sandbox_settings WHERE name = $1").bind(name).fetch_one(pool).await
    })?)
}

impl Keys {
    /// The configured API key pair, else the kept one (made on first use); the webhook secret is
    /// always the kept one.
    pub async fn load(db: &Db, configured: Option<(String, String)>) -> Result<Self, SandboxError> {
        let webhook_secret = kept(db, "webhook_secret", random("whsec_sandbox")).await?;
        let (secret, publishable) = match configured {
            Some((secret, publishable)) => {
                if !secret.starts_with("sk_test_") || !publishable.starts_with("pk_test_") {
                    return Err(SandboxError::Config(
                        "BILLHOOK_SANDBOX_SECRET_KEY must start with sk_test_ and BILLHOOK_SANDBOX_PUBLISHABLE_KEY with pk_test_"
                            .into(),
                    ));
                }
                (secret, publishable)
            }
            None => (
                kept(db, "secret_key", random("sk_test_sandbox")).await?,
                kept(db, "publishable_key", random("pk_test_sandbox")).await?,
            ),
        };
        Ok(Self { secret, publishable, webhook_secret })
    }
}
