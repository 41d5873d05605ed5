//! Placeholder; filled in by the PhoneNumber controller work.

/// Shared cache (see module docs).
#[derive(Default)]
pub struct InventoryCache {}
