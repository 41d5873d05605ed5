//! kube-rs `Api` against the emulator (or a real cluster with `TELEPHONY_E2E_KUBECONFIG`):
//! CRUD, optimistic concurrency, status subresource, generation, finalizers, patches, SSA,
//! selectors, Secrets, Events, Leases, discovery.

mod common;

use common::{TestEnv, widget};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Event as CoreEvent, Secret};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams,
};
use kube::core::Status;
use serde_json::json;

fn api_err(e: kube::Error) -> Status {
    match e {
        kube::Error::Api(s) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn crud_conflict_and_generation() {
    let env = TestEnv::new().await;
    env.install_crd().await;
    let api = env.widgets();
    let pp = PostParams::default();
    let w = api.create(&pp, &widget("w1", 1)).await.unwrap();
    assert_eq!(w.metadata.generation, Some(1));
    assert!(w.metadata.uid.is_some() && w.metadata.creation_timestamp.is_some());
    let e = api_err(api.create(&pp, &widget("w1", 1)).await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (409, "AlreadyExists"));

    // replace with the current RV bumps generation; a stale RV gets 409 Conflict
    let mut w2 = w.clone();
    w2.spec.size = 2;
    let w2 = api.replace("w1", &pp, &w2).await.unwrap();
    assert_eq!(w2.metadata.generation, Some(2));
    let mut stale = w.clone();
    stale.spec.size = 3;
    let e = api_err(api.replace("w1", &pp, &stale).await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (409, "Conflict"));
    assert!(
        e.message.contains("the object has been modified"),
        "{}",
        e.message
    );

    // CR update without resourceVersion is 422, named by the resource
    let mut no_rv = w2.clone();
    no_rv.metadata.resource_version = None;
    let e = api_err(api.replace("w1", &pp, &no_rv).await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
    assert_eq!(
        e.message,
        "widgets.emu.example.com \"w1\" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update"
    );

    // a no-op write does not bump the resourceVersion
    let same = api.replace("w1", &pp, &w2).await.unwrap();
    assert_eq!(same.metadata.resource_version, w2.metadata.resource_version);

    // label-only change does not bump generation
    let labelled = api
        .patch(
            "w1",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata":{"labels":{"a":"1"}}})),
        )
        .await
        .unwrap();
    assert_eq!(labelled.metadata.generation, Some(2));
    assert_ne!(
        labelled.metadata.resource_version,
        w2.metadata.resource_version
    );

    let e = api_err(api.get("nope").await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (404, "NotFound"));
    assert!(api.get_opt("nope").await.unwrap().is_none());

    let deleted = api.delete("w1", &DeleteParams::default()).await.unwrap();
    assert!(deleted.is_right(), "CR delete answers a Status");
    assert!(api.get_opt("w1").await.unwrap().is_none());
    env.cleanup().await;
}

#[tokio::test]
async fn status_subresource_split() {
    let env = TestEnv::new().await;
    env.install_crd().await;
    let api = env.widgets();
    let mut w = widget("s1", 1);
    w.status = Some(common::WidgetStatus {
        message: Some("dropped".into()),
        ..Default::default()
    });
    let created = api.create(&PostParams::default(), &w).await.unwrap();
    assert!(created.status.is_none(), "status is dropped on create");

    let ps = api
        .patch_status(
            "s1",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec":{"size":9},"status":{"message":"hi"}})),
        )
        .await
        .unwrap();
    assert_eq!(
        ps.status.as_ref().and_then(|s| s.message.as_deref()),
        Some("hi")
    );
    assert_eq!(ps.spec.size, 1, "/status ignores spec");
    assert_eq!(
        ps.metadata.generation,
        Some(1),
        "/status never bumps generation"
    );

    let main = api
        .patch(
            "s1",
            &PatchParams::default(),
            &Patch::Merge(json!({"status":{"message":"ignored"}})),
        )
        .await
        .unwrap();
    assert_eq!(
        main.status.and_then(|s| s.message).as_deref(),
        Some("hi"),
        "main endpoint ignores status"
    );

    // SSA on /status with a metadata-less body, forced
    let applied = api
        .patch_status(
            "s1",
            &PatchParams::apply("ctrl").force(),
            &Patch::Apply(json!({"apiVersion":"emu.example.com/v1","kind":"Widget","status":{"observedGeneration":1}})),
        )
        .await
        .unwrap();
    let st = applied.status.unwrap();
    assert_eq!(st.observed_generation, Some(1));
    assert_eq!(
        st.message.as_deref(),
        Some("hi"),
        "fields of other managers stay"
    );

    // PUT /status checks the resourceVersion; spec in the body is ignored
    let mut cur = api.get_status("s1").await.unwrap();
    cur.status.as_mut().unwrap().message = Some("replaced".into());
    cur.spec.size = 42;
    let replaced = api
        .replace_status("s1", &PostParams::default(), &cur)
        .await
        .unwrap();
    assert_eq!(
        (
            replaced.status.unwrap().message.as_deref(),
            replaced.spec.size
        ),
        (Some("replaced"), 1)
    );
    let e = api_err(
        api.replace_status("s1", &PostParams::default(), &cur)
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 409);
    env.cleanup().await;
}

#[tokio::test]
async fn finalizers_and_json_patch_test_null() {
    let env = TestEnv::new().await;
    env.install_crd().await;
    let api = env.widgets();
    api.create(&PostParams::default(), &widget("f1", 1))
        .await
        .unwrap();
    let add = json!([{"op":"test","path":"/metadata/finalizers","value":null},{"op":"add","path":"/metadata/finalizers","value":["emu.example.com/f"]}]);
    let p: json_patch::Patch = serde_json::from_value(add.clone()).unwrap();
    let with_f = api
        .patch("f1", &PatchParams::default(), &Patch::<()>::Json(p.clone()))
        .await
        .unwrap();
    assert_eq!(
        with_f.metadata.finalizers.as_deref(),
        Some(&["emu.example.com/f".to_string()][..])
    );
    // the same test now fails → 422 Invalid with upstream's bare message
    let e = api_err(
        api.patch("f1", &PatchParams::default(), &Patch::<()>::Json(p))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (e.code, e.reason.as_str(), e.message.as_str()),
        (
            422,
            "Invalid",
            "the server rejected our request due to an error in our request"
        )
    );
    // a `replace` of a missing member adds it (evanphx/json-patch v4, as kube-apiserver uses)
    let add_note = json!([{"op":"replace","path":"/spec/note","value":"via replace"}]);
    let p: json_patch::Patch = serde_json::from_value(add_note).unwrap();
    let noted = api
        .patch("f1", &PatchParams::default(), &Patch::<()>::Json(p))
        .await
        .unwrap();
    assert_eq!(noted.spec.note.as_deref(), Some("via replace"));

    let gen_before = noted.metadata.generation.unwrap();
    let del = api.delete("f1", &DeleteParams::default()).await.unwrap();
    let terminating = del.left().expect("object while finalizers remain");
    assert!(terminating.metadata.deletion_timestamp.is_some());
    assert_eq!(terminating.metadata.generation, Some(gen_before + 1));
    // a repeat delete answers the unchanged object
    let again = api
        .delete("f1", &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .unwrap();
    assert_eq!(
        again.metadata.resource_version,
        terminating.metadata.resource_version
    );

    let rm = json!([{"op":"test","path":"/metadata/finalizers/0","value":"emu.example.com/f"},{"op":"remove","path":"/metadata/finalizers/0"}]);
    let p: json_patch::Patch = serde_json::from_value(rm).unwrap();
    api.patch("f1", &PatchParams::default(), &Patch::<()>::Json(p))
        .await
        .unwrap();
    common::eventually("object gone", || async {
        api.get_opt("f1").await.unwrap().is_none().then_some(())
    })
    .await;
    env.cleanup().await;
}

#[tokio::test]
async fn server_side_apply_removes_dropped_fields() {
    let env = TestEnv::new().await;
    env.install_crd().await;
    let api = env.widgets();
    let pp = PatchParams::apply("m1");
    let body = |note: Option<&str>| {
        let mut v = json!({"apiVersion":"emu.example.com/v1","kind":"Widget","metadata":{"name":"a1","labels":{"x":"1"}},"spec":{"size":2}});
        if let Some(n) = note {
            v["spec"]["note"] = json!(n);
        }
        v
    };
    let created = api
        .patch("a1", &pp, &Patch::Apply(body(Some("n"))))
        .await
        .unwrap();
    assert_eq!(created.spec.note.as_deref(), Some("n"));
    let later = api
        .patch("a1", &pp, &Patch::Apply(body(None)))
        .await
        .unwrap();
    assert_eq!(
        later.spec.note, None,
        "a field the manager stopped applying is removed"
    );
    // another manager changing an owned field without force → conflict; with force → ok
    let other = json!({"apiVersion":"emu.example.com/v1","kind":"Widget","metadata":{"name":"a1"},"spec":{"size":7}});
    let e = api_err(
        api.patch(
            "a1",
            &PatchParams::apply("m2"),
            &Patch::Apply(other.clone()),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e.code, 409);
    let forced = api
        .patch(
            "a1",
            &PatchParams::apply("m2").force(),
            &Patch::Apply(other),
        )
        .await
        .unwrap();
    assert_eq!(forced.spec.size, 7);
    // a field the schema does not declare: the server cannot type the apply patch (a 500,
    // whatever fieldValidation says)
    let undeclared = json!({"apiVersion":"emu.example.com/v1","kind":"Widget","metadata":{"name":"a1"},"spec":{"size":7,"colour":"red"}});
    let e = api_err(
        api.patch("a1", &PatchParams::apply("m2"), &Patch::Apply(undeclared))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 500, "{e:?}");
    assert_eq!(
        e.message,
        "failed to create typed patch object (/a1; emu.example.com/v1, Kind=Widget): .spec.colour: field not declared in schema"
    );
    // an apply configuration without apiVersion/kind is refused
    let e = api_err(
        api.patch(
            "a1",
            &PatchParams::apply("m2"),
            &Patch::Apply(json!({"metadata":{"name":"a1"},"spec":{"size":7}})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(
        (e.code, e.message.as_str()),
        (400, "invalid object type: /, Kind=")
    );
    env.cleanup().await;
}

#[tokio::test]
async fn dynamic_object_and_selectors() {
    let env = TestEnv::new().await;
    env.install_crd().await;
    let gvk = GroupVersionKind::gvk("emu.example.com", "v1", "Widget");
    let ar = ApiResource::from_gvk_with_plural(&gvk, "widgets");
    let api: Api<DynamicObject> = Api::namespaced_with(env.client.clone(), &env.namespace, &ar);
    for (n, tier) in [("d1", "gold"), ("d2", "silver"), ("d3", "bronze")] {
        let mut o = DynamicObject::new(n, &ar);
        o.metadata.labels = Some([("tier".to_string(), tier.to_string())].into());
        o.data = json!({"spec":{"size":1}});
        api.create(&PostParams::default(), &o).await.unwrap();
    }
    let names = |l: kube::api::ObjectList<DynamicObject>| -> Vec<String> {
        l.items
            .into_iter()
            .filter_map(|o| o.metadata.name)
            .collect()
    };
    // a real server answers the first lists of a new CRD's resources `429 storage is
    // (re)initializing` (Retry-After: 1); kube-rs retries them
    match &env.emu {
        Some(emu) => emu.faults().storage_initializing_next_lists(1),
        None => eprintln!(
            "real cluster: not injecting a 429 storage-initializing answer (emu.faults() only \
             exists in the emulator; the real server gives one only while a cache initializes)"
        ),
    }
    let l = api
        .list(&ListParams::default().labels("tier in (gold,silver)"))
        .await
        .unwrap();
    assert!(l.metadata.resource_version.is_some());
    assert_eq!(names(l), vec!["d1", "d2"]);
    assert_eq!(
        names(
            api.list(&ListParams::default().labels("tier!=gold"))
                .await
                .unwrap()
        ),
        vec!["d2", "d3"]
    );
    assert_eq!(
        names(
            api.list(&ListParams::default().fields("metadata.name=d3"))
                .await
                .unwrap()
        ),
        vec!["d3"]
    );
    assert_eq!(
        names(
            api.list(&ListParams::default().labels("!tier"))
                .await
                .unwrap()
        ),
        Vec::<String>::new()
    );
    // all namespaces
    let all: Api<DynamicObject> = Api::all_with(env.client.clone(), &ar);
    assert!(all.list(&ListParams::default()).await.unwrap().items.len() >= 3);
    // deletecollection with a selector
    api.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels("tier=bronze"),
    )
    .await
    .unwrap();
    assert_eq!(
        names(api.list(&ListParams::default()).await.unwrap()),
        vec!["d1", "d2"]
    );
    env.cleanup().await;
}

#[tokio::test]
async fn secrets_configmaps_leases() {
    let env = TestEnv::new().await;
    let secrets: Api<Secret> = Api::namespaced(env.client.clone(), &env.namespace);
    let s: Secret =
        serde_json::from_value(json!({"metadata":{"name":"s1"},"stringData":{"token":"abc"}}))
            .unwrap();
    let s = secrets.create(&PostParams::default(), &s).await.unwrap();
    assert_eq!(s.type_.as_deref(), Some("Opaque"));
    assert_eq!(s.data.unwrap()["token"].0, b"abc".to_vec());
    assert!(s.string_data.is_none());

    let cms: Api<ConfigMap> = Api::namespaced(env.client.clone(), &env.namespace);
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata":{"name":"c1"},"data":{"a":"1"}})).unwrap();
    let cm = cms.create(&PostParams::default(), &cm).await.unwrap();
    assert!(cm.metadata.generation.is_none());
    let patched = cms
        .patch(
            "c1",
            &PatchParams::default(),
            &Patch::Strategic(json!({"data":{"b":"2"}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.data.unwrap().len(), 2);

    let leases: Api<Lease> = Api::namespaced(env.client.clone(), &env.namespace);
    let l: Lease = serde_json::from_value(json!({"metadata":{"name":"leader"},"spec":{"holderIdentity":"a","leaseDurationSeconds":15}})).unwrap();
    let first = leases.create(&PostParams::default(), &l).await.unwrap();
    let e = api_err(leases.create(&PostParams::default(), &l).await.unwrap_err());
    assert_eq!(e.reason, "AlreadyExists");
    let mut renew = first.clone();
    renew.spec.as_mut().unwrap().holder_identity = Some("b".into());
    leases
        .replace("leader", &PostParams::default(), &renew)
        .await
        .unwrap();
    let e = api_err(
        leases
            .replace("leader", &PostParams::default(), &renew)
            .await
            .unwrap_err(),
    );
    assert_eq!(e.reason, "Conflict", "renewing with the old RV loses");
    env.cleanup().await;
}

#[tokio::test]
async fn events_served_through_both_apis() {
    let env = TestEnv::new().await;
    let ev1: Api<k8s_openapi::api::events::v1::Event> =
        Api::namespaced(env.client.clone(), &env.namespace);
    let e: k8s_openapi::api::events::v1::Event = serde_json::from_value(json!({
        "metadata":{"name":"e1"},"eventTime":"2025-01-01T00:00:00.000000Z","action":"Reconcile","reason":"Bought",
        "note":"bought a number","type":"Normal","reportingController":"ctrl","reportingInstance":"pod-1",
        "regarding":{"kind":"Widget","name":"w1","namespace": env.namespace,"uid":"u-1","apiVersion":"emu.example.com/v1"}
    }))
    .unwrap();
    ev1.create(&PostParams::default(), &e).await.unwrap();
    let core: Api<CoreEvent> = Api::namespaced(env.client.clone(), &env.namespace);
    let l = core
        .list(
            &ListParams::default()
                .fields("involvedObject.name=w1,involvedObject.kind=Widget,involvedObject.uid=u-1"),
        )
        .await
        .unwrap();
    assert_eq!(l.items.len(), 1);
    assert_eq!(l.items[0].message.as_deref(), Some("bought a number"));
    assert_eq!(l.items[0].reporting_component.as_deref(), Some("ctrl"));
    assert!(
        core.list(&ListParams::default().fields("involvedObject.name=other"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    env.cleanup().await;
}
