//! Stripe's test cards, and what each does when it is charged or set up, as in Stripe test mode.
//! A card number (typed into the Payment Element) or one of Stripe's test PaymentMethod ids
//! (`pm_card_visa`, ...; each use makes a fresh PaymentMethod, as in test mode) selects one.

/// What a test card does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Every charge and setup succeeds.
    Succeeds,
    /// 3-D Secure on-session; once set up (authenticated), off-session charges succeed.
    AuthenticateOnce,
    /// Every payment needs authentication; off-session ones fail with `authentication_required`.
    AlwaysAuthenticate,
    /// Charges are declined with this decline code (`card_declined`); setting the card up works
    /// unless `setup_fails`.
    Declined { decline_code: &'static str, setup_fails: bool },
}

/// A test card: its number, brand and behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestCard {
    pub number: &'static str,
    pub brand: &'static str,
    pub behaviour: Behaviour,
}

const CARDS: &[TestCard] = &[
    TestCard { number: "4242424242424242", brand: "visa", behaviour: Behaviour::Succeeds },
    TestCard { number: "5555555555554444", brand: "mastercard", behaviour: Behaviour::Succeeds },
    TestCard { number: "4000002500003155", brand: "visa", behaviour: Behaviour::AuthenticateOnce },
    TestCard { number: "4000000000003220", brand: "visa", behaviour: Behaviour::AlwaysAuthenticate },
    TestCard { number: "4000002760003184", brand: "visa", behaviour: Behaviour::AlwaysAuthenticate },
    TestCard {
        number: "4000000000000002",
        brand: "visa",
        behaviour: Behaviour::Declined { decline_code: "generic_decline", setup_fails: true },
    },
    TestCard {
        number: "4000000000009995",
        brand: "visa",
        behaviour: Behaviour::Declined { decline_code: "insufficient_funds", setup_fails: false },
    },
    TestCard {
        number: "4000000000000341",
        brand: "visa",
        behaviour: Behaviour::Declined { decline_code: "generic_decline", setup_fails: false },
    },
];

/// Stripe's test PaymentMethod ids and the card each stands for.
const TEST_METHODS: &[(&str, &str)] = &[
    ("pm_card_visa", "4242424242424242"),
    ("pm_card_mastercard", "5555555555554444"),
    ("pm_card_threeDSecureRequired", "4000002500003155"),
    ("pm_card_threeDSecure2Required", "4000000000003220"),
    ("pm_card_authenticationRequired", "4000002760003184"),
    ("pm_card_chargeDeclined", "4000000000000002"),
    ("pm_card_chargeDeclinedInsufficientFunds", "4000000000009995"),
    ("pm_card_chargeCustomerFail", "4000000000000341"),
];

/// The test card with `number` (spaces ignored); any other number that passes the Luhn check
/// behaves like 4242 4242 4242 4242, as Stripe's test mode accepts any valid number. None: not a
/// card number.
pub fn by_number(number: &str) -> Option<TestCard> {
    let digits: String = number.chars().filter(|c| !c.is_whitespace()).collect();
    if !(12..=19).contains(&digits.len()) || !luhn(&digits) {
        return None;
    }
    let brand = if digits.starts_with('5') { "mastercard" } else { "visa" };
    Some(CARDS.iter().find(|c| c.number == digits).copied().unwrap_or(TestCard {
        number: CARDS[0].number,
        brand,
        behaviour: Behaviour::Succeeds,
    }))
}

/// The test card whose number ends in `last4` (each of Stripe's test cards ends differently).
pub fn by_last4(last4: &str) -> Option<TestCard> {
    CARDS.iter().find(|c| c.number.ends_with(last4) && last4.len() == 4).copied()
}

/// The card a test PaymentMethod id stands for.
pub fn by_test_method(id: &str) -> Option<TestCard> {
    TEST_METHODS.iter().find(|(method, _)| *method == id).and_then(|(_, number)| by_number(number))
}

fn luhn(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let Some(mut d) = c.to_digit(10) else { return false };
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripes_test_cards_and_methods_are_known() {
        assert_eq!(by_number("4242 4242 4242 4242").unwrap().behaviour, Behaviour::Succeeds);
        assert_eq!(by_number("4000002760003184").unwrap().behaviour, Behaviour::AlwaysAuthenticate);
        assert_eq!(by_test_method("pm_card_threeDSecureRequired").unwrap().behaviour, Behaviour::AuthenticateOnce);
        assert_eq!(
            by_test_method("pm_card_chargeDeclinedInsufficientFunds").unwrap().behaviour,
            Behaviour::Declined { decline_code: "insufficient_funds", setup_fails: false }
        );
        assert!(by_test_method("pm_card_unknown").is_none());
    }

    #[test]
    fn a_number_that_fails_the_luhn_check_is_no_card() {
        assert!(by_number("4242424242424241").is_none());
        assert!(by_number("4242").is_none());
        assert!(by_number("4242 abcd 4242 4242").is_none());
    }
}
