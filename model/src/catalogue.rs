//! The catalogue: the subscription types a customer can hold at once (a Basic plan, an "SSL for
//! custom domains" add-on that needs Basic, more later), each with its prices. It is
//! configuration (`billhook.toml` or `BILLHOOK_CATALOGUE`), synced to Stripe by lookup key; a new
//! type or price is a configuration change, not a code change.

use serde::{Deserialize, Serialize};

/// How often a price bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Month,
    Year,
}

impl Interval {
    /// Stripe's word (`recurring.interval`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Year => "year",
        }
    }

    /// "monthly", "yearly".
    pub fn adverb(self) -> &'static str {
        match self {
            Self::Month => "monthly",
            Self::Year => "yearly",
        }
    }
}

/// One price of a subscription type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CataloguePrice {
    /// The price's Stripe `lookup_key` (`basic_monthly`): how Billhook finds it at Stripe.
    pub lookup_key: String,
    /// In the currency's minor unit (cents).
    pub amount: i64,
    /// ISO 4217, lower case (`eur`).
    pub currency: String,
    pub interval: Interval,
}

/// A subscription type (a Stripe product).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionType {
    /// Stable key (`basic`, `ssl`); the Stripe product's id is `billhook_{key}`.
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The key of a type that must be active for this one to be taken and kept (the SSL add-on
    /// requires `basic`): refused without it, cancelled when it ends.
    #[serde(default)]
    pub requires: Option<String>,
    /// Holding it lets the customer add custom domains (the SSL add-on).
    #[serde(default)]
    pub custom_domains: bool,
    pub prices: Vec<CataloguePrice>,
}

impl SubscriptionType {
    /// The Stripe product id this type is synced to.
    pub fn product_id(&self) -> String {
        format!("billhook_{}", self.key)
    }
}

/// Every subscription type on offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Catalogue {
    pub types: Vec<SubscriptionType>,
}

/// Why a catalogue cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueError(pub String);

impl std::fmt::Display for CatalogueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the catalogue is not valid: {}", self.0)
    }
}

impl std::error::Error for CatalogueError {}

