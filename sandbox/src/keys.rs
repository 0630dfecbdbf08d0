//! The sandbox's key pair: from `BILLHOOK_SANDBOX_SECRET_KEY` / `_PUBLISHABLE_KEY`, or generated
//! once and kept in the database (every node of a cluster then uses the same pair).

use billhook_core::{Db, on_db};
use rand::{Rng, distributions::Alphanumeric};

use crate::SandboxError;

/// `sk_test_...` and `pk_test_...`.
#[derive(Clone, PartialEq, Eq)]
pub struct Keys {
    pub secret: String,
    pub publishable: String,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").field("secret", &"sk_test_...").field("publishable", &self.publishable).finish()
    }
}

fn random_key(prefix: &str) -> String {
    let tail: String = rand::thread_rng().sample_iter(&Alphanumeric).take(32).map(char::from).collect();
    format!("{prefix}_test_sandbox{tail}")
}

impl Keys {
    /// The configured pair (both or neither), else the stored one, else a new one stored for good.
    pub async fn load(db: &Db, configured: Option<Keys>) -> Result<Self, SandboxError> {
        if let Some(keys) = configured {
            if !keys.secret.starts_with("sk_test_") || !keys.publishable.starts_with("pk_test_") {
                return Err(SandboxError::Config(
                    "BILLHOOK_SANDBOX_SECRET_KEY must start with sk_test_ and BILLHOOK_SANDBOX_PUBLISHABLE_KEY with pk_test_".into(),
                ));
            }
            return Ok(keys);
        }
        let generated = [("secret_key", random_key("sk")), ("publishable_key", random_key("pk"))];
        let mut stored = Vec::new();
        for (name, value) in generated {
            // The first node to start wins; the others read its key.
            let kept: String = on_db!(db, pool => {
                sqlx::query("INSERT INTO sandbox_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                    .bind(name)
                    .bind(&value)
                    .execute(pool)
                    .await?;
                sqlx::query_scalar("SELECT value FROM sandbox_settings WHERE name = $1").bind(name).fetch_one(pool).await
            })?;
            stored.push(kept);
        }
        let publishable = stored.pop().unwrap_or_default();
        let secret = stored.pop().unwrap_or_default();
        Ok(Self { secret, publishable })
    }
}
