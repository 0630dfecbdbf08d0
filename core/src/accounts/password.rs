use argon2::{
    Argon2, PasswordHasher, PasswordVerifier,
    password_hash::{self, SaltString, rand_core::OsRng},
};
use secrecy::{ExposeSecret, SecretString};

/// A password as typed: never logged (Debug is redacted), checked for length only
/// (NIST SP 800-63B: length beats composition rules).
#[derive(Debug, Clone)]
pub struct Password(SecretString);

pub const MIN_PASSWORD_LEN: usize = 8;
pub const MAX_PASSWORD_LEN: usize = 128;

impl Password {
    pub fn parse(raw: String) -> Result<Self, &'static str> {
        let len = raw.chars().count();
        if len < MIN_PASSWORD_LEN {
            return Err("the password needs at least 8 characters");
        }
        if len > MAX_PASSWORD_LEN {
            return Err("the password may have at most 128 characters");
        }
        Ok(Self(SecretString::from(raw)))
    }

    /// A password as given at log-in: not length-checked (the rules may have changed since).
    pub fn for_login(raw: String) -> Self {
        Self(SecretString::from(raw))
    }

    /// Hashes with argon2id (the crate's defaults: 19 MiB, 2 passes). CPU-heavy: call it off the
    /// async runtime (see `Accounts`).
    pub fn hash(&self) -> Result<PasswordHash, password_hash::Error> {
        let salt = SaltString::generate(&mut OsRng);
        let hash = Argon2::default().hash_password(self.0.expose_secret().as_bytes(), &salt)?;
        Ok(PasswordHash(hash.to_string()))
    }

    /// Constant-time check against a stored PHC string.
    pub fn verify(&self, hash: &PasswordHash) -> bool {
        argon2::PasswordHash::new(&hash.0)
            .map(|parsed| Argon2::default().verify_password(self.0.expose_secret().as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    }
}

/// A stored argon2 PHC string. Deliberately neither Serialize nor Display.
#[derive(Clone)]
pub struct PasswordHash(pub(crate) String);

impl PasswordHash {
    /// A short digest of the stored hash (a new salt makes every new password's differ): what a
    /// session keeps to notice that the password changed, without keeping the hash itself.
    pub fn stamp(&self) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(&Sha256::digest(self.0.as_bytes())[..12])
    }
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_overlong_passwords_are_refused() {
        assert!(Password::parse("short".into()).is_err());
        assert!(Password::parse("x".repeat(129)).is_err());
        assert!(Password::parse("long enough".into()).is_ok());
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = Password::parse("correct horse".into()).unwrap().hash().unwrap();
        assert!(hash.0.starts_with("$argon2id$"));
        assert!(Password::for_login("correct horse".into()).verify(&hash));
        assert!(!Password::for_login("wrong horse".into()).verify(&hash));
    }

    #[test]
    fn debug_output_hides_secrets() {
        let password = Password::parse("correct horse".into()).unwrap();
        assert!(!format!("{password:?}").contains("horse"));
        assert_eq!(format!("{:?}", password.hash().unwrap()), "PasswordHash(..)");
    }
}
