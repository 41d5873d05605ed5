//! Leader election with a `coordination.k8s.io/v1` Lease, so only one replica acts.
//!
//! The usual client-go protocol: read the Lease; create it when absent (a lost create race is a
//! 409 AlreadyExists); take it over when it expired; renew it while holding it, always with the
//! read resourceVersion so a concurrent writer gets 409 Conflict. Uses wall-clock time (not the
//! operator's possibly accelerated clock): leases are about real replicas.

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Lease timing.
#[derive(Debug, Clone)]
pub struct LeaseSettings {
    pub namespace: String,
    pub name: String,
    pub identity: String,
    pub lease_duration: Duration,
    pub renew_every: Duration,
}

impl LeaseSettings {
    pub fn new(namespace: &str, name: &str, identity: &str) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
            identity: identity.into(),
            lease_duration: Duration::from_secs(15),
            renew_every: Duration::from_secs(5),
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

/// One round: acquire or renew. Conflicts mean another replica wrote first: we follow.
pub async fn try_acquire(client: &Client, s: &LeaseSettings) -> Result<Round, kube::Error> {
    let api: Api<Lease> = Api::namespaced(client.clone(), &s.namespace);
    let now = Timestamp::now();
    let spec = |transitions: i32, acquire: Option<MicroTime>| LeaseSpec {
        holder_identity: Some(s.identity.clone()),
        lease_duration_seconds: Some(s.lease_duration.as_secs() as i32),
        acquire_time: acquire.or(Some(MicroTime(now))),
        renew_time: Some(MicroTime(now)),
        lease_transitions: Some(transitions),
        ..Default::default()
    };
    let Some(mut lease) = api.get_opt(&s.name).await? else {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(s.name.clone()),
                ..Default::default()
            },
            spec: Some(spec(0, None)),
        };
        return match api.create(&PostParams::default(), &lease).await {
            Ok(_) => Ok(Round::Leading),
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(Round::Following {
                holder: "unknown".into(),
            }),
            Err(e) => Err(e),
        };
    };
    let current = lease.spec.clone().unwrap_or_default();
    let holder = current.holder_identity.clone().unwrap_or_default();
    let expired = match (current.renew_time.as_ref(), current.lease_duration_seconds) {
        (Some(renewed), Some(secs)) => renewed
            .0
            .checked_add(jiff::SignedDuration::from_secs(i64::from(secs)))
            .map(|end| end < now)
            .unwrap_or(true),
        _ => true,
    };
    if holder != s.identity && !expired && !holder.is_empty() {
        return Ok(Round::Following { holder });
    }
    let transitions = current.lease_transitions.unwrap_or(0) + i32::from(holder != s.identity);
    let acquire = if holder == s.identity {
        current.acquire_time.clone()
    } else {
        None
    };
    lease.spec = Some(spec(transitions, acquire));
    match api.replace(&s.name, &PostParams::default(), &lease).await {
        Ok(_) => Ok(Round::Leading),
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(Round::Following { holder }),
        Err(e) => Err(e),
    }
}

/// Waits until this replica leads, then keeps renewing in the background; `lost` is cancelled
/// when leadership is lost (the caller stops acting) or `shutdown` fires.
pub async fn lead(
    client: Client,
    s: LeaseSettings,
    shutdown: CancellationToken,
) -> Option<CancellationToken> {
    loop {
        match try_acquire(&client, &s).await {
            Ok(Round::Leading) => break,
            Ok(Round::Following { holder }) => {
                tracing::info!(%holder, "waiting for the leader lease")
            }
            Err(error) => tracing::warn!(%error, "leader election failed; retrying"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return None,
            _ = tokio::time::sleep(s.renew_every) => {}
        }
    }
    tracing::info!(identity = %s.identity, "acquired the leader lease");
    let lost = shutdown.child_token();
    let guard = lost.clone();
    tokio::spawn(async move {
        let mut last_ok = tokio::time::Instant::now();
        loop {
            tokio::select! {
                _ = guard.cancelled() => return,
                _ = tokio::time::sleep(s.renew_every) => {}
            }
            match try_acquire(&client, &s).await {
                Ok(Round::Leading) => last_ok = tokio::time::Instant::now(),
                Ok(Round::Following { holder }) => {
                    tracing::error!(%holder, "lost the leader lease");
                    guard.cancel();
                    return;
                }
                Err(error) if last_ok.elapsed() < s.lease_duration => {
                    tracing::warn!(%error, "renewing the leader lease failed; retrying")
                }
                Err(error) => {
                    tracing::error!(%error, "could not renew the leader lease in time");
                    guard.cancel();
                    return;
                }
            }
        }
    });
    Some(lost)
}
