//! Settling a mirrored object whose events tie (two changes within one second): read it from
//! Stripe and store what Stripe says now (see [`super::mirror`]).

use super::{
    ProcessError,
    mirror::{self, MirroredKind},
};
use crate::{clock, db::Db, stripe_api::StripeApi};

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("reading the {kind:?} from Stripe: {source}")]
    Stripe {
        kind: MirroredKind,
        #[source]
        source: crate::stripe_api::StripeApiError,
    },
    #[error(transparent)]
    Store(#[from] ProcessError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl RefreshError {
    /// Retrying cannot help: Stripe refused the read itself (a 4xx other than 429: the object is
    /// gone, the key cannot read it) or answered something the mirror cannot store.
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::Stripe { source: crate::stripe_api::StripeApiError::Api { status, .. }, .. } => {
                (400..500).contains(status) && *status != 429
            }
            Self::Stripe { source: crate::stripe_api::StripeApiError::Config(_), .. } => true,
            Self::Store(ProcessError::BadPayload(_)) => true,
            Self::Stripe { .. } | Self::Store(_) | Self::Database(_) => false,
        }
    }
}

/// What a refresh did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refreshed {
    /// Stripe's answer is in the mirror.
    Stored,
    /// The mirror already held a version from a later second.
    Superseded,
    /// No Stripe client is configured (no key, sandbox off): the guess stays.
    NoClient,
}

/// Reads object `id` of `kind` from Stripe and stores it, stamped with the second the read began:
/// every event of an earlier second is older than the answer, and an event of the same second
/// ties again and asks for another read.
pub async fn refresh(
    db: &Db,
    stripe: Option<&StripeApi>,
    kind: MirroredKind,
    id: &str,
) -> Result<Refreshed, RefreshError> {
    let Some(stripe) = stripe else {
        tracing::warn!(?kind, id, "two events of one second and no Stripe client to settle them: the order is a guess");
        return Ok(Refreshed::NoClient);
    };
    let read_at = clock::now_ms().div_euclid(1000);
    let object = stripe.retrieve(kind.api_path(), id).await.map_err(|source| RefreshError::Stripe { kind, source })?;
    store_read(db, kind, &object, read_at).await
}

/// Stores `object` of `kind` as Stripe answered it in a read that began at `read_at` (unix
/// seconds), for a caller that has just read it anyway.
pub async fn store_read(
    db: &Db,
    kind: MirroredKind,
    object: &serde_json::Value,
    read_at: i64,
) -> Result<Refreshed, RefreshError> {
    let mut tx = db.begin().await?;
    let stored = mirror::store_read(&mut tx, kind, object, read_at, clock::now_ms()).await?;
    tx.commit().await?;
    Ok(if stored { Refreshed::Stored } else { Refreshed::Superseded })
}
