//! Placeholder; leader election by Lease.
