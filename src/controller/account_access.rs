//! From a `TelephonyAccount` to an authenticated Twilio API for the account it names.
//!
//! BringYourOwn: credentials read from the tenant's Secret. Managed: the platform's master
//! credentials (a Secret in the operator's own namespace, never readable by tenants) acting on
//! the account's subaccount.
//!
//! A PhoneNumber reconcile reaches its account's API through `access_for`, and thousands of them
//! run within seconds (a restart, a burst of purchases): the credentials read there are kept for
//! `CREDENTIALS_TTL` per (Secret, account resourceVersion), so they share one Secret read instead
//! of one each. A rotated Secret is used within that time (at once when the account's status
//! changes with it); the account controller always reads the Secret itself.

use super::Context;
use crate::api::{AccountMode, CredentialsSecretRef, TelephonyAccount};
use crate::controller::conditions::Reason;
use crate::twilio::{AccountApi, Credentials, Routing, Secret as TwilioSecret};
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, ResourceExt};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long `access_for` reuses credentials it read.
pub const CREDENTIALS_TTL: Duration = Duration::from_secs(2);

/// Credentials read recently by `access_for`, by (namespace, Secret name, the account's
/// resourceVersion). Expired entries are dropped on every insert (bounded by the accounts
/// reconciled within the TTL).
#[derive(Default)]
pub struct CredentialsCache {
    entries: Mutex<HashMap<CredentialsKey, (Instant, Credentials)>>,
}

/// (namespace, Secret name, the account's resourceVersion).
type CredentialsKey = (String, String, String);

impl CredentialsCache {
    fn get(&self, key: &CredentialsKey) -> Option<Credentials> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < CREDENTIALS_TTL)
            .map(|(_, c)| c.clone())
    }

    fn put(&self, key: CredentialsKey, creds: &Credentials) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, (at, _)| at.elapsed() < CREDENTIALS_TTL);
        entries.insert(key, (Instant::now(), creds.clone()));
    }

    /// `read`'s credentials, or those read for the same key within the TTL.
    async fn get_or_read(
        &self,
        key: CredentialsKey,
        read: impl Future<Output = Result<Credentials, AccessError>>,
    ) -> Result<Credentials, AccessError> {
        if let Some(c) = self.get(&key) {
            return Ok(c);
        }
        let creds = read.await?;
        self.put(key, &creds);
        Ok(creds)
    }
}

/// Why an account cannot be reached. Each variant has a condition reason and a message a person
/// can act on; none of them carries a secret value.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error(
        "Secret {namespace}/{name} was not found: create it with the account's Twilio credentials"
    )]
    SecretNotFound { namespace: String, name: String },
    #[error("Secret {namespace}/{name} has no key {key:?}: {hint}")]
    KeyMissing {
        namespace: String,
        name: String,
        key: String,
        hint: &'static str,
    },
    #[error("Secret {namespace}/{name}: {problem}")]
    InvalidCredentials {
        namespace: String,
        name: String,
        problem: String,
    },
    #[error("spec.credentialsSecretRef is required for a BringYourOwn account")]
    NoSecretRef,
    #[error(
        "the operator's master Twilio credentials (Secret {namespace}/{name}) are missing or incomplete: {problem}"
    )]
    MasterCredentialsMissing {
        namespace: String,
        name: String,
        problem: String,
    },
    #[error("the Managed account has no Twilio subaccount yet")]
    NotConnected,
    #[error("reading Secret {namespace}/{name}: {source}")]
    Kube {
        namespace: String,
        name: String,
        #[source]
        source: kube::Error,
    },
}

impl AccessError {
    /// The condition reason for this error.
    pub fn reason(&self) -> Reason {
        match self {
            AccessError::SecretNotFound { .. } => Reason::SecretNotFound,
            AccessError::KeyMissing { .. } => Reason::KeyMissing,
            AccessError::InvalidCredentials { .. } => Reason::InvalidCredentials,
            AccessError::NoSecretRef => Reason::SecretRefMissing,
            AccessError::MasterCredentialsMissing { .. } => Reason::MasterCredentialsMissing,
            AccessError::NotConnected => Reason::NotConnected,
            AccessError::Kube { .. } => Reason::KubernetesError,
        }
    }
    /// Whether retrying later without a change by a person can help.
    /// A property of the reason (`Reason::transient`): KubernetesError and NotConnected.
    pub fn is_transient(&self) -> bool {
        self.reason().transient() == Some(true)
    }
}

/// An authenticated handle on the Twilio account (or subaccount) a TelephonyAccount names.
pub struct AccountAccess {
    pub api: AccountApi,
    pub mode: AccountMode,
}

/// Twilio routing (region/edge) of an account.
pub fn routing(account: &TelephonyAccount) -> Routing {
    Routing {
        region: account.spec.region.clone(),
        edge: account.spec.edge.clone(),
    }
}

