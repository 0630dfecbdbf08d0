//! What an account may do.

crate::status::text_enum! {
    /// `customer` pays for subscriptions; `admin` runs the operators' dashboard and may change
    /// things there; `viewer` is a read-only operator.
    Role {
        Customer = "customer",
        Admin = "admin",
        Viewer = "viewer",
    }
}

impl Role {
    /// May see the operators' area.
    pub const fn is_operator(self) -> bool {
        matches!(self, Self::Admin | Self::Viewer)
    }
}
