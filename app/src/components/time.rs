//! How a moment is shown: [`Timestamp`]'s text (`YYYY-MM-DD HH:MM UTC`, the same on the server
//! and in the browser, so hydration agrees) in a `<time>` element with the exact instant.

use billhook_model::Timestamp;
use leptos::prelude::*;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// The instant as RFC 3339 (`2026-11-26T18:04:17.914Z`), for `<time datetime>`.
fn machine_readable(at: Timestamp) -> Option<String> {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(at.as_millis()) * 1_000_000).ok()?;
    at.format(&Rfc3339).ok()
}

#[component]
pub fn Time(at: Timestamp) -> impl IntoView {
    view! { <time datetime=machine_readable(at)>{at.to_string()}</time> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_datetime_attribute_is_rfc_3339_in_utc() {
        assert_eq!(machine_readable(Timestamp(1_795_716_257_914)).as_deref(), Some("2026-11-26T18:04:17.914Z"));
        assert_eq!(machine_readable(Timestamp(0)).as_deref(), Some("1970-01-01T00:00:00Z"));
    }
}
