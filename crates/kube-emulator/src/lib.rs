//! An in-memory stand-in for the Kubernetes API server, good enough for kube-rs's runtime
//! (`Api`, `watcher`, `reflector`, `Controller`, `finalizer`, events `Recorder`) and the real
//! `kubectl` 1.32 to work unmodified. Test and sandbox infrastructure; the behaviour follows
//! `/work/shared/reference/kubernetes-api-emulator-notes.md`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), kube_emulator::EmulatorError> {
//! let emu = kube_emulator::start(kube_emulator::EmulatorConfig::default()).await?;
//! let url = emu.url(); // http://127.0.0.1:PORT, anonymous plain http
//! emu.faults().conflict_next_writes(2);
//! emu.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # What is served
//! `/version` (claims 1.32), legacy and aggregated discovery, `/openapi/v3` (index + per-GV
//! documents with the `fieldValidation` PATCH parameter), CustomResourceDefinitions
//! (`apiextensions.k8s.io/v1`), custom resources of every served CRD version, Namespaces,
//! ConfigMaps, Secrets, Events (one store behind `core/v1` and `events.k8s.io/v1`) and Leases.
//! Verbs: get, list (plain, Table, PartialObjectMetadataList), watch, create, update, patch
//! (merge, JSON, strategic for built-ins, apply), delete, deletecollection, `/status`.
//!
//! # Known differences from the real API server
//! - Plain http only, no TLS, no authorization; a configured bearer token is checked on every
//!   request (kubectl sends no token over http, so only use it with kube-rs).
//! - JSON only: protobuf/CBOR-preferring Accept headers are answered with JSON; `/openapi/v2`
//!   is 404 (kubectl tolerates it). Protobuf request bodies are decoded only for ConfigMap,
//!   Secret and Namespace creation (what `kubectl create configmap|secret|namespace` sends;
//!   ObjectMeta name/generateName/namespace/labels/annotations/finalizers); other protobuf or
//!   CBOR bodies get 415.
//! - `limit`/`continue` page through a snapshot kept in memory for 5 minutes (tokens are not
//!   etcd keys; `resourceVersion=0` lists are never paged); `remainingItemCount` is exact.
//! - `resourceVersion` on GET/LIST is ignored (always the latest state); `resourceVersionMatch=Exact`
//!   is not honoured. A watch from a revision ahead of the current one starts from the current one.
//! - Watch history is a bounded ring (`EmulatorConfig::watch_history` events); resuming from
//!   before it gives `ERROR 410 Expired`. Bookmarks are sent every `bookmark_interval` and before a
//!   `timeoutSeconds` close.
//! - Server-side apply is an approximation (see the `apply` module): leaf-path ownership per
//!   manager and subresource; `x-kubernetes-list-type: map` items and `set` values are owned and
//!   merged one by one but a map-list item is owned as a whole (no per-field ownership inside it),
//!   `managedFields` are never returned (kubectl's client-side→server-side apply migration is done
//!   server-side instead: manager `kubectl` inherits `kubectl-client-side-apply`'s fields).
//!   Conflicts are detected only for leaves whose value changes.
//! - Strategic merge patch (built-ins only) is merge patch plus directive stripping,
//!   `$patch: delete|replace`, a union of `metadata.finalizers` and `ownerReferences` merged by uid.
//! - CRDs are Established at once (no asynchronous MODIFIED); deleting a CRD removes its objects
//!   immediately (DELETED events) without the `customresourcecleanup` finalizer, even if they
//!   carry finalizers. Multi-version CRDs share one stored object whose `apiVersion` is rewritten
//!   per endpoint (no conversion webhooks). No scale subresource, no `selectableFields`.
//! - Validation of custom objects is delegated to the `schema` module (structural schema,
//!   pruning, defaulting, a subset of CEL; see its docs for its own limits). ObjectMeta is checked
//!   on every write (name syntax, label keys/values, annotation keys and size). Built-in kinds get
//!   no further validation (no Event field requirements, no Secret `immutable`, no Lease field
//!   checks), and `fieldValidation=Strict` does nothing for them. Defaults are applied on writes
//!   only, not on reads of objects stored before a CRD changed.
//! - Garbage collection: dependents whose `ownerReferences` point at a removed object are deleted
//!   (Background) or stripped (Orphan) synchronously; `Foreground` behaves like `Background` and no
//!   `foregroundDeletion`/`orphan` finalizers are ever added; `blockOwnerDeletion` is ignored.
//! - Namespace deletion deletes the contents at once and removes the namespace when its last
//!   object is gone; `spec.finalizers` is informational.
//! - No admission beyond the above: no quotas, limit ranges, service accounts, RBAC, TTL for
//!   Events, `generateName` retries, or creating-on-PUT. `dryRun=All` is honoured for create,
//!   update, patch and delete.
//! - Table output for built-ins mimics upstream for ConfigMap, Secret, Namespace, Lease and Event
//!   (other built-ins: Name/Age). Watches with a Table Accept header (`kubectl get -w`) get one-row
//!   Tables with column definitions in every event.
//! - `/status` on Namespaces and CRDs is served; `/finalize` on Namespaces is accepted as a plain
//!   update. Other subresources (`scale`, `log`, ...) are 404. No deprecated `/watch/` paths.
//! - Field selectors on custom resources support only `metadata.name`/`metadata.namespace`;
//!   core Events also `involvedObject.*`, `reason`, `type`, `source`, `reportingComponent`.
//! - Fault knobs (`FaultControl`) exist only here.