fn is_key(s: &str) -> bool {
    !s.is_empty() && s.len() <= 60 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Catalogue {
    /// The type with `key`.
    pub fn subscription_type(&self, key: &str) -> Option<&SubscriptionType> {
        self.types.iter().find(|t| t.key == key)
    }

    /// The price with `lookup_key`, with its type.
    pub fn price(&self, lookup_key: &str) -> Option<(&SubscriptionType, &CataloguePrice)> {
        self.types.iter().find_map(|t| t.prices.iter().find(|p| p.lookup_key == lookup_key).map(|p| (t, p)))
    }

    /// Every price of the catalogue, with its type.
    pub fn prices(&self) -> impl Iterator<Item = (&SubscriptionType, &CataloguePrice)> {
        self.types.iter().flat_map(|t| t.prices.iter().map(move |p| (t, p)))
    }

    /// Checks what the configuration cannot: keys unique and well-formed, every type priced,
    /// amounts positive, `requires` naming another type without a cycle.
    pub fn validate(&self) -> Result<(), CatalogueError> {
        let fail = |message: String| Err(CatalogueError(message));
        if self.types.is_empty() {
            return fail("it has no subscription types".into());
        }
        let mut lookup_keys = std::collections::HashSet::new();
        for (i, t) in self.types.iter().enumerate() {
            if !is_key(&t.key) {
                return fail(format!("type key {:?}: use 1-60 of a-z, 0-9 and _", t.key));
            }
            if self.types[..i].iter().any(|other| other.key == t.key) {
                return fail(format!("type {:?} appears twice", t.key));
            }
            if t.name.trim().is_empty() {
                return fail(format!("type {:?} has no name", t.key));
            }
            if t.prices.is_empty() {
                return fail(format!("type {:?} has no prices", t.key));
            }
            for p in &t.prices {
                if !is_key(&p.lookup_key) {
                    return fail(format!("lookup key {:?}: use 1-60 of a-z, 0-9 and _", p.lookup_key));
                }
                if !lookup_keys.insert(p.lookup_key.as_str()) {
                    return fail(format!("lookup key {:?} appears twice", p.lookup_key));
                }
                if p.amount <= 0 {
                    return fail(format!("price {:?} must cost more than nothing", p.lookup_key));
                }
                if p.currency.len() != 3 || !p.currency.bytes().all(|b| b.is_ascii_lowercase()) {
                    return fail(format!(
                        "price {:?}: currency {:?} is not an ISO code like eur",
                        p.lookup_key, p.currency
                    ));
                }
            }
            if let Some(required) = &t.requires
                && (required == &t.key || self.subscription_type(required).is_none())
            {
                return fail(format!("type {:?} requires {required:?}, which is not another type", t.key));
            }
        }
        for t in &self.types {
            // Follow `requires` from each type: a chain longer than the catalogue is a cycle.
            let mut at = t;
            for _ in 0..=self.types.len() {
                match at.requires.as_deref().and_then(|r| self.subscription_type(r)) {
                    Some(next) => at = next,
                    None => break,
                }
                if at.key == t.key {
                    return fail(format!("type {:?} requires itself through others", t.key));
                }
            }
        }
        Ok(())
    }
}

impl Default for Catalogue {
    /// Basic (monthly and yearly) and the SSL add-on (monthly, needs Basic), in euros.
    fn default() -> Self {
        let price = |lookup_key: &str, amount, interval| CataloguePrice {
            lookup_key: lookup_key.to_owned(),
            amount,
            currency: "eur".to_owned(),
            interval,
        };
        Self {
            types: vec![
                SubscriptionType {
                    key: "basic".into(),
                    name: "Basic".into(),
                    description: "Your link blog, hosted.".into(),
                    requires: None,
                    custom_domains: false,
                    prices: vec![
                        price("basic_monthly", 500, Interval::Month),
                        price("basic_yearly", 5000, Interval::Year),
                    ],
                },
                SubscriptionType {
                    key: "ssl".into(),
                    name: "SSL for custom domains".into(),
                    description: "Serve your blog on your own domain, with a certificate we keep renewed.".into(),
                    requires: Some("basic".into()),
                    custom_domains: true,
                    prices: vec![price("ssl_monthly", 300, Interval::Month)],
                },
            ],
        }
    }
}

/// Stripe's zero-decimal currencies: their amounts are whole units.
const ZERO_DECIMAL: &[&str] =
    &["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"];

/// An amount in the currency's minor unit, for people: `5.00 EUR`, `500 JPY`.
pub fn format_amount(amount: i64, currency: &str) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    let code = currency.to_ascii_uppercase();
    if ZERO_DECIMAL.contains(&currency.to_ascii_lowercase().as_str()) {
        format!("{sign}{abs} {code}")
    } else {
        format!("{sign}{}.{:02} {code}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_catalogue_is_valid_and_findable() {
        let catalogue = Catalogue::default();
        catalogue.validate().unwrap();
        let (kind, price) = catalogue.price("basic_yearly").unwrap();
        assert_eq!((kind.key.as_str(), price.amount, price.interval), ("basic", 5000, Interval::Year));
        assert_eq!(catalogue.subscription_type("ssl").unwrap().requires.as_deref(), Some("basic"));
        assert_eq!(catalogue.prices().count(), 3);
    }

    #[test]
    fn mistakes_are_named() {
        let mut twice = Catalogue::default();
        twice.types[1].prices[0].lookup_key = "basic_monthly".into();
        assert!(twice.validate().unwrap_err().0.contains("basic_monthly"));
        let mut dangling = Catalogue::default();
        dangling.types[1].requires = Some("gold".into());
        assert!(dangling.validate().unwrap_err().0.contains("gold"));
        let mut cycle = Catalogue::default();
        cycle.types[0].requires = Some("ssl".into());
        assert!(cycle.validate().unwrap_err().0.contains("itself"));
        let mut free = Catalogue::default();
        free.types[0].prices[0].amount = 0;
        assert!(free.validate().is_err());
        let mut currency = Catalogue::default();
        currency.types[0].prices[0].currency = "EURO".into();
        assert!(currency.validate().is_err());
    }

    #[test]
    fn amounts_read_as_money() {
        assert_eq!(format_amount(500, "eur"), "5.00 EUR");
        assert_eq!(format_amount(-1234, "usd"), "-12.34 USD");
        assert_eq!(format_amount(7, "eur"), "0.07 EUR");
        assert_eq!(format_amount(500, "jpy"), "500 JPY");
    }
}
