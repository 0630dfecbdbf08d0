use std::fmt;

/// A syntactically plausible e-mail address, trimmed and lower-cased (addresses are compared
/// case-insensitively for log-in and uniqueness).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err("enter an e-mail address");
        }
        if email.len() > 254 {
            return Err("that e-mail address is too long");
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err("an e-mail address needs an @");
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !domain.contains('@');
        // RFC 5322's specials have no place in an unquoted address, and in a mail header they
        // would start another part of it (`<`, `>`, `"`, `,`, ...): such an address is refused.
        let special = |c: char| c.is_whitespace() || c.is_control() || "<>\"(),;:\\[]".contains(c);
        if local.is_empty() || !domain_ok || email.chars().any(special) {
            return Err("that does not look like an e-mail address");
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        assert_eq!(Email::parse("  Ada@Example.COM ").unwrap().as_str(), "ada@example.com");
    }

    #[test]
    fn implausible_addresses_are_refused() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@.com",
            "ada@example.com.",
            "a da@example.com",
            "ada@ex..com",
            "a@b@c.com",
            "ada<evil@example.com>@example.com",
            "\"ada\"@example.com",
            "ada@example.com>",
            "ada,eve@example.com",
            "ada;eve@example.com",
            "ada(x)@example.com",
            "ada\\@example.com",
            "ada@[127.0.0.1]",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn overlong_addresses_are_refused() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }
}
