//! Wire-level checks of object lifecycles: owner-reference GC, namespace deletion, CRD removal,
//! multi-version CRDs and CRD updates, bearer token, injected conflicts and stats.

mod common;

use common::http::{GADGETS, W, gadget};
use kube_emulator::EmulatorConfig;
use serde_json::{Value, json};

#[tokio::test]
async fn owner_gc_namespace_deletion_and_crd_removal() {
    let w = W::new().await.with_crd().await;
    let (_, ns) = w
        .post(
            "/api/v1/namespaces",
            &json!({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"tmp"}}),
        )
        .await;
    assert_eq!(ns["status"]["phase"], "Active");
    let tmp = "/apis/wire.example.com/v1/namespaces/tmp/gadgets";
    let (_, owner) = w.post(tmp, &gadget("owner", 1)).await;
    let uid = owner["metadata"]["uid"].as_str().unwrap();
    let cm = json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dep","ownerReferences":[{"apiVersion":"wire.example.com/v1","kind":"Gadget","name":"owner","uid": uid}]}});
    assert_eq!(
        w.post("/api/v1/namespaces/tmp/configmaps", &cm).await.0,
        201
    );
    w.send(
        "DELETE",
        &format!("{tmp}/owner"),
        "application/json",
        Some("{}".into()),
    )
    .await;
    assert_eq!(
        w.get("/api/v1/namespaces/tmp/configmaps/dep").await.0,
        404,
        "dependent collected"
    );

    // namespace deletion removes the contents, then the namespace
    w.post(tmp, &gadget("g", 1)).await;
    let (code, t) = w
        .send(
            "DELETE",
            "/api/v1/namespaces/tmp",
            "application/json",
            Some(r#"{"propagationPolicy":"Background"}"#.into()),
        )
        .await;
    assert_eq!(code, 200, "{t}");
    assert_eq!(w.get(&format!("{tmp}/g")).await.0, 404);
    assert_eq!(w.get("/api/v1/namespaces/tmp").await.0, 404);

    // with a finalizer inside, the namespace stays Terminating until it is removed
    w.post(
        "/api/v1/namespaces",
        &json!({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"tmp2"}}),
    )
    .await;
    let tmp2 = "/apis/wire.example.com/v1/namespaces/tmp2/gadgets";
    w.post(tmp2, &json!({"apiVersion":"wire.example.com/v1","kind":"Gadget","metadata":{"name":"held","finalizers":["x.io/hold"]},"spec":{"size":1}})).await;
    w.send(
        "DELETE",
        "/api/v1/namespaces/tmp2",
        "application/json",
        None,
    )
    .await;
    let (_, ns2) = w.get("/api/v1/namespaces/tmp2").await;
    assert_eq!(ns2["status"]["phase"], "Terminating");
    let (_, held) = w.get(&format!("{tmp2}/held")).await;
    assert!(held["metadata"]["deletionTimestamp"].is_string());
    let (code, _) = w.post(tmp2, &gadget("new", 1)).await;
    assert_eq!(code, 403, "no new content in a terminating namespace");
    let (code, _) = w
        .patch(
            &format!("{tmp2}/held"),
            "application/merge-patch+json",
            &json!({"metadata":{"finalizers":["x.io/hold","x.io/more"]}}),
        )
        .await;
    assert_eq!(code, 422, "no new finalizers while terminating");
    w.patch(
        &format!("{tmp2}/held"),
        "application/merge-patch+json",
        &json!({"metadata":{"finalizers":null}}),
    )
    .await;
    assert_eq!(w.get(&format!("{tmp2}/held")).await.0, 404);
    assert_eq!(
        w.get("/api/v1/namespaces/tmp2").await.0,
        404,
        "namespace gone with its last object"
    );

    // deleting the CRD removes its objects (watchers see DELETED) and the endpoint
    w.post(GADGETS, &gadget("last", 1)).await;
    let mut s = w.watch(&format!("{GADGETS}?watch=true")).await;
    assert_eq!(s.next().await.unwrap()["type"], "ADDED");
    w.send(
        "DELETE",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.wire.example.com",
        "application/json",
        None,
    )
    .await;
    let d = s.next().await.unwrap();
    assert_eq!(
        (d["type"].as_str(), d["object"]["metadata"]["name"].as_str()),
        (Some("DELETED"), Some("last"))
    );
    assert_eq!(w.get(GADGETS).await.0, 404);
    w.emu.shutdown().await;
}

