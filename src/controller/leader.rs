//! Leader election with a `coordination.k8s.io/v1` Lease, so only one replica acts.
//!
//! client-go's protocol (`tools/leaderelection`, with `ReleaseOnCancel`):
//! - every round reads the Lease and creates it when absent (a lost create race is a 409
//!   AlreadyExists);
//! - a Lease held by another replica is valid until `leaseDurationSeconds` after this replica
//!   last *saw* it change, by its own monotonic clock: a standby does not trust the holder's
//!   timestamps, so clock skew between nodes cannot make it steal a live Lease;
//! - a released Lease (no holder) or an expired one is taken with the read resourceVersion, so
//!   of two standbys racing for it one wins and the other gets 409 Conflict and follows;
//! - the leader renews every `renew_every` (retrying every `retry_every` after a failure) and
//!   stops acting when no renewal succeeded for `renew_deadline`, which is shorter than the
//!   lease duration: it has stopped before a standby may take over;
//! - on graceful shutdown, once the controllers have stopped, the leader releases the Lease
//!   (holder cleared, `leaseDurationSeconds: 1`): a standby takes it at its next round
//!   (`retry_every`) instead of waiting for it to expire.
//!
//! Uses wall-clock time (not the operator's possibly accelerated clock): leases are about real
//! replicas.

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, DropGuard};

/// Where the Lease is, who we are, and the timing (client-go's defaults but a faster retry, so
/// that a standby takes a released Lease within a second).
#[derive(Debug, Clone)]
pub struct LeaseSettings {
    pub namespace: String,
    pub name: String,
    pub identity: String,
    /// How long a Lease stays valid after its last renewal was observed.
    pub lease_duration: Duration,
    /// The leader stops acting when no renewal succeeded for this long (< `lease_duration`).
    pub renew_deadline: Duration,
    /// How often the leader renews.
    pub renew_every: Duration,
    /// How often a standby tries to take the Lease, and a leader retries a failed renewal.
    pub retry_every: Duration,
}

impl LeaseSettings {
    pub fn new(namespace: &str, name: &str, identity: &str) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
            identity: identity.into(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            renew_every: Duration::from_secs(5),
            retry_every: Duration::from_secs(1),
        }
    }
}

/// What one election round found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Round {
    /// We hold the lease.
    Leading,
    /// Someone else holds a valid lease.
    Following { holder: String },
}

/// The parts of a Lease whose change shows that its holder is alive.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    holder: String,
    renew_time: Option<Timestamp>,
    duration_seconds: Option<i32>,
}

impl Record {
    fn of(spec: &LeaseSpec) -> Self {
        Self {
            holder: spec.holder_identity.clone().unwrap_or_default(),
            renew_time: spec.renew_time.as_ref().map(|t| t.0),
            duration_seconds: spec.lease_duration_seconds,
        }
    }
}

/// One replica's view of the Lease across rounds.
pub struct Elector {
    api: Api<Lease>,
    settings: LeaseSettings,
    /// The last record seen and when (local monotonic time) it was first seen.
    observed: Option<(Record, Instant)>,
}

impl Elector {
    pub fn new(client: Client, settings: LeaseSettings) -> Self {
        Self {
            api: Api::namespaced(client, &settings.namespace),
            settings,
            observed: None,
        }
    }

    pub fn settings(&self) -> &LeaseSettings {
        &self.settings
    }

    /// Notes `record`; returns when it was first seen in this form.
    fn observe(&mut self, record: Record) -> Instant {
        match &self.observed {
            Some((seen, at)) if *seen == record => *at,
            _ => {
                let now = Instant::now();
                self.observed = Some((record, now));
                now
            }
        }
    }

