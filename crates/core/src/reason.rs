//! Every condition and event reason the operator writes, as one enum.
//!
//! Reasons used to be free strings spread over the decisions and the shell; a typo there was a
//! new reason nobody tested, and whether a reason resolves itself or needs a person was decided
//! by comparing strings. Here each reason is a variant: [`Reason::as_str`] is the exact CamelCase
//! string written to conditions and events (users, alerts and tests see these strings, so they
//! never change), [`Reason::transient`] says whether a wait with this reason resolves itself
//! (Reconciling) or needs a person (Stalled) where that is a property of the reason, and
//! [`Reason::severity`] is the event type it is recorded with.
//!
//! Reasons that arrive at run time (a TelephonyAccount's own Stalled reason, copied onto its
//! PhoneNumbers by `reconcile::account::usable`; a reason read back from a status) are parsed with
//! [`Reason::parse`]: a known string becomes its variant, anything else becomes
//! [`Reason::Other`], which keeps and prints the original string unchanged.

use std::fmt;

/// Severity of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

/// Whether a wait with a reason resolves itself or needs a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Resolves itself: Reconciling.
    Transient,
    /// Needs a person: Stalled.
    Person,
    /// A result or a note (Ready, an event), not a wait.
    Info,
}

macro_rules! reasons {
    ($( $(#[$doc:meta])* $v:ident : $kind:ident, $sev:ident; )*) => {
        /// A condition or event reason (see the module docs).
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum Reason {
            $( $(#[$doc])* $v, )*
            /// A reason that arrived at run time and is none of the above (an account's reason
            /// copied onto a number, a reason read back from a status); printed as is.
            Other(String),
        }

        impl Reason {
            /// Every known variant (not `Other`).
            pub const ALL: &'static [Reason] = &[$( Reason::$v, )*];

            /// The exact string written to conditions and events.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Reason::$v => stringify!($v), )*
                    Reason::Other(s) => s,
                }
            }

            fn kind(&self) -> Kind {
                match self {
                    $( Reason::$v => Kind::$kind, )*
                    Reason::Other(_) => Kind::Person,
                }
            }

            /// The event type this reason is recorded with.
            pub fn severity(&self) -> EventType {
                match self {
                    $( Reason::$v => EventType::$sev, )*
                    Reason::Other(_) => EventType::Warning,
                }
            }

            /// The variant whose string is `s`, or `Other(s)`.
            pub fn parse(s: &str) -> Reason {
                match s {
                    $( stringify!($v) => Reason::$v, )*
                    other => Reason::Other(other.to_string()),
                }
            }
        }
    };
}

reasons! {
    // --- TelephonyAccount: connection, credentials, mode, terms ---
    /// Connecting to Twilio.
    Connecting: Transient, Normal;
    /// Connected (Ready, CredentialsValid).
    Connected: Info, Normal;
    /// Credentials verified.
    Verified: Info, Normal;
    /// Not connected yet.
    NotConnected: Transient, Normal;
    /// Twilio refused the credentials.
    AuthenticationFailed: Person, Warning;
    /// Twilio could not be reached; retrying.
    TwilioUnavailable: Transient, Warning;
    /// Twilio refused a request.
    TwilioError: Person, Warning;
    /// The Twilio account is suspended.
    AccountSuspended: Person, Warning;
    /// The Twilio account is closed.
    AccountClosed: Person, Warning;
    /// The recorded subaccount no longer exists.
    SubaccountNotFound: Person, Warning;
    /// A subaccount was created.
    SubaccountCreated: Info, Normal;
    /// More than one subaccount carries this account's name.
    DuplicateSubaccounts: Person, Warning;
    /// The subaccount was closed on deletion.
    SubaccountClosed: Info, Normal;
    /// The subaccount was left open on deletion.
    SubaccountLeftOpen: Info, Warning;
    /// The account's deletion is deleting (releasing) its PhoneNumbers first.
    DeletingNumbers: Transient, Normal;
    /// The credentials Secret does not exist.
    SecretNotFound: Person, Warning;
    /// A key is missing from the credentials Secret.
    KeyMissing: Person, Warning;
    /// The credentials in the Secret are malformed.
    InvalidCredentials: Person, Warning;
    /// No credentials Secret is referenced.
    SecretRefMissing: Person, Warning;
    /// The platform's master credentials are missing.
    MasterCredentialsMissing: Person, Warning;
    /// The Kubernetes API failed; retrying.
    KubernetesError: Transient, Warning;
    /// The mode is locked to the one the account connected with.
    ModeLocked: Info, Normal;
    /// The mode is locked (ModeLocked condition reason).
    Locked: Info, Normal;
    /// A mode change was approved.
    ModeChangeApproved: Info, Normal;
    /// A mode change was refused.
    ModeChangeRefused: Person, Warning;
    /// A mode change lacks the approval annotation.
    ModeChangeNotApproved: Person, Warning;
    /// The credentials now reach another Twilio account than the one this account is bound to.
    AccountChanged: Person, Warning;
    /// An administrator approved binding the account to another Twilio account.
    AccountChangeApproved: Info, Normal;
    /// The terms were accepted.
    Accepted: Info, Normal;
    /// The platform's terms are not accepted.
    TermsNotAccepted: Person, Warning;
    /// An old terms version was accepted.
    TermsVersionMismatch: Person, Warning;
    /// The account is being deleted.
    AccountDeleting: Person, Warning;
    /// The account has not connected yet.
    AccountNotConnected: Transient, Normal;
    /// The account is not Ready yet.
    AccountNotReady: Transient, Normal;

    // --- PhoneNumber: validation ---
    /// The number is not E.164 or not allowed.
    InvalidNumber: Person, Warning;
    /// The search is invalid.
    InvalidSearch: Person, Warning;
    /// The selection is invalid.
    InvalidSelection: Person, Warning;
    /// The price limit is invalid.
    InvalidPrice: Person, Warning;
    /// The country is not supported.
    UnsupportedCountry: Person, Warning;
    /// The area code is invalid.
    InvalidAreaCode: Person, Warning;
    /// A webhook URL (voice, SMS, status callback) is not one Twilio accepts: not an absolute
    /// http(s) URL with a host, control, bidirectional or whitespace characters, or longer than
    /// 2,048 characters. Never sent to Twilio; a person fixes the spec.
    InvalidWebhookUrl: Person, Warning;

    // --- PhoneNumber: account, price, purchase ---
    /// The referenced TelephonyAccount does not exist (yet: GitOps tools often apply a
    /// PhoneNumber before its account; it resolves itself when the account appears).
    AccountNotFound: Transient, Warning;
    /// Waiting for the account.
    WaitingForAccount: Transient, Normal;
    /// Waiting for numbers to become available.
    WaitingForNumbers: Transient, Normal;
    /// No price is published for the number while spec.maxMonthlyPrice needs one (a person
    /// removes the limit); a Pricing API that cannot be reached is retried, not this.
    PriceUnknown: Person, Warning;
    /// The price is above the limit.
    PriceAboveLimit: Person, Warning;
    /// The number type is not on the rate card.
    NotOnRateCard: Person, Warning;
    /// No number matches the search.
    NoNumbersAvailable: Person, Warning;
    /// The number is claimed by another PhoneNumber.
    NumberClaimed: Person, Warning;
    /// The number cannot be bought.
    NumberUnavailable: Person, Warning;
    /// The number was taken by someone else between the search and the buy: searching again.
    NumberTaken: Transient, Warning;
    /// An address is required.
    AddressRequired: Person, Warning;
    /// A regulatory bundle is required.
    BundleRequired: Person, Warning;
    /// The Twilio account is not active.
    AccountNotActive: Person, Warning;
    /// A trial account's limit.
    TrialLimit: Person, Warning;
    /// Not enough credits.
    InsufficientCredits: Person, Warning;
    /// The purchase failed.
    PurchaseFailed: Person, Warning;
    /// A purchase is in flight.
    PurchaseInFlight: Transient, Normal;
    /// Twilio refused the purchase.
    PurchaseRefused: Person, Warning;
    /// Buying.
    Purchasing: Transient, Normal;
    /// Bought.
    Purchased: Info, Normal;
    /// An owned number was adopted.
    Adopted: Info, Normal;
    /// Twilio refused a call.
    TwilioRefused: Person, Warning;

    // --- PhoneNumber: active, renewal, release ---
    /// Active.
    Active: Info, Normal;
    /// Configuration in sync.
    InSync: Info, Normal;
    /// Configuration synced.
    ConfigSynced: Info, Normal;
    /// Twilio refused the configuration.
    ConfigRejected: Person, Warning;
    /// The number is no longer on the account.
    NumberLost: Person, Warning;
    /// Renewed.
    Renewed: Info, Normal;
    /// Renewal paid.
    Paid: Info, Normal;
    /// Auto-renew is off.
    AutoRenewOff: Person, Warning;
    /// In the grace period.
    GracePeriod: Person, Warning;
    /// The number lapsed.
    Lapsed: Info, Warning;
    /// Released for good (final: a person deletes or replaces the PhoneNumber).
    Released: Person, Normal;
    /// Retained on deletion.
    Retained: Info, Normal;
    /// Release skipped.
    ReleaseSkipped: Info, Warning;
    /// Deleted: the number is held by its account for the quarantine window before release.
    NumberHeld: Info, Normal;
    /// A held number was released at Twilio when its window ended (or its account went).
    HeldNumberReleased: Info, Normal;
    /// A held number was adopted by a new PhoneNumber: its release is cancelled.
    HeldNumberAdopted: Info, Normal;
    /// Release blocked on deletion: the account cannot be used (a person fixes it or sets the
    /// skip-release annotation).
    ReleaseBlocked: Person, Warning;

    // --- NumberSearch ---
    /// The search ran: the candidates and their prices are in status.
    Searched: Info, Normal;
    /// Twilio refused the search (for example criteria a country does not support): searched
    /// again only when the spec or the refresh annotation changes.
    SearchRefused: Person, Warning;
}

impl Reason {
    /// Whether a wait with this reason resolves itself (`Some(true)`: Reconciling) or needs a
    /// person (`Some(false)`: Stalled); `None` for reasons that are results or notes. A reason
    /// from the outside (`Other`) needs a person.
    pub fn transient(&self) -> Option<bool> {
        match self.kind() {
            Kind::Transient => Some(true),
            Kind::Person => Some(false),
            Kind::Info => None,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for Reason {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Reason {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<Reason> for String {
    fn eq(&self, other: &Reason) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Reason> for str {
    fn eq(&self, other: &Reason) -> bool {
        self == other.as_str()
    }
}

/// A reason and a message a person can act on: conditions, events and not-usable results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonMessage {
    pub reason: Reason,
    pub message: String,
}

impl ReasonMessage {
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }
}

/// A Kubernetes event to record: whether it is a Warning (else Normal), reason and note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub warning: bool,
    pub reason: Reason,
    pub note: String,
}

impl Event {
    pub fn normal(reason: Reason, note: impl Into<String>) -> Self {
        Self {
            warning: false,
            reason,
            note: note.into(),
        }
    }
    pub fn warning(reason: Reason, note: impl Into<String>) -> Self {
        Self {
            warning: true,
            reason,
            note: note.into(),
        }
    }
    /// With the reason's own severity ([`Reason::severity`]).
    pub fn of(reason: Reason, note: impl Into<String>) -> Self {
        Self {
            warning: reason.severity() == EventType::Warning,
            reason,
            note: note.into(),
        }
    }
    /// The event type.
    pub fn type_(&self) -> EventType {
        if self.warning {
            EventType::Warning
        } else {
            EventType::Normal
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip() {
        for r in Reason::ALL {
            assert_eq!(&Reason::parse(r.as_str()), r);
            assert_eq!(r.to_string(), r.as_str());
        }
        let other = Reason::parse("SomethingNew");
        assert_eq!(other, Reason::Other("SomethingNew".into()));
        assert_eq!(other.to_string(), "SomethingNew");
        assert_eq!(Reason::PriceAboveLimit.as_str(), "PriceAboveLimit");
    }

    #[test]
    fn kinds() {
        assert_eq!(Reason::AccountNotReady.transient(), Some(true));
        assert_eq!(Reason::AuthenticationFailed.transient(), Some(false));
        assert_eq!(Reason::Purchased.transient(), None);
        assert_eq!(Reason::ReleaseSkipped.severity(), EventType::Warning);
        assert_eq!(Reason::Retained.severity(), EventType::Normal);
    }

    /// kstatus: Stalled only when a person must act. The waits that resolve themselves, all of
    /// them (a new one is a decision, so it is added here on purpose).
    #[test]
    fn transient_reasons_are_exactly_the_waits_that_resolve_themselves() {
        let transient: Vec<&str> = Reason::ALL
            .iter()
            .filter(|r| r.transient() == Some(true))
            .map(Reason::as_str)
            .collect();
        assert_eq!(
            transient,
            [
                "Connecting",
                "NotConnected",
                "TwilioUnavailable",
                "DeletingNumbers",
                "KubernetesError",
                "AccountNotConnected",
                "AccountNotReady",
                "AccountNotFound",
                "WaitingForAccount",
                "WaitingForNumbers",
                "NumberTaken",
                "PurchaseInFlight",
                "Purchasing",
            ]
        );
        for needs_a_person in [
            Reason::AuthenticationFailed,
            Reason::PriceUnknown,
            Reason::PriceAboveLimit,
            Reason::InsufficientCredits,
            Reason::ModeChangeNotApproved,
            Reason::AccountChanged,
            Reason::TermsNotAccepted,
            Reason::Released,
            Reason::ReleaseBlocked,
            Reason::Other("FromAnAccount".into()),
        ] {
            assert_eq!(needs_a_person.transient(), Some(false), "{needs_a_person}");
        }
    }
}
