//! The Stripe customer of an account: created on first need, with `metadata.billhook_user_id`
//! (which the mirror reads), and stored at once in `billing_customers`, so an account never gets
//! two - even when two tabs or two nodes subscribe at the same moment, since both ask Stripe
//! under the same idempotency key. Against the offline sandbox each customer lives on a test
//! clock of its own, which operators move forward to see renewals happen.

use sha2::{Digest, Sha256};
use stripe_billing::test_helpers_test_clock::CreateTestHelpersTestClock;
use stripe_core::customer::CreateCustomer;

use super::BillingError;
use crate::{clock, db::Db, on_db, stripe_api::StripeApi};

/// The account's Stripe customer, if billing has made one.
pub async fn customer_of(db: &Db, user_id: i64) -> Result<Option<String>, sqlx::Error> {
    on_db!(db, pool => {
        sqlx::query_scalar("SELECT customer_id FROM billing_customers WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(pool)
            .await
    })
}

/// The account that owns Stripe customer `customer_id`, if it is one of Billhook's.
pub async fn owner_of(db: &Db, customer_id: &str) -> Result<Option<i64>, sqlx::Error> {
    on_db!(db, pool => {
        sqlx::query_scalar("SELECT user_id FROM billing_customers WHERE customer_id = $1")
            .bind(customer_id)
            .fetch_optional(pool)
            .await
    })
}

/// The account's Stripe customer, created at Stripe (and stored) when it has none yet.
pub async fn ensure_customer(db: &Db, stripe: &StripeApi, user_id: i64, email: &str) -> Result<String, BillingError> {
    if let Some(id) = customer_of(db, user_id).await? {
        return Ok(id);
    }
    // One key per account and address: concurrent first needs make one customer at Stripe.
    let key = format!(
        "billhook-customer-{user_id}-{}",
        &hex::encode(Sha256::digest(email.to_ascii_lowercase().as_bytes()))[..16]
    );
    let mut request =
        CreateCustomer::new().email(email).metadata([("billhook_user_id".to_owned(), user_id.to_string())]);
    if stripe.test_clocks() {
        let now = clock::now_ms().div_euclid(1000);
        let test_clock = CreateTestHelpersTestClock::new(now).name(format!("{email} (account {user_id})"));
        let test_clock = stripe.send_once(&test_clock, &format!("{key}-clock")).await?;
        request = request.test_clock(test_clock.id.as_str());
    }
    let customer = stripe.send_once(&request, &key).await?;
    let id = customer.id.as_str().to_owned();
    on_db!(db, pool => {
        sqlx::query("INSERT INTO billing_customers (user_id, customer_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (user_id) DO NOTHING")
            .bind(user_id)
            .bind(&id)
            .bind(clock::now_ms())
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    // Whoever stored first wins; with one idempotency key both hold the same customer anyway.
    Ok(customer_of(db, user_id).await?.unwrap_or(id))
}
