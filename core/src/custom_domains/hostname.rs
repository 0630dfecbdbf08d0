//! A custom domain's name, checked before anything is stored or asked of a certificate authority.

use std::fmt;

/// A fully qualified DNS name a certificate can be issued for over HTTP-01: ASCII (IDNs in their
/// `xn--` form), at least two labels, no wildcard, not an IP address; kept in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Hostname(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostnameError {
    #[error("enter a domain name such as shop.example.com")]
    Empty,
    #[error("a domain name is at most 253 characters long")]
    TooLong,
    #[error("write an international domain name in its xn-- (punycode) form")]
    NotAscii,
    #[error("wildcard domains need a DNS-01 challenge, which Billhook does not offer; add each name")]
    Wildcard,
    #[error("an IP address is not a domain name")]
    IpAddress,
    #[error("a domain name needs at least two labels, such as shop.example.com")]
    SingleLabel,
    #[error("the label {0:?} is invalid: 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen")]
    BadLabel(String),
}

impl Hostname {
    pub fn parse(input: &str) -> Result<Self, HostnameError> {
        let name = input.trim().trim_end_matches('.').to_ascii_lowercase();
        if name.is_empty() {
            return Err(HostnameError::Empty);
        }
        if !name.is_ascii() {
            return Err(HostnameError::NotAscii);
        }
        if name.len() > 253 {
            return Err(HostnameError::TooLong);
        }
        if name.starts_with("*.") {
            return Err(HostnameError::Wildcard);
        }
        if name.parse::<std::net::IpAddr>().is_ok() {
            return Err(HostnameError::IpAddress);
        }
        let labels: Vec<&str> = name.split('.').collect();
        if labels.len() < 2 {
            return Err(HostnameError::SingleLabel);
        }
        for label in &labels {
            let valid = (1..=63).contains(&label.len())
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-');
            if !valid {
                return Err(HostnameError::BadLabel((*label).to_owned()));
            }
        }
        if labels.last().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit())) {
            return Err(HostnameError::IpAddress);
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::{Hostname, HostnameError};

    #[test]
    fn names_are_normalised() {
        assert_eq!(Hostname::parse(" Shop.Example.COM. ").unwrap().as_str(), "shop.example.com");
        assert_eq!(Hostname::parse("xn--bcher-kva.example").unwrap().as_str(), "xn--bcher-kva.example");
    }

    #[test]
    fn what_cannot_get_an_http01_certificate_is_refused_with_the_reason() {
        assert_eq!(Hostname::parse("  "), Err(HostnameError::Empty));
        assert_eq!(Hostname::parse("bücher.example"), Err(HostnameError::NotAscii));
        assert_eq!(Hostname::parse("*.example.com"), Err(HostnameError::Wildcard));
        assert_eq!(Hostname::parse("192.0.2.7"), Err(HostnameError::IpAddress));
        assert_eq!(Hostname::parse("::1"), Err(HostnameError::IpAddress));
        assert_eq!(Hostname::parse("localhost"), Err(HostnameError::SingleLabel));
        assert_eq!(Hostname::parse("-shop.example.com"), Err(HostnameError::BadLabel("-shop".into())));
        assert_eq!(Hostname::parse("shop..example"), Err(HostnameError::BadLabel(String::new())));
        assert_eq!(Hostname::parse("shop_1.example"), Err(HostnameError::BadLabel("shop_1".into())));
        assert_eq!(
            Hostname::parse(&format!("{}.example", "a".repeat(64))),
            Err(HostnameError::BadLabel("a".repeat(64)))
        );
        assert_eq!(Hostname::parse(&format!("{}example", "abcdefghi.".repeat(25))), Err(HostnameError::TooLong));
    }
}
