//! The parts of a Stripe event envelope that Billhook stores beside the raw body. Parsing is
//! deliberately shallow: the body is kept byte for byte, and handlers read the object later.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventEnvelope {
    pub id: String,
    pub event_type: String,
    pub api_version: Option<String>,
    /// Stripe's `created`, unix seconds.
    pub created: i64,
    pub livemode: bool,
    /// `data.object.id`, when the object has one (`invoice.upcoming`'s has none).
    pub object_id: Option<String>,
}

#[derive(Deserialize)]
struct Raw {
    id: String,
    object: String,
    #[serde(rename = "type")]
    event_type: String,
    api_version: Option<String>,
    created: i64,
    #[serde(default)]
    livemode: bool,
    data: RawData,
}

#[derive(Deserialize)]
struct RawData {
    object: RawObject,
}

#[derive(Deserialize)]
struct RawObject {
    id: Option<String>,
}

/// Why a correctly signed body is still not an event Billhook can take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the body is not a JSON Stripe event: {0}")]
    NotAnEvent(String),
    #[error("the event id {0:?} does not start with evt_")]
    BadId(String),
}

impl EnvelopeError {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::NotAnEvent(_) => "not_an_event",
            Self::BadId(_) => "bad_event_id",
        }
    }
}

impl EventEnvelope {
    /// Reads a delivery's body, which must be UTF-8 throughout: it is kept byte for byte, and
    /// serde_json does not check the strings it skips. Gives the envelope with the body as text
    /// (the same buffer, not a copy), or the reason with the body's bytes, to keep as unusable.
    pub fn read(body: Vec<u8>) -> Result<(Self, String), (EnvelopeError, Vec<u8>)> {
        match String::from_utf8(body) {
            Ok(text) => match Self::parse(&text) {
                Ok(envelope) => Ok((envelope, text)),
                Err(e) => Err((e, text.into_bytes())),
            },
            Err(e) => Err((EnvelopeError::NotAnEvent(format!("not UTF-8: {}", e.utf8_error())), e.into_bytes())),
        }
    }

    /// Reads the envelope of an event's JSON text.
    pub fn parse(body: &str) -> Result<Self, EnvelopeError> {
        let raw: Raw = serde_json::from_str(body).map_err(|e| EnvelopeError::NotAnEvent(e.to_string()))?;
        if raw.object != "event" {
            return Err(EnvelopeError::NotAnEvent(format!("object is {:?}, not \"event\"", raw.object)));
        }
        if !raw.id.starts_with("evt_") || raw.id.len() > 255 {
            return Err(EnvelopeError::BadId(raw.id));
        }
        Ok(Self {
            id: raw.id,
            event_type: raw.event_type,
            api_version: raw.api_version,
            created: raw.created,
            livemode: raw.livemode,
            object_id: raw.data.object.id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_envelope_is_read_and_the_rest_left_alone() {
        let body = br#"{"id":"evt_1","object":"event","type":"invoice.paid","api_version":"2026-09-30.clover","created":1700000000,"livemode":false,"data":{"object":{"id":"in_1","object":"invoice"}},"pending_webhooks":1}"#;
        let (event, text) = EventEnvelope::read(body.to_vec()).unwrap();
        assert_eq!(text.as_bytes(), body, "the body is kept as it came");
        assert_eq!(event.id, "evt_1");
        assert_eq!(event.event_type, "invoice.paid");
        assert_eq!(event.object_id.as_deref(), Some("in_1"));
        assert_eq!(event.created, 1_700_000_000);
    }

    #[test]
    fn anything_else_is_refused_with_its_reason() {
        assert_eq!(EventEnvelope::parse("not json").unwrap_err().as_str(), "not_an_event");
        // Valid JSON syntax, but a skipped string holds a byte that is not UTF-8.
        let not_utf8 = b"{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"a\",\"created\":1,\"x\":\"\xff\",\"data\":{\"object\":{}}}";
        let (error, kept) = EventEnvelope::read(not_utf8.to_vec()).unwrap_err();
        assert_eq!(error.as_str(), "not_an_event");
        assert_eq!(kept, not_utf8, "the bytes come back to be kept as unusable");
        assert_eq!(EventEnvelope::parse(r#"{"id":"cus_1","object":"customer"}"#).unwrap_err().as_str(), "not_an_event");
        let wrong_id = r#"{"id":"x1","object":"event","type":"a","api_version":null,"created":1,"data":{"object":{}}}"#;
        assert_eq!(EventEnvelope::parse(wrong_id).unwrap_err().as_str(), "bad_event_id");
    }
}
