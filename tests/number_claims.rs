//! One number, one owner (`controller::claims`) against the Kubernetes API emulator: two
//! PhoneNumbers in two namespaces (or two replicas) racing for the same number of one Twilio
//! account — exactly one wins; a claim whose PhoneNumber is gone is taken over; claims are
//! dropped when their holder is done.

use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client, ResourceExt};
use serde_json::json;
use telephony_operator::api::{PhoneNumber, crds};
use telephony_operator::controller::claims::{ClaimOutcome, Claimant, Claims};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const OPERATOR_NS: &str = "telephony-system";

async fn client() -> (kube_emulator::EmulatorHandle, Client) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let emulator = kube_emulator::start(kube_emulator::EmulatorConfig::default())
        .await
        .unwrap();
    let client = Client::try_from(kube::Config::new(emulator.url().parse().unwrap())).unwrap();
    let crd_api: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    for crd in crds() {
        crd_api.create(&PostParams::default(), &crd).await.unwrap();
    }
    for ns in [OPERATOR_NS, "team-a", "team-b"] {
        let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
        let obj = serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap();
        api.create(&PostParams::default(), &obj).await.unwrap();
    }
    let pns: Api<PhoneNumber> = Api::namespaced(client.clone(), "team-a");
    for _ in 0..100 {
        if pns.list(&Default::default()).await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    (emulator, client)
}

async fn phone_number(client: &Client, ns: &str, name: &str) -> PhoneNumber {
    let api: Api<PhoneNumber> = Api::namespaced(client.clone(), ns);
    let pn: PhoneNumber = serde_json::from_value(json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"accountRef": {"name": "acct"}, "number": "+14155550100"}
    }))
    .unwrap();
    api.create(&PostParams::default(), &pn).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_number_has_one_owner_across_namespaces() {
    let (_emulator, client) = client().await;
    let claims = Claims::new(client.clone(), OPERATOR_NS);
    let a = Claimant::of(&phone_number(&client, "team-a", "support").await);
    let b = Claimant::of(&phone_number(&client, "team-b", "support").await);

    // Racing: exactly one wins.
    let (ra, rb) = tokio::join!(
        claims.claim(SID, "+14155550100", &a, None),
        claims.claim(SID, "+14155550100", &b, None)
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let winners = [&ra, &rb]
        .iter()
        .filter(|r| ***r == ClaimOutcome::Ours)
        .count();
    assert_eq!(winners, 1, "{ra:?} {rb:?}");
    let (winner, loser) = if ra == ClaimOutcome::Ours {
        (&a, &b)
    } else {
        (&b, &a)
    };
    // Claiming again is idempotent for the holder, refused to the other.
    assert_eq!(
        claims
            .claim(SID, "+14155550100", winner, None)
            .await
            .unwrap(),
        ClaimOutcome::Ours
    );
    assert_eq!(
        claims
            .claim(SID, "+14155550100", loser, None)
            .await
            .unwrap(),
        ClaimOutcome::Taken(winner.clone())
    );
    // The same number in another Twilio account is another claim.
    assert_eq!(
        claims
            .claim(
                "AC99999999999999999999999999999999",
                "+14155550100",
                loser,
                None
            )
            .await
            .unwrap(),
        ClaimOutcome::Ours
    );

    // The holder is done with it: the other may claim it.
    claims.release_all(&winner.uid).await.unwrap();
    assert_eq!(claims.holder(SID, "+14155550100").await.unwrap(), None);
    assert_eq!(
        claims
            .claim(SID, "+14155550100", loser, None)
            .await
            .unwrap(),
        ClaimOutcome::Ours
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_whose_phone_number_is_gone_is_taken_over() {
    let (_emulator, client) = client().await;
    let claims = Claims::new(client.clone(), OPERATOR_NS);
    let old = phone_number(&client, "team-a", "support").await;
    let holder = Claimant::of(&old);
    assert_eq!(
        claims
            .claim(SID, "+14155550100", &holder, None)
            .await
            .unwrap(),
        ClaimOutcome::Ours
    );
    // Force-deleted (no finalizer here): its claim is stale.
    Api::<PhoneNumber>::namespaced(client.clone(), "team-a")
        .delete(&old.name_any(), &DeleteParams::default())
        .await
        .unwrap();
    // Recreated under the same name: a new uid, a new claimant.
    let new = Claimant::of(&phone_number(&client, "team-a", "support").await);
    assert_ne!(new.uid, holder.uid);
    assert_eq!(
        claims.claim(SID, "+14155550100", &new, None).await.unwrap(),
        ClaimOutcome::Ours
    );
    assert_eq!(
        claims.holder(SID, "+14155550100").await.unwrap(),
        Some(new.clone())
    );

    // release_all_but keeps the claim on the number it ends up with, drops the others.
    assert_eq!(
        claims.claim(SID, "+14155550111", &new, None).await.unwrap(),
        ClaimOutcome::Ours
    );
    claims
        .release_all_but(&new.uid, Some((SID, "+14155550100")))
        .await
        .unwrap();
    assert_eq!(claims.holder(SID, "+14155550111").await.unwrap(), None);
    assert_eq!(claims.holder(SID, "+14155550100").await.unwrap(), Some(new));
}
