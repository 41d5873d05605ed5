//! The condition, money and time helpers of the status, defined in the core
//! (`telephony_core::conditions`, pure) and re-exported here under their old path.

pub use telephony_core::conditions::*;
