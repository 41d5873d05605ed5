//! Where a PhoneNumber reconcile reads its TelephonyAccount from: the controller's account cache
//! once the number is recorded (a resync or restart of N numbers reads no account from the API
//! server), the API server before that (a purchase acts on the freshest account) and whenever the
//! cache lacks it.

use super::super::observe::account_and_credits;
use super::{SID, number_spec, object};
use crate::api::{PhoneNumberStatus, TelephonyAccount};
use crate::controller::Context;
use crate::reconcile::phone_number::AccountView;
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const ACCOUNT_PATH: &str =
    "/apis/telephony.agni.ai/v1alpha1/namespaces/team-a/telephonyaccounts/acct";

/// A Context whose API server has no TelephonyAccount (every request is a 404); `reads` counts
/// the GETs of the account.
fn context(reads: Arc<AtomicUsize>) -> Arc<Context> {
    let service = tower::service_fn(move |req: http::Request<kube::client::Body>| {
        let reads = reads.clone();
        async move {
            if req.method() == http::Method::GET && req.uri().path() == ACCOUNT_PATH {
                reads.fetch_add(1, Ordering::SeqCst);
            }
            let body = serde_json::json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "telephonyaccounts.telephony.agni.ai \"acct\" not found",
                "reason": "NotFound", "code": 404
            });
            http::Response::builder()
                .status(404)
                .header("content-type", "application/json")
                .body(kube::client::Body::from(body.to_string().into_bytes()))
                .map_err(std::io::Error::other)
        }
    });
    crate::controller::context::for_tests(kube::Client::new(service, "default"))
}

/// A cache holding the account `acct` of `team-a` (not connected yet: NotUsable, so no Secret
/// is read), or nothing.
fn cache(with_account: bool) -> Store<TelephonyAccount> {
    let (store, mut writer) = reflector::store();
    if with_account {
        let acct: TelephonyAccount = serde_json::from_value(serde_json::json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
            "metadata": {"name": "acct", "namespace": "team-a", "uid": "u-1", "resourceVersion": "7"},
            "spec": {"mode": "BringYourOwn", "credentialsSecretRef": {"name": "twilio"}},
        }))
        .unwrap();
        writer.apply_watcher_event(&watcher::Event::Apply(acct));
    }
    store
}

fn recorded() -> crate::api::PhoneNumber {
    let mut pn = object(number_spec("+14155550100"));
    pn.status = Some(PhoneNumberStatus {
        sid: Some("PN0123456789abcdef0123456789abcdef".into()),
        account_sid: Some(SID.into()),
        phone_number: Some("+14155550100".into()),
        ..Default::default()
    });
    pn
}

#[tokio::test]
async fn a_recorded_number_reads_its_account_from_the_cache() {
    let reads = Arc::new(AtomicUsize::new(0));
    let ctx = context(reads.clone());
    let (view, api, _) = account_and_credits(&ctx, &cache(true), &recorded())
        .await
        .unwrap();
    // The cached account (the API server would have said there is none).
    assert!(matches!(view, AccountView::NotUsable { .. }), "{view:?}");
    assert!(api.is_none());
    assert_eq!(reads.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_number_not_yet_recorded_reads_the_account_from_the_api_server() {
    let reads = Arc::new(AtomicUsize::new(0));
    let ctx = context(reads.clone());
    let unrecorded = object(number_spec("+14155550100"));
    let (view, _, _) = account_and_credits(&ctx, &cache(true), &unrecorded)
        .await
        .unwrap();
    assert_eq!(
        view,
        AccountView::Missing,
        "the API server's answer, not the cache's"
    );
    assert_eq!(reads.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_account_the_cache_lacks_is_read_from_the_api_server() {
    let reads = Arc::new(AtomicUsize::new(0));
    let ctx = context(reads.clone());
    let (view, _, _) = account_and_credits(&ctx, &cache(false), &recorded())
        .await
        .unwrap();
    assert_eq!(view, AccountView::Missing);
    assert_eq!(reads.load(Ordering::SeqCst), 1);
}
