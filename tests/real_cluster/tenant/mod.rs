//! The tenant roles of `deploy/base/tenant-roles.yaml` on a real server: what a tenant bound to the
//! edit or the view role may do, checked with real requests and SelfSubjectAccessReviews as the
//! tenant identity, and how the roles aggregate into the built-in ones.

mod fixtures;

mod edit_role;

mod view_role;

mod aggregation;
