//! Fault injection for tests (`FaultControl`) and the emulator's counters (`Stats`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use crate::server::Shared;

/// Knobs shared by the server and every `FaultControl` clone.
#[derive(Default)]
pub struct Faults {
    pub conflicts: AtomicU64,
    pub latency_ms: AtomicU64,
    pub storage_initializing: AtomicU64,
}

impl Faults {
    /// Consume one injected `storage is (re)initializing` answer, if any are pending.
    pub fn take_storage_initializing(&self) -> bool {
        self.storage_initializing
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Consume one injected conflict, if any are pending.
    pub fn take_conflict(&self) -> bool {
        self.conflicts
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms.load(Ordering::Relaxed))
    }
}

/// Counters kept by the server.
#[derive(Default)]
pub struct Counters {
    pub creates: AtomicU64,
    pub updates: AtomicU64,
    pub patches: AtomicU64,
    pub deletes: AtomicU64,
    pub watches_open: AtomicUsize,
    /// Committed writes (create, update, patch, delete) per resource (`plural` for the core
    /// group, `plural.group` otherwise).
    pub writes_by_resource: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
}

/// A snapshot of the emulator's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Objects currently stored (all kinds, including the pre-created namespaces).
    pub objects: usize,
    pub creates: u64,
    pub updates: u64,
    pub patches: u64,
    pub deletes: u64,
    /// Watch streams currently open.
    pub watches_open: usize,
    /// The current global resourceVersion.
    pub resource_version: u64,
    /// Writes per resource (`events`, `secrets`, `phonenumbers.telephony.agni.ai`, ...); the sum
    /// is `creates + updates + patches + deletes`.
    pub writes_by_resource: std::collections::BTreeMap<String, u64>,
}

/// Test control over injected faults. Cheap to clone.
#[derive(Clone)]
pub struct FaultControl {
    pub(crate) shared: Arc<Shared>,
}

impl FaultControl {
    /// The next `n` writes (create, update, patch, apply, delete) answer 409 Conflict.
    pub fn conflict_next_writes(&self, n: u64) {
        self.shared.faults.conflicts.store(n, Ordering::SeqCst);
    }

    /// The next `n` LISTs of custom resources answer what a real kube-apiserver answers while a
    /// resource's watch cache is (re)initializing — right after its CRD became Established:
    /// `429 TooManyRequests`, message `storage is (re)initializing`,
    /// `details.retryAfterSeconds: 1` and a `Retry-After: 1` header. (kube-rs retries these;
    /// a client that does not sees an error.)
    pub fn storage_initializing_next_lists(&self, n: u64) {
        self.shared
            .faults
            .storage_initializing
            .store(n, Ordering::SeqCst);
    }

    /// End every open watch stream (clients see a clean end of stream and re-watch).
    pub fn drop_watches(&self) {
        self.shared.drop_tx.send_modify(|g| *g += 1);
    }

    /// Compact away every resourceVersion issued so far and end open watches: clients that
    /// resume get `ERROR 410 Expired` and must re-list.
    pub fn expire_resource_versions(&self) {
        {
            let mut st = self.shared.lock();
            st.expire_all();
            self.shared.rv_tx.send_replace(st.rv);
        }
        self.drop_watches();
    }

    /// Delay every request by `d` (zero turns it off).
    pub fn set_latency(&self, d: Duration) {
        self.shared
            .faults
            .latency_ms
            .store(d.as_millis() as u64, Ordering::Relaxed);
    }
}

impl Counters {
    pub fn snapshot(&self, objects: usize, rv: u64) -> Stats {
        Stats {
            objects,
            creates: self.creates.load(Ordering::Relaxed),
            updates: self.updates.load(Ordering::Relaxed),
            patches: self.patches.load(Ordering::Relaxed),
            deletes: self.deletes.load(Ordering::Relaxed),
            watches_open: self.watches_open.load(Ordering::Relaxed),
            resource_version: rv,
            writes_by_resource: self
                .writes_by_resource
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }

    /// Counts one committed write of `res`.
    pub fn count_write(&self, res: &crate::resources::ResourceInfo) {
        let key = if res.group.is_empty() {
            res.plural.clone()
        } else {
            format!("{}.{}", res.plural, res.group)
        };
        let mut m = self
            .writes_by_resource
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match m.get_mut(&key) {
            Some(n) => *n += 1,
            None => {
                m.insert(key, 1);
            }
        }
    }
}