mod apply;
mod builtins;
mod crd;
mod crud;
mod delete;
mod discovery;
mod errors;
mod events;
mod faults;
mod kubeconfig;
mod meta_validation;
mod openapi;
mod paging;
mod patch;
mod proto;
mod resources;
pub mod schema;
mod selectors;
mod server;
mod sha256;
mod ssa_paths;
mod store;
mod watch;
mod write;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use errors::EmulatorError;

/// The kube-apiserver release the emulator imitates (and is measured against): `/version`
/// reports it (with `+kube-emulator` build metadata), the OpenAPI v3 documents of built-in
/// group-versions carry its `major.minor`.
pub const KUBERNETES_VERSION: &str = "v1.37.2";
pub(crate) const KUBERNETES_MAJOR: &str = "1";
pub(crate) const KUBERNETES_MINOR: &str = "37";
/// kube-apiserver 1.37's `minCompatibilityMinor` (one release back).
pub(crate) const KUBERNETES_MIN_COMPATIBILITY_MINOR: &str = "36";
pub use faults::{FaultControl, Stats};

/// How to run the emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Where to listen; default `127.0.0.1:0` (a free port).
    pub listen: SocketAddr,
    /// When set, every request must carry `Authorization: Bearer <token>`.
    pub bearer_token: Option<String>,
    /// Change events kept for watch resume (older resumes get ERROR 410).
    pub watch_history: usize,
    /// How often open watches with `allowWatchBookmarks=true` get a BOOKMARK (default a minute,
    /// kube-apiserver's watch cache period).
    pub bookmark_interval: Duration,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            bearer_token: None,
            watch_history: 10_000,
            bookmark_interval: Duration::from_secs(60),
        }
    }
}

/// A running emulator. Dropping it without `shutdown` leaves the server task running until the
/// runtime ends.
pub struct EmulatorHandle {
    shared: Arc<server::Shared>,
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

/// Start an emulator on `config.listen`.
pub async fn start(config: EmulatorConfig) -> Result<EmulatorHandle, EmulatorError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| EmulatorError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| EmulatorError::Bind {
            addr: config.listen,
            source,
        })?;
    let state = store::State::new(config.watch_history);
    let (rv_tx, _) = tokio::sync::watch::channel(state.rv);
    let (drop_tx, _) = tokio::sync::watch::channel(0u64);
    let shared = Arc::new(server::Shared {
        state: Mutex::new(state),
        rv_tx,
        drop_tx,
        faults: faults::Faults::default(),
        counters: faults::Counters::default(),
        pager: paging::Pager::default(),
        bearer_token: config.bearer_token.clone(),
        bookmark_interval: config.bookmark_interval,
        addr,
    });
    let app = server::router(shared.clone());
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = stop_rx.await;
        });
        if let Err(e) = serve.await {
            tracing::warn!(error = %e, "kube-emulator server ended with an error");
        }
    });
    tracing::debug!(%addr, "kube-emulator listening");
    Ok(EmulatorHandle {
        shared,
        addr,
        stop,
        task,
    })
}

impl EmulatorHandle {
    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A kubeconfig (cluster/context/user `kube-emulator`, namespace `default`).
    pub fn kubeconfig_yaml(&self) -> String {
        kubeconfig::render(&self.url(), self.shared.bearer_token.as_deref())
    }

    pub fn write_kubeconfig(&self, path: &std::path::Path) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig_yaml())
    }

    pub fn faults(&self) -> FaultControl {
        FaultControl {
            shared: self.shared.clone(),
        }
    }

    pub fn stats(&self) -> Stats {
        let (objects, rv) = {
            let st = self.shared.lock();
            (st.count(), st.rv)
        };
        self.shared.counters.snapshot(objects, rv)
    }

    /// Stop serving: open watches are ended, then the server stops (at most ~2 s).
    pub async fn shutdown(self) {
        self.faults().drop_watches();
        let _ = self.stop.send(());
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(2), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}
