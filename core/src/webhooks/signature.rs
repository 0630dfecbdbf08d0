//! Stripe's webhook signature: `Stripe-Signature: t=<unix secs>,v1=<hex>[,v1=<hex>...]`, where each
//! `v1` is HMAC-SHA256 over `"{t}.{raw body}"` keyed with an endpoint secret. A delivery is
//! genuine if ANY `v1` matches ANY configured secret (rotation sends two), checked in constant
//! time, and `t` is within the tolerance of now.

use std::time::Duration;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// Why a delivery's signature was refused. `as_str` is the stable reason code used in
/// responses, metrics and the refusal log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing Stripe-Signature header")]
    MissingHeader,
    #[error("malformed Stripe-Signature header")]
    MalformedHeader,
    #[error("no v1 signature matches a configured secret")]
    NoMatch,
    #[error("timestamp outside the tolerance")]
    StaleTimestamp,
    #[error("no webhook secret is configured")]
    NotConfigured,
}

impl SignatureError {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingHeader => "missing_signature",
            Self::MalformedHeader => "malformed_signature",
            Self::NoMatch => "signature_mismatch",
            Self::StaleTimestamp => "stale_timestamp",
            Self::NotConfigured => "no_secret_configured",
        }
    }
}

/// The endpoint secrets and the timestamp tolerance.
#[derive(Clone)]
pub struct WebhookVerifier {
    secrets: Vec<SecretString>,
    tolerance: Duration,
}

impl std::fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookVerifier")
            .field("secrets", &self.secrets.len())
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

struct ParsedHeader {
    timestamp: i64,
    v1: Vec<[u8; 32]>,
}

fn parse_header(header: &str) -> Result<ParsedHeader, SignatureError> {
    let mut timestamp = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        let (key, value) = part.trim().split_once('=').ok_or(SignatureError::MalformedHeader)?;
        match key {
            "t" => timestamp = Some(value.parse::<i64>().map_err(|_| SignatureError::MalformedHeader)?),
            "v1" => {
                let mut bytes = [0u8; 32];
                // A v1 that is not 64 hex digits cannot match: skip it (another may).
                if hex::decode_to_slice(value, &mut bytes).is_ok() {
                    v1.push(bytes);
                }
            }
            _ => {} // v0 and future schemes are ignored, as Stripe's SDKs do
        }
    }
    match timestamp {
        Some(timestamp) => Ok(ParsedHeader { timestamp, v1 }),
        None => Err(SignatureError::MalformedHeader),
    }
}

impl WebhookVerifier {
    /// `secrets`: comma-separated `whsec_...` values (blank entries are ignored).
    pub fn new(secrets: &str, tolerance: Duration) -> Self {
        let secrets = secrets
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| SecretString::from(s.to_owned()))
            .collect();
        Self { secrets, tolerance }
    }

    /// Also accepts deliveries signed with `secret` (the offline sandbox's endpoint secret).
    #[must_use]
    pub fn with_secret(mut self, secret: &str) -> Self {
        self.secrets.push(SecretString::from(secret.to_owned()));
        self
    }

    pub fn has_secrets(&self) -> bool {
        !self.secrets.is_empty()
    }

    /// Checks `header` against `body` at `now` (unix seconds).
    pub fn verify(&self, header: Option<&str>, body: &[u8], now: i64) -> Result<(), SignatureError> {
        if self.secrets.is_empty() {
            return Err(SignatureError::NotConfigured);
        }
        let parsed = parse_header(header.ok_or(SignatureError::MissingHeader)?)?;
        if parsed.v1.is_empty() {
            return Err(SignatureError::MalformedHeader);
        }
        let matches = self.secrets.iter().any(|secret| {
            let mac = signed_payload_mac(secret.expose_secret(), parsed.timestamp, body);
            // `verify_slice` compares in constant time.
            parsed.v1.iter().any(|candidate| mac.clone().verify_slice(candidate).is_ok())
        });
        if !matches {
            return Err(SignatureError::NoMatch);
        }
        let tolerance = i64::try_from(self.tolerance.as_secs()).unwrap_or(i64::MAX);
        if (now - parsed.timestamp).abs() > tolerance {
            return Err(SignatureError::StaleTimestamp);
        }
        Ok(())
    }
}

fn signed_payload_mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// A `Stripe-Signature` header as Stripe would send it (for tests, benchmarks and the sandbox).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let signature = hex::encode(signed_payload_mac(secret, timestamp, body).finalize().into_bytes());
    format!("t={timestamp},v1={signature}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;
    const BODY: &[u8] = br#"{"id":"evt_1","object":"event"}"#;

    fn verifier(secrets: &str) -> WebhookVerifier {
        WebhookVerifier::new(secrets, Duration::from_secs(300))
    }

    #[test]
    fn a_signature_from_any_configured_secret_verifies() {
        let header = sign("whsec_new", NOW, BODY);
        assert_eq!(verifier("whsec_old, whsec_new").verify(Some(&header), BODY, NOW), Ok(()));
    }

    #[test]
    fn any_matching_v1_among_several_verifies() {
        let good = sign("whsec_a", NOW, BODY);
        let header = format!("t={NOW},v1={},v0=ignored,{}", "0".repeat(64), good.split(',').nth(1).unwrap());
        assert_eq!(verifier("whsec_a").verify(Some(&header), BODY, NOW), Ok(()));
    }

    #[test]
    fn a_tampered_body_or_wrong_secret_does_not_verify() {
        let header = sign("whsec_a", NOW, BODY);
        assert_eq!(verifier("whsec_a").verify(Some(&header), b"{}", NOW), Err(SignatureError::NoMatch));
        assert_eq!(verifier("whsec_b").verify(Some(&header), BODY, NOW), Err(SignatureError::NoMatch));
    }

    #[test]
    fn timestamps_outside_the_tolerance_are_refused() {
        let header = sign("whsec_a", NOW - 301, BODY);
        assert_eq!(verifier("whsec_a").verify(Some(&header), BODY, NOW), Err(SignatureError::StaleTimestamp));
        let header = sign("whsec_a", NOW - 299, BODY);
        assert_eq!(verifier("whsec_a").verify(Some(&header), BODY, NOW), Ok(()));
    }

    #[test]
    fn missing_and_malformed_headers_are_named() {
        let v = verifier("whsec_a");
        assert_eq!(v.verify(None, BODY, NOW), Err(SignatureError::MissingHeader));
        for bad in ["", "garbage", "v1=abcd", "t=notanumber,v1=00", &format!("t={NOW}"), &format!("t={NOW},v1=xyz")] {
            assert_eq!(v.verify(Some(bad), BODY, NOW), Err(SignatureError::MalformedHeader), "{bad:?}");
        }
    }

    #[test]
    fn without_secrets_nothing_verifies() {
        let header = sign("whsec_a", NOW, BODY);
        assert_eq!(verifier(" , ").verify(Some(&header), BODY, NOW), Err(SignatureError::NotConfigured));
    }
}
