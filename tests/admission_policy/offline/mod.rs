//! The policies checked without a cluster: the file's shape, and its CEL validations run by
//! `kube_cel`'s VAP evaluator against admission requests from admins and non-admins.

mod evaluator;

mod well_formed;

mod mode_lock;

mod skip_release;

mod credit_grants;
