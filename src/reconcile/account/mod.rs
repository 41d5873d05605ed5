//! Pure decisions for `TelephonyAccount`: whether an account may be used, what to do next, and
//! the status to write. No I/O; the controller in `crate::controller::account` performs.

mod usable;

pub use usable::{NotUsable, usable};