    /// One round: acquire or renew. Conflicts mean another replica wrote first: we follow.
    pub async fn try_acquire_or_renew(&mut self) -> Result<Round, kube::Error> {
        let s = self.settings.clone();
        let now = MicroTime(Timestamp::now());
        let Some(mut lease) = self.api.get_opt(&s.name).await? else {
            let spec = LeaseSpec {
                holder_identity: Some(s.identity.clone()),
                lease_duration_seconds: Some(duration_seconds(s.lease_duration)),
                acquire_time: Some(now.clone()),
                renew_time: Some(now),
                lease_transitions: Some(0),
                ..Default::default()
            };
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(s.name.clone()),
                    ..Default::default()
                },
                spec: Some(spec.clone()),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => {
                    self.observe(Record::of(&spec));
                    Ok(Round::Leading)
                }
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(Round::Following {
                    holder: "unknown".into(),
                }),
                Err(e) => Err(e),
            };
        };
        let current = lease.spec.clone().unwrap_or_default();
        let record = Record::of(&current);
        let holder = record.holder.clone();
        let seen_at = self.observe(record);
        let valid_for = Duration::from_secs(
            u64::try_from(current.lease_duration_seconds.unwrap_or(0)).unwrap_or(0),
        );
        let valid = seen_at + valid_for > Instant::now();
        if !holder.is_empty() && holder != s.identity && valid {
            return Ok(Round::Following { holder });
        }
        let ours = holder == s.identity;
        let mut spec = current.clone();
        spec.holder_identity = Some(s.identity.clone());
        spec.lease_duration_seconds = Some(duration_seconds(s.lease_duration));
        spec.renew_time = Some(now.clone());
        if !ours || spec.acquire_time.is_none() {
            spec.acquire_time = Some(now);
        }
        spec.lease_transitions = Some(current.lease_transitions.unwrap_or(0) + i32::from(!ours));
        lease.spec = Some(spec.clone());
        match self
            .api
            .replace(&s.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => {
                self.observe(Record::of(&spec));
                Ok(Round::Leading)
            }
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(Round::Following { holder }),
            Err(e) => Err(e),
        }
    }

    /// Gives the Lease up if this replica still holds it, as client-go does on cancel: holder
    /// cleared, duration 1 s, renew and acquire time now, transitions kept. Written with the
    /// read resourceVersion, so a Lease someone else took meanwhile is left alone. `true` when
    /// released.
    pub async fn release(&mut self) -> Result<bool, kube::Error> {
        let s = &self.settings;
        let Some(mut lease) = self.api.get_opt(&s.name).await? else {
            return Ok(false);
        };
        let mut spec = lease.spec.clone().unwrap_or_default();
        if spec.holder_identity.as_deref() != Some(s.identity.as_str()) {
            return Ok(false);
        }
        let now = MicroTime(Timestamp::now());
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.acquire_time = Some(now.clone());
        spec.renew_time = Some(now);
        lease.spec = Some(spec.clone());
        match self
            .api
            .replace(&s.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => {
                self.observe(Record::of(&spec));
                Ok(true)
            }
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
            Err(e) => Err(e),
        }
    }
}

fn duration_seconds(d: Duration) -> i32 {
    i32::try_from(d.as_secs().max(1)).unwrap_or(i32::MAX)
}

/// One round, bounded by `limit` (a hung request counts as a failed round).
async fn round(elector: &mut Elector, limit: Duration) -> Result<Round, String> {
    match tokio::time::timeout(limit, elector.try_acquire_or_renew()).await {
        Ok(Ok(round)) => Ok(round),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!("no answer within {limit:?}")),
    }
}

/// This replica's leadership, from acquiring the Lease to releasing it.
/// Dropping it (an aborted task, as when a process is killed) stops the renewals; the Lease
/// then expires.
pub struct Leadership {
    acting: CancellationToken,
    stop: DropGuard,
    renewer: JoinHandle<Elector>,
    renew_deadline: Duration,
}

impl Leadership {
    /// Cancelled when leadership is lost or the process shuts down: the controllers stop.
    pub fn acting(&self) -> CancellationToken {
        self.acting.clone()
    }

    /// Stops renewing and, if this replica still holds the Lease, releases it so a standby
    /// takes over at once. Call it once the controllers have stopped. `true` when released.
    pub async fn release(self) -> bool {
        drop(self.stop);
        let Ok(mut elector) = self.renewer.await else {
            return false;
        };
        let identity = elector.settings().identity.clone();
        match tokio::time::timeout(self.renew_deadline, elector.release()).await {
            Ok(Ok(true)) => {
                tracing::info!(%identity, "released the leader lease");
                true
            }
            Ok(Ok(false)) => false,
            Ok(Err(error)) => {
                tracing::warn!(%error, "releasing the leader lease failed; it expires instead");
                false
            }
            Err(_) => {
                tracing::warn!("releasing the leader lease timed out; it expires instead");
                false
            }
        }
    }
}