/// The Twilio API for `account`. Managed accounts need `status.accountSid` (their subaccount).
pub async fn access_for(
    ctx: &Context,
    account: &TelephonyAccount,
) -> Result<AccountAccess, AccessError> {
    let routing = routing(account);
    match account.spec.mode {
        AccountMode::BringYourOwn => {
            let secret_ref = account
                .spec
                .credentials_secret_ref
                .as_ref()
                .ok_or(AccessError::NoSecretRef)?;
            let namespace = account.namespace().unwrap_or_default();
            let key = (
                namespace.clone(),
                secret_ref.name.clone(),
                account.resource_version().unwrap_or_default(),
            );
            let creds = ctx
                .credentials
                .get_or_read(key, byo_credentials(ctx, &namespace, secret_ref))
                .await?;
            Ok(AccountAccess {
                api: ctx.twilio.account(&creds, &routing),
                mode: AccountMode::BringYourOwn,
            })
        }
        AccountMode::Managed => {
            let sub = account
                .status
                .as_ref()
                .and_then(|s| s.account_sid.clone())
                .ok_or(AccessError::NotConnected)?;
            let key = (
                ctx.config.operator_namespace.clone(),
                ctx.config.master_credentials_secret.clone(),
                String::new(),
            );
            let master = ctx
                .credentials
                .get_or_read(key, master_credentials(ctx))
                .await?;
            Ok(AccountAccess {
                api: ctx.twilio.subaccount(&master, &sub, &routing),
                mode: AccountMode::Managed,
            })
        }
    }
}

/// The platform's master credentials from the operator's own namespace.
pub async fn master_credentials(ctx: &Context) -> Result<Credentials, AccessError> {
    let namespace = ctx.config.operator_namespace.clone();
    let name = ctx.config.master_credentials_secret.clone();
    let secret_ref = CredentialsSecretRef {
        name: name.clone(),
        account_sid_key: None,
        auth_token_key: None,
        api_key_sid_key: None,
        api_key_secret_key: None,
    };
    byo_credentials(ctx, &namespace, &secret_ref)
        .await
        .map_err(|e| match e {
            AccessError::Kube { .. } => e,
            other => AccessError::MasterCredentialsMissing {
                namespace,
                name,
                problem: other.to_string(),
            },
        })
}

/// Reads BringYourOwn credentials from a Secret.
pub async fn byo_credentials(
    ctx: &Context,
    namespace: &str,
    secret_ref: &CredentialsSecretRef,
) -> Result<Credentials, AccessError> {
    let api: Api<Secret> = Api::namespaced(ctx.kube.clone(), namespace);
    let secret = api
        .get_opt(&secret_ref.name)
        .await
        .map_err(|source| AccessError::Kube {
            namespace: namespace.to_string(),
            name: secret_ref.name.clone(),
            source,
        })?;
    let secret = secret.ok_or_else(|| AccessError::SecretNotFound {
        namespace: namespace.to_string(),
        name: secret_ref.name.clone(),
    })?;
    credentials_from_secret(namespace, &secret, secret_ref)
}

fn secret_value(secret: &Secret, key: &str) -> Option<String> {
    let from_data = secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .and_then(|b| String::from_utf8(b.0.clone()).ok());
    let from_string_data = || {
        secret
            .string_data
            .as_ref()
            .and_then(|d| d.get(key).cloned())
    };
    from_data
        .or_else(from_string_data)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Pure part of credential resolution: which keys are used and what is wrong with them.
pub fn credentials_from_secret(
    namespace: &str,
    secret: &Secret,
    secret_ref: &CredentialsSecretRef,
) -> Result<Credentials, AccessError> {
    let name = secret.metadata.name.clone().unwrap_or_default();
    let missing = |key: &str, hint: &'static str| AccessError::KeyMissing {
        namespace: namespace.to_string(),
        name: name.clone(),
        key: key.to_string(),
        hint,
    };
    let invalid = |problem: String| AccessError::InvalidCredentials {
        namespace: namespace.to_string(),
        name: name.clone(),
        problem,
    };
    let account_sid = secret_value(secret, secret_ref.account_sid_key())
        .ok_or_else(|| missing(secret_ref.account_sid_key(), "add the Account SID (AC…)"))?;
    if !is_sid(&account_sid, "AC") {
        return Err(invalid(format!(
            "key {:?} does not hold an Account SID (AC followed by 32 hex digits)",
            secret_ref.account_sid_key()
        )));
    }
    if let Some(token) = secret_value(secret, secret_ref.auth_token_key()) {
        return Ok(Credentials::AuthToken {
            account_sid,
            auth_token: TwilioSecret::new(token),
        });
    }
    match (
        secret_value(secret, secret_ref.api_key_sid_key()),
        secret_value(secret, secret_ref.api_key_secret_key()),
    ) {
        (Some(key_sid), Some(key_secret)) => {
            if !is_sid(&key_sid, "SK") {
                return Err(invalid(format!(
                    "key {:?} does not hold an API key SID (SK followed by 32 hex digits)",
                    secret_ref.api_key_sid_key()
                )));
            }
            Ok(Credentials::ApiKey {
                account_sid,
                key_sid,
                key_secret: TwilioSecret::new(key_secret),
            })
        }
        (Some(_), None) => Err(missing(
            secret_ref.api_key_secret_key(),
            "add the API key secret",
        )),
        _ => Err(missing(
            secret_ref.auth_token_key(),
            "add an Auth Token, or an API key SID and secret under the apiKeySid/apiKeySecret keys",
        )),
    }
}

