//! Per-object exponential backoff, shared by both controllers: a failed (or transiently blocked)
//! reconcile of one object waits 1 s, 2 s, 4 s … (capped, with jitter) without slowing the
//! others, and one successful reconcile resets its count. kube-rs's error policy is stateless, so
//! the counts live here, keyed by the object.

use kube::runtime::reflector::ObjectRef;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Exponential backoff with up to 25 % jitter: 1 s, 2 s, 4 s … 256 s (under the 5-minute cap).
pub fn backoff(failures: u32) -> Duration {
    let base = Duration::from_secs(1u64 << failures.saturating_sub(1).min(8))
        .min(Duration::from_secs(300));
    let jitter = rand::random::<f64>() * 0.25;
    base.mul_f64(1.0 + jitter)
}

/// Consecutive failures per object (clones share the counts). An object's count goes when it
/// reconciles, or when it is deleted (`clear` from the watch: a deleted object is never
/// reconciled again).
pub struct Failures<K: kube::Resource>(Arc<Mutex<HashMap<ObjectRef<K>, u32>>>)
where
    K::DynamicType: Eq + Hash;

impl<K: kube::Resource> Default for Failures<K>
where
    K::DynamicType: Eq + Hash,
{
    fn default() -> Self {
        Failures(Arc::new(Mutex::new(HashMap::new())))
    }
}

impl<K: kube::Resource> Clone for Failures<K>
where
    K::DynamicType: Eq + Hash,
{
    fn clone(&self) -> Self {
        Failures(self.0.clone())
    }
}

impl<K: kube::Resource> Failures<K>
where
    K::DynamicType: Eq + Hash + Clone,
{
    /// Counts one more failure of `key` and returns the delay before its next attempt.
    pub fn fail(&self, key: ObjectRef<K>) -> Duration {
        let mut f = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = f.entry(key).or_insert(0);
        *n = n.saturating_add(1);
        backoff(*n)
    }

    /// Forgets the failures of `key` (it reconciled, or it is gone).
    pub fn clear(&self, key: &ObjectRef<K>) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }

    /// How many objects have failures counted.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// `true` when no object has failures counted.
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_shared_by_clones_and_cleared() {
        use k8s_openapi::api::core::v1::ConfigMap;
        let failures = Failures::<ConfigMap>::default();
        let watch = failures.clone();
        let key = ObjectRef::new("a").within("n");
        failures.fail(key.clone());
        failures.fail(key.clone());
        assert_eq!(watch.len(), 1);
        // Seen deleted by the watch: never reconciled again, so the count goes there.
        watch.clear(&key);
        assert!(failures.is_empty());
    }

    #[test]
    fn doubles_and_caps() {
        let d = |n| backoff(n).as_secs_f64();
        assert!((1.0..1.26).contains(&d(1)));
        assert!((2.0..2.51).contains(&d(2)));
        assert!((4.0..5.01).contains(&d(3)));
        assert!((256.0..320.1).contains(&d(40)));
    }
}