/// Waits as a standby until this replica holds the Lease (`None`: `shutdown` came first), then
/// keeps renewing it in the background until [`Leadership::release`] or until it is lost.
pub async fn lead(
    client: Client,
    s: LeaseSettings,
    shutdown: CancellationToken,
) -> Option<Leadership> {
    let mut elector = Elector::new(client, s.clone());
    let mut following: Option<String> = None;
    loop {
        match round(&mut elector, s.renew_deadline).await {
            Ok(Round::Leading) => break,
            Ok(Round::Following { holder }) => {
                if following.as_ref() != Some(&holder) {
                    tracing::info!(%holder, identity = %s.identity, "standby: another replica holds the leader lease");
                    following = Some(holder);
                }
            }
            Err(error) => tracing::warn!(%error, "leader election failed; retrying"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return None,
            _ = tokio::time::sleep(s.retry_every) => {}
        }
    }
    tracing::info!(identity = %s.identity, "acquired the leader lease; this replica acts");
    let acting = shutdown.child_token();
    let stop = CancellationToken::new();
    let (lost, stopped) = (acting.clone(), stop.clone());
    let renewer = tokio::spawn(async move {
        let mut last_ok = Instant::now();
        let mut wait = s.renew_every;
        loop {
            tokio::select! {
                _ = stopped.cancelled() => return elector,
                _ = tokio::time::sleep(wait) => {}
            }
            let left = s.renew_deadline.saturating_sub(last_ok.elapsed());
            match round(&mut elector, left.max(Duration::from_millis(100))).await {
                Ok(Round::Leading) => {
                    last_ok = Instant::now();
                    wait = s.renew_every;
                }
                Ok(Round::Following { holder }) => {
                    tracing::error!(%holder, "lost the leader lease");
                    lost.cancel();
                    return elector;
                }
                Err(error) if last_ok.elapsed() < s.renew_deadline => {
                    tracing::warn!(%error, "renewing the leader lease failed; retrying");
                    wait = s.retry_every;
                }
                Err(error) => {
                    tracing::error!(%error, "could not renew the leader lease in time; stepping down");
                    lost.cancel();
                    return elector;
                }
            }
        }
    });
    Some(Leadership {
        acting,
        stop: stop.drop_guard(),
        renewer,
        renew_deadline: s.renew_deadline,
    })
}

#[cfg(all(test, feature = "sandbox"))]
mod tests {
    use super::*;

    async fn emulator() -> (kube_emulator::EmulatorHandle, Client) {
        let emulator = kube_emulator::start(kube_emulator::EmulatorConfig::default())
            .await
            .expect("emulator starts");
        let url: http::Uri = emulator.url().parse().expect("emulator URL");
        let client = Client::try_from(kube::Config::new(url)).expect("client");
        (emulator, client)
    }

    fn settings(identity: &str) -> LeaseSettings {
        let mut s = LeaseSettings::new("default", "election-test", identity);
        s.lease_duration = Duration::from_secs(2);
        s.renew_deadline = Duration::from_secs(1);
        s.renew_every = Duration::from_millis(300);
        s.retry_every = Duration::from_millis(100);
        s
    }

    async fn lease(client: &Client) -> LeaseSpec {
        Api::<Lease>::namespaced(client.clone(), "default")
            .get("election-test")
            .await
            .expect("the Lease exists")
            .spec
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn one_leads_the_other_follows_until_release_then_takes_over_at_once() {
        crate::install_crypto_provider();
        let (emulator, client) = emulator().await;
        let mut a = Elector::new(client.clone(), settings("a"));
        let mut b = Elector::new(client.clone(), settings("b"));
        assert_eq!(
            a.try_acquire_or_renew().await.expect("round"),
            Round::Leading
        );
        assert_eq!(
            b.try_acquire_or_renew().await.expect("round"),
            Round::Following { holder: "a".into() }
        );
        assert_eq!(
            a.try_acquire_or_renew().await.expect("renewal"),
            Round::Leading
        );
        // Only the holder releases.
        assert!(!b.release().await.expect("release call"));
        assert_eq!(lease(&client).await.holder_identity.as_deref(), Some("a"));
        assert!(a.release().await.expect("release"));
        let released = lease(&client).await;
        assert_eq!(released.holder_identity, None);
        assert_eq!(released.lease_duration_seconds, Some(1));
        // Well within the 2 s lease: released means free now.
        assert_eq!(
            b.try_acquire_or_renew().await.expect("round"),
            Round::Leading
        );
        let taken = lease(&client).await;
        assert_eq!(taken.holder_identity.as_deref(), Some("b"));
        assert_eq!(taken.lease_transitions, Some(1));
        assert_eq!(
            a.try_acquire_or_renew().await.expect("round"),
            Round::Following { holder: "b".into() }
        );
        emulator.shutdown().await;
    }

    #[tokio::test]
    async fn a_standby_takes_over_a_lease_nobody_renews_once_it_expires() {
        crate::install_crypto_provider();
        let (emulator, client) = emulator().await;
        let mut a = Elector::new(client.clone(), settings("a"));
        let mut b = Elector::new(client.clone(), settings("b"));
        assert_eq!(
            a.try_acquire_or_renew().await.expect("round"),
            Round::Leading
        );
        let started = Instant::now();
        // `a` dies without releasing: `b` follows until 2 s after it first saw the record.
        loop {
            match b.try_acquire_or_renew().await.expect("round") {
                Round::Leading => break,
                Round::Following { holder } => assert_eq!(holder, "a"),
            }
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "b never took over"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(1900),
            "took over a live lease after {waited:?}"
        );
        assert_eq!(lease(&client).await.holder_identity.as_deref(), Some("b"));
        emulator.shutdown().await;
    }

    #[tokio::test]
    async fn lead_acts_until_released_and_a_waiting_standby_then_leads() {
        crate::install_crypto_provider();
        let (emulator, client) = emulator().await;
        let shutdown_a = CancellationToken::new();
        let a = lead(client.clone(), settings("a"), shutdown_a.clone())
            .await
            .expect("a leads");
        let shutdown_b = CancellationToken::new();
        let b = tokio::spawn(lead(client.clone(), settings("b"), shutdown_b.clone()));
        // Renewals keep `b` waiting past a lease duration.
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert!(!b.is_finished(), "b took over a renewed lease");
        assert!(!a.acting().is_cancelled());
        shutdown_a.cancel();
        assert!(a.acting().is_cancelled());
        let released = Instant::now();
        assert!(a.release().await);
        let b = tokio::time::timeout(Duration::from_secs(1), b)
            .await
            .expect("b leads within its retry period of the release")
            .expect("task")
            .expect("b leads");
        assert!(released.elapsed() < Duration::from_secs(1));
        assert!(!b.acting().is_cancelled());
        shutdown_b.cancel();
        assert!(b.release().await);
        emulator.shutdown().await;
    }

    #[tokio::test]
    async fn a_dropped_leadership_stops_renewing_and_its_lease_expires() {
        crate::install_crypto_provider();
        let (emulator, client) = emulator().await;
        let a = lead(client.clone(), settings("a"), CancellationToken::new())
            .await
            .expect("a leads");
        let b = tokio::spawn(lead(
            client.clone(),
            settings("b"),
            CancellationToken::new(),
        ));
        tokio::time::sleep(Duration::from_millis(500)).await;
        // Like an aborted operator task: no release, no more renewals.
        drop(a);
        let dropped = Instant::now();
        let b = tokio::time::timeout(Duration::from_secs(5), b)
            .await
            .expect("b leads once the lease expired")
            .expect("task")
            .expect("b leads");
        assert!(dropped.elapsed() >= Duration::from_millis(1000));
        assert_eq!(lease(&client).await.holder_identity.as_deref(), Some("b"));
        drop(b);
        emulator.shutdown().await;
    }
}