fn is_sid(value: &str, prefix: &str) -> bool {
    value.len() == 34
        && value.starts_with(prefix)
        && value[2..].chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;
    use std::collections::BTreeMap;

    fn secret(pairs: &[(&str, &str)]) -> Secret {
        let data: BTreeMap<String, ByteString> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec())))
            .collect();
        Secret {
            metadata: kube::api::ObjectMeta {
                name: Some("twilio".into()),
                ..Default::default()
            },
            data: Some(data),
            ..Default::default()
        }
    }
    fn default_ref() -> CredentialsSecretRef {
        CredentialsSecretRef {
            name: "twilio".into(),
            account_sid_key: None,
            auth_token_key: None,
            api_key_sid_key: None,
            api_key_secret_key: None,
        }
    }
    const SID: &str = "AC0123456789abcdef0123456789abcdef";

    #[test]
    fn auth_token_is_preferred() {
        let s = secret(&[
            ("accountSid", SID),
            ("authToken", "tok"),
            ("apiKeySid", "SKx"),
        ]);
        let creds = credentials_from_secret("ns", &s, &default_ref()).unwrap();
        assert!(matches!(creds, Credentials::AuthToken { .. }));
        assert_eq!(creds.account_sid(), SID);
    }

    #[test]
    fn api_key_is_used_without_token() {
        let sk = "SK0123456789abcdef0123456789abcdef";
        let s = secret(&[
            ("accountSid", SID),
            ("apiKeySid", sk),
            ("apiKeySecret", "sec"),
        ]);
        let creds = credentials_from_secret("ns", &s, &default_ref()).unwrap();
        assert!(matches!(creds, Credentials::ApiKey { .. }));
    }

    #[test]
    fn missing_keys_name_the_key_and_never_the_value() {
        let s = secret(&[("accountSid", SID)]);
        let err = credentials_from_secret("ns", &s, &default_ref()).unwrap_err();
        assert_eq!(err.reason(), "KeyMissing");
        assert!(err.to_string().contains("authToken"));

        let s = secret(&[("authToken", "super-secret-value")]);
        let err = credentials_from_secret("ns", &s, &default_ref()).unwrap_err();
        assert!(err.to_string().contains("accountSid"));
        assert!(!err.to_string().contains("super-secret-value"));
    }

    #[test]
    fn malformed_sid_is_invalid() {
        let s = secret(&[("accountSid", "not-a-sid"), ("authToken", "hunter2")]);
        let err = credentials_from_secret("ns", &s, &default_ref()).unwrap_err();
        assert_eq!(err.reason(), "InvalidCredentials");
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn custom_key_names_are_honoured() {
        let s = secret(&[("sid", SID), ("token", "t")]);
        let r = CredentialsSecretRef {
            account_sid_key: Some("sid".into()),
            auth_token_key: Some("token".into()),
            ..default_ref()
        };
        assert!(credentials_from_secret("ns", &s, &r).is_ok());
    }

    #[tokio::test]
    async fn credentials_are_read_once_per_account_version_within_the_ttl() {
        let cache = CredentialsCache::default();
        let reads = std::sync::atomic::AtomicU32::new(0);
        let read = || async {
            reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(Credentials::AuthToken {
                account_sid: "AC1".into(),
                auth_token: TwilioSecret::new("t".to_string()),
            })
        };
        let key = |rv: &str| ("ns".to_string(), "twilio".to_string(), rv.to_string());
        for _ in 0..3 {
            cache.get_or_read(key("7"), read()).await.unwrap();
        }
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 1);
        // The account changed (a new resourceVersion): read again.
        cache.get_or_read(key("8"), read()).await.unwrap();
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 2);
        // A failed read is not kept.
        let failed = cache
            .get_or_read(key("9"), async {
                Err(AccessError::SecretNotFound {
                    namespace: "ns".into(),
                    name: "twilio".into(),
                })
            })
            .await;
        assert!(failed.is_err());
        cache.get_or_read(key("9"), read()).await.unwrap();
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 3);
    }
}
