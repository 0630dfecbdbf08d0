//! Statuses as stored (lower-case TEXT, also their serde form) and as the pages name them.

/// A stored text that names no value of the type it was read as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    pub type_name: &'static str,
    pub value: String,
}

impl std::fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} is not a {}", self.value, self.type_name)
    }
}

impl std::error::Error for UnknownValue {}

/// Declares a string-valued enum: its stored name, its parse, its serde form and (with `ssr`)
/// its sqlx encoding as TEXT on every database.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored (and serialised) name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Result<Self, $crate::status::UnknownValue> {
                match text {
                    $($text => Ok(Self::$variant),)+
                    other => Err($crate::status::UnknownValue { type_name: stringify!($name), value: other.to_owned() }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::status::UnknownValue;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::parse(text)
            }
        }

        #[cfg(feature = "ssr")]
        $crate::status::sql_text!($name);
    };
}

/// sqlx encoding of a [`text_enum!`] type as TEXT, generic over the database.
#[cfg(feature = "ssr")]
macro_rules! sql_text {
    ($name:ident) => {
        impl<DB: sqlx::Database> sqlx::Type<DB> for $name
        where
            str: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as sqlx::Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $name
        where
            &'static str: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                self.as_str().encode_by_ref(buf)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $name
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(value: <DB as sqlx::Database>::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                Ok(Self::parse(<&'r str as sqlx::Decode<'r, DB>>::decode(value)?)?)
            }
        }
    };
}
#[cfg(feature = "ssr")]
pub(crate) use sql_text;
pub(crate) use text_enum;

text_enum! {
    /// A stored Stripe event's place in the pipeline.
    EventStatus {
        Received = "received",
        Queued = "queued",
        Processing = "processing",
        Processed = "processed",
        Failed = "failed",
        Ignored = "ignored",
    }
}

text_enum! {
    /// A data export's progress.
    ExportStatus {
        Queued = "queued",
        Building = "building",
        Ready = "ready",
        Failed = "failed",
        Expired = "expired",
    }
}

impl ExportStatus {
    /// What the account page says.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Queued => "Queued",
            Self::Building => "Being built",
            Self::Ready => "Ready",
            Self::Failed => "Failed",
            Self::Expired => "Expired",
        }
    }

    /// Still being made: a new request returns this one instead of queueing another.
    pub const fn in_progress(self) -> bool {
        matches!(self, Self::Queued | Self::Building)
    }
}

text_enum! {
    /// A custom domain's certificate.
    CertificateStatus {
        Pending = "pending",
        Issuing = "issuing",
        Active = "active",
        Failed = "failed",
    }
}

impl EventStatus {
    /// What the operators' pages say.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Received => "Received (being queued)",
            Self::Queued => "Queued",
            Self::Processing => "Processing",
            Self::Processed => "Processed",
            Self::Failed => "Failed",
            Self::Ignored => "Ignored (no handler)",
        }
    }
}

impl CertificateStatus {
    pub const fn label(self) -> &'static str {
        match self {
            Self::Pending => "Queued",
            Self::Issuing => "Being issued",
            Self::Active => "Active",
            Self::Failed => "Failed; retried automatically",
        }
    }
}

text_enum! {
    /// A Stripe subscription's status (Stripe's names).
    SubscriptionStatus {
        Incomplete = "incomplete",
        IncompleteExpired = "incomplete_expired",
        Trialing = "trialing",
        Active = "active",
        PastDue = "past_due",
        Canceled = "canceled",
        Unpaid = "unpaid",
        Paused = "paused",
    }
}

impl SubscriptionStatus {
    pub const fn label(self) -> &'static str {
        match self {
            Self::Incomplete => "Awaiting payment",
            Self::IncompleteExpired => "Expired before payment",
            Self::Trialing => "Trial",
            Self::Active => "Active",
            Self::PastDue => "Payment overdue",
            Self::Canceled => "Cancelled",
            Self::Unpaid => "Unpaid",
            Self::Paused => "Paused",
        }
    }

    /// Orders the statuses Stripe may stamp with the same second: a subscription is created
    /// `incomplete` and becomes `active` within it; the terminal states win ties.
    pub const fn rank(self) -> i64 {
        match self {
            Self::Incomplete => 0,
            Self::Trialing => 1,
            Self::Active => 2,
            Self::PastDue => 3,
            Self::Unpaid | Self::Paused => 4,
            Self::Canceled | Self::IncompleteExpired => 5,
        }
    }

    /// The customer has the service: paid up, in a trial, or in Stripe's retry window.
    pub const fn grants_access(self) -> bool {
        matches!(self, Self::Active | Self::Trialing | Self::PastDue)
    }
}

text_enum! {
    /// A Stripe invoice's status (Stripe's names).
    InvoiceStatus {
        Draft = "draft",
        Open = "open",
        Paid = "paid",
        Uncollectible = "uncollectible",
        Void = "void",
    }
}

impl InvoiceStatus {
    pub const fn label(self) -> &'static str {
        match self {
            Self::Draft => "Draft",
            Self::Open => "Due",
            Self::Paid => "Paid",
            Self::Uncollectible => "Uncollectible",
            Self::Void => "Void",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_what_it_writes() {
        for s in EventStatus::ALL {
            assert_eq!(EventStatus::parse(s.as_str()), Ok(*s));
        }
        for s in SubscriptionStatus::ALL {
            assert_eq!(s.as_str().parse::<SubscriptionStatus>(), Ok(*s));
            assert_eq!(serde_json::to_string(s).unwrap(), format!("\"{}\"", s.as_str()));
        }
        assert_eq!(serde_json::from_str::<ExportStatus>("\"ready\"").unwrap(), ExportStatus::Ready);
    }

    #[test]
    fn an_unknown_status_is_an_error_naming_it() {
        let error = CertificateStatus::parse("revoked").unwrap_err();
        assert_eq!(error.to_string(), "\"revoked\" is not a CertificateStatus");
    }

    #[test]
    fn terminal_subscription_states_win_ties() {
        assert!(SubscriptionStatus::Active.rank() > SubscriptionStatus::Incomplete.rank());
        assert!(SubscriptionStatus::Canceled.rank() > SubscriptionStatus::PastDue.rank());
    }
}