#[tokio::test]
async fn bearer_token_faults_and_stats() {
    let w = W::with(EmulatorConfig {
        bearer_token: Some("s3cret".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(w.get("/api/v1/namespaces").await.0, 401);
    assert!(w.emu.kubeconfig_yaml().contains("s3cret"));
    let ok = w
        .http
        .get(w.url("/api/v1/namespaces"))
        .bearer_auth("s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    let post = |body: Value| {
        w.http
            .post(w.url("/api/v1/namespaces/default/configmaps"))
            .bearer_auth("s3cret")
            .json(&body)
            .send()
    };
    w.emu.faults().conflict_next_writes(1);
    let first = post(json!({"metadata":{"name":"c"}})).await.unwrap();
    assert_eq!(first.status().as_u16(), 409);
    let second = post(json!({"metadata":{"name":"c"}})).await.unwrap();
    assert_eq!(second.status().as_u16(), 201);
    let stats = w.emu.stats();
    assert_eq!(stats.creates, 1);
    assert_eq!(stats.objects, 5, "4 namespaces + 1 configmap");
    w.emu.shutdown().await;
}

#[tokio::test]
async fn crd_versions_validation_and_updates() {
    let w = W::new().await;
    let crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    let schema =
        json!({"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}});
    let mut crd = json!({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
        "metadata":{"name":"things.multi.example.com"},
        "spec":{"group":"multi.example.com","scope":"Cluster","names":{"plural":"things","kind":"Thing"},
          "versions":[{"name":"v1alpha1","served":true,"storage":false,"schema": schema},
                      {"name":"v1","served":true,"storage":true,"schema": schema}]}});
    // name must be plural.group
    let mut wrong = crd.clone();
    wrong["metadata"]["name"] = json!("things.other.example.com");
    let (code, e) = w.post(crds, &wrong).await;
    assert_eq!(code, 422, "{e}");
    assert_eq!(e["details"]["causes"][0]["field"], "metadata.name");
    let (code, created) = w.post(crds, &crd).await;
    assert_eq!(code, 201, "{created}");
    let conds: Vec<(String, String)> = created["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["type"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        conds.contains(&("Established".into(), "True".into()))
            && conds.contains(&("NamesAccepted".into(), "True".into()))
    );
    assert_eq!(created["spec"]["names"]["listKind"], "ThingList");
    assert_eq!(created["spec"]["names"]["singular"], "thing");

    // preferred version is v1 (GA beats alpha) although listed second
    let (_, g) = w.get("/apis/multi.example.com").await;
    assert_eq!(g["preferredVersion"]["version"], "v1");
    // one stored object, apiVersion per endpoint; cluster-scoped URL shape
    let (code, t) = w.post("/apis/multi.example.com/v1alpha1/things", &json!({"apiVersion":"multi.example.com/v1alpha1","kind":"Thing","metadata":{"name":"t1"},"x":1})).await;
    assert_eq!(code, 201, "{t}");
    assert!(t["metadata"].get("namespace").is_none());
    let (_, v1) = w.get("/apis/multi.example.com/v1/things/t1").await;
    assert_eq!(
        (v1["apiVersion"].as_str(), v1["x"].as_i64()),
        (Some("multi.example.com/v1"), Some(1))
    );
    assert_eq!(
        w.get("/apis/multi.example.com/v1/namespaces/default/things/t1")
            .await
            .0,
        404,
        "wrong scope shape"
    );
    // wrong apiVersion in the body → 400
    let (code, _) = w.post("/apis/multi.example.com/v1/things", &json!({"apiVersion":"multi.example.com/v1alpha1","kind":"Thing","metadata":{"name":"t2"}})).await;
    assert_eq!(code, 400);

    // CRD update: stop serving v1alpha1 → its endpoint disappears; generation bumps
    crd["spec"]["versions"][0]["served"] = json!(false);
    crd["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"].clone();
    let (code, updated) = w
        .send(
            "PUT",
            &format!("{crds}/things.multi.example.com"),
            "application/json",
            Some(crd.to_string()),
        )
        .await;
    assert_eq!(code, 200, "{updated}");
    assert_eq!(updated["metadata"]["generation"], 2);
    assert_eq!(
        w.get("/apis/multi.example.com/v1alpha1/things").await.0,
        404
    );
    assert_eq!(w.get("/apis/multi.example.com/v1/things/t1").await.0, 200);
    // a CRD with an invalid CEL rule is rejected
    let bad = json!({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
        "metadata":{"name":"bads.multi.example.com"},
        "spec":{"group":"multi.example.com","scope":"Namespaced","names":{"plural":"bads","kind":"Bad"},
          "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object",
            "x-kubernetes-validations":[{"rule":"self.x >"}],"properties":{"x":{"type":"integer"}}}}}]}});
    let (code, e) = w.post(crds, &bad).await;
    assert_eq!(code, 422, "{e}");
    w.emu.shutdown().await;
}

#[tokio::test]
async fn apply_merges_map_lists_per_key() {
    let w = W::new().await;
    let crd = json!({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
        "metadata":{"name":"lamps.ssa.example.com"},
        "spec":{"group":"ssa.example.com","scope":"Namespaced","names":{"plural":"lamps","kind":"Lamp"},
          "versions":[{"name":"v1","served":true,"storage":true,"subresources":{"status":{}},
            "schema":{"openAPIV3Schema":{"type":"object","properties":{
              "spec":{"type":"object","x-kubernetes-preserve-unknown-fields":true},
              "status":{"type":"object","properties":{"conditions":{"type":"array",
                "x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["type"],
                "items":{"type":"object","required":["type"],"properties":{"type":{"type":"string"},"status":{"type":"string"}}}}}}}}}}]}});
    assert_eq!(
        w.post(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            &crd
        )
        .await
        .0,
        201
    );
    let lamps = "/apis/ssa.example.com/v1/namespaces/default/lamps";
    w.post(lamps, &json!({"apiVersion":"ssa.example.com/v1","kind":"Lamp","metadata":{"name":"l1"},"spec":{}})).await;
    async fn apply(w: &W, lamps: &str, mgr: &str, conds: Value) -> (u16, Value) {
        let body =
            json!({"apiVersion":"ssa.example.com/v1","kind":"Lamp","status":{"conditions": conds}});
        let path = format!("{lamps}/l1/status?fieldManager={mgr}&force=true");
        w.send(
            "PATCH",
            &path,
            "application/apply-patch+yaml",
            Some(body.to_string()),
        )
        .await
    }
    apply(&w, lamps, "a", json!([{"type":"Ready","status":"True"}])).await;
    let (code, both) = apply(&w, lamps, "b", json!([{"type":"Billed","status":"False"}])).await;
    assert_eq!(code, 200, "{both}");
    let types = |v: &Value| -> Vec<String> {
        v["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["type"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        types(&both),
        ["Ready", "Billed"],
        "each manager's item is kept"
    );
    let (_, after) = apply(&w, lamps, "a", json!([{"type":"Other","status":"True"}])).await;
    assert_eq!(
        types(&after),
        ["Billed", "Other"],
        "a withdrew Ready, b's Billed stays"
    );
    w.emu.shutdown().await;
}
