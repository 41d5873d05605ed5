//! Money rules as pure functions: the Managed rate card, the prepaid credits ledger, renewal and
//! billing-date arithmetic. Decimal amounts only, never floats; time from the caller.

/// Placeholder; replaced by the billing work.
#[derive(Debug, Clone, Default)]
pub struct RateCard {}
