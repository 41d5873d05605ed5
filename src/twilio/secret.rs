//! Credentials and the redacting `Secret` wrapper: the only place an auth token or API key secret
//! is held, so that no `Debug`, `Display` or log line can print one by accident.

use std::fmt;

/// A secret string (auth token, API key secret). `Debug` and `Display` print `<redacted>`; there is
/// no `Serialize`. Read it only with [`Secret::expose`], at the point where it goes on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// The secret value. Never log or format the result.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How a request authenticates (HTTP Basic). The account SID is the account the credentials belong
/// to; with an API key the username is the `SK…` SID and the path still carries this `AC…` SID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credentials {
    /// Account SID + Auth Token.
    AuthToken {
        /// `AC…` SID of the account.
        account_sid: String,
        /// The account's Auth Token.
        auth_token: Secret,
    },
    /// API key (`SK…`) + its secret, owned by `account_sid`.
    ApiKey {
        /// `AC…` SID of the account owning the key.
        account_sid: String,
        /// `SK…` SID of the key.
        key_sid: String,
        /// The key's secret.
        key_secret: Secret,
    },
}

impl Credentials {
    /// The `AC…` SID of the account these credentials belong to.
    pub fn account_sid(&self) -> &str {
        match self {
            Credentials::AuthToken { account_sid, .. }
            | Credentials::ApiKey { account_sid, .. } => account_sid,
        }
    }

    /// HTTP Basic username and password.
    pub(crate) fn basic(&self) -> (&str, &str) {
        match self {
            Credentials::AuthToken {
                account_sid,
                auth_token,
            } => (account_sid, auth_token.expose()),
            Credentials::ApiKey {
                key_sid,
                key_secret,
                ..
            } => (key_sid, key_secret.expose()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact() {
        let c = Credentials::ApiKey {
            account_sid: "AC1".into(),
            key_sid: "SK1".into(),
            key_secret: Secret::new("hunter2-secret".into()),
        };
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(dbg.contains("<redacted>"));
        assert_eq!(format!("{}", Secret::from("x")), "<redacted>");
        assert_eq!(c.account_sid(), "AC1");
        assert_eq!(c.basic(), ("SK1", "hunter2-secret"));
    }
}
