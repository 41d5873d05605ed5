//! The client's single error type and its classification (retry / give up / outcome unknown), so
//! reconcilers decide what to do from `ErrorClass` instead of parsing HTTP details.

use std::fmt;

/// Twilio error codes the operator reacts to (see the API notes §2).
pub mod codes {
    /// Authentication failed (401).
    pub const AUTHENTICATION: u32 = 20003;
    /// Resource not available with test credentials (403).
    pub const TEST_CREDENTIALS_NOT_ALLOWED: u32 = 20008;
    /// Page size above the maximum.
    pub const PAGE_SIZE_TOO_LARGE: u32 = 20007;
    /// Account not active.
    pub const ACCOUNT_NOT_ACTIVE: u32 = 20005;
    /// Resource not found (404).
    pub const NOT_FOUND: u32 = 20404;
    /// Too many concurrent requests (429); the request was not executed.
    pub const TOO_MANY_REQUESTS: u32 = 20429;
    /// Service unavailable (503).
    pub const SERVICE_UNAVAILABLE: u32 = 20503;
    /// Trial account limit.
    pub const TRIAL_LIMIT: u32 = 10002;
    /// Trial accounts may own only one number.
    pub const TRIAL_ONE_NUMBER: u32 = 21404;
    /// `PhoneNumber` is invalid.
    pub const INVALID_NUMBER: u32 = 21421;
    /// `PhoneNumber` is not available.
    pub const NUMBER_UNAVAILABLE: u32 = 21422;
    /// `AreaCode` is not a valid area code.
    pub const INVALID_AREA_CODE: u32 = 21451;
    /// No numbers available in that area code.
    pub const NO_NUMBERS_IN_AREA_CODE: u32 = 21452;
    /// `AreaCode` not supported on this resource.
    pub const AREA_CODE_NOT_SUPPORTED: u32 = 21457;
    /// Subaccount status change refused: subaccount closed.
    pub const SUBACCOUNT_CLOSED: u32 = 21479;
    /// Account needs a suitable address on file (older variant of 21631).
    pub const ADDRESS_ON_FILE_REQUIRED: u32 = 21613;
    /// Number needs an `AddressSid`.
    pub const ADDRESS_REQUIRED: u32 = 21631;
    /// Number needs an approved `BundleSid`.
    pub const BUNDLE_REQUIRED: u32 = 21649;
}

/// What a caller may do after an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Transient (429, 5xx, timeout, connection): trying again later is safe. The client already
    /// retried idempotent calls up to `max_retries`.
    Retryable,
    /// The request was understood and refused (4xx, bad input, bad response): do not retry as is.
    Permanent,
    /// A non-idempotent create may or may not have happened (timeout or failure after the request
    /// may have been sent). Check the inventory before trying again.
    OutcomeUnknown,
}

/// An error from a Twilio call. `Display` never contains credentials.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct TwilioError {
    /// What the caller may do.
    pub class: ErrorClass,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// Twilio error code from the body, when present.
    pub code: Option<u32>,
    /// Human-readable message (Twilio's, or a description of the transport failure).
    pub message: String,
    /// Twilio's documentation link for the code.
    pub more_info: Option<String>,
    /// The client operation that failed (e.g. `buy`, `list_incoming`).
    pub operation: &'static str,
}

impl fmt::Display for TwilioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "twilio {} failed", self.operation)?;
        match (self.status, self.code) {
            (Some(s), Some(c)) => write!(f, " (HTTP {s}, code {c})")?,
            (Some(s), None) => write!(f, " (HTTP {s})")?,
            (None, Some(c)) => write!(f, " (code {c})")?,
            (None, None) => {}
        }
        write!(f, ": {}", self.message)?;
        if self.class == ErrorClass::OutcomeUnknown {
            f.write_str(" [outcome unknown: check the inventory before retrying]")?;
        }
        Ok(())
    }
}

impl TwilioError {
    /// An error without an HTTP status or Twilio code (the client fills those in when it has them).
    pub fn new(class: ErrorClass, operation: &'static str, message: impl Into<String>) -> Self {
        TwilioError {
            class,
            status: None,
            code: None,
            message: message.into(),
            more_info: None,
            operation,
        }
    }

    /// 404 / 20404: the resource does not exist (e.g. a number already released).
    pub fn is_not_found(&self) -> bool {
        self.status == Some(404) || self.code == Some(codes::NOT_FOUND)
    }

    /// 401 / 20003: the credentials were refused.
    pub fn is_auth(&self) -> bool {
        self.status == Some(401) || self.code == Some(codes::AUTHENTICATION)
    }

    /// Transient failure; safe to try again later.
    pub fn is_retryable(&self) -> bool {
        self.class == ErrorClass::Retryable
    }

    /// A create may or may not have happened; check the inventory first.
    pub fn is_outcome_unknown(&self) -> bool {
        self.class == ErrorClass::OutcomeUnknown
    }

    /// Twilio error code, when present.
    pub fn code(&self) -> Option<u32> {
        self.code
    }
}
