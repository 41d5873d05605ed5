//! Wire-level checks against the emulator with a plain HTTP client (shapes kube-rs and kubectl
//! depend on): watch framing, bookmarks, ERROR 410, DELETED revision, timeouts, streaming lists,
//! discovery negotiation, Tables, metadata-only lists, error bodies, patch content types.

mod common;

use std::time::Duration;

use common::http::{GADGETS, W, gadget};
use kube_emulator::EmulatorConfig;
use serde_json::{Value, json};

#[tokio::test]
async fn version_and_discovery() {
    let w = W::new().await.with_crd().await;
    let (_, v) = w.get("/version?timeout=5s").await;
    // what kube-apiserver v1.37.2 answers, gitVersion with build metadata
    assert_eq!(
        (v["major"].as_str(), v["minor"].as_str()),
        (Some("1"), Some("37"))
    );
    assert_eq!(
        (
            v["emulationMajor"].as_str(),
            v["emulationMinor"].as_str(),
            v["minCompatibilityMajor"].as_str(),
            v["minCompatibilityMinor"].as_str()
        ),
        (Some("1"), Some("37"), Some("1"), Some("36"))
    );
    assert_eq!(v["gitVersion"], "v1.37.2+kube-emulator");
    for k in [
        "gitVersion",
        "gitCommit",
        "gitTreeState",
        "buildDate",
        "goVersion",
        "compiler",
        "platform",
    ] {
        assert!(v[k].is_string(), "{k}");
    }
    let (_, apis) = w.get("/apis").await;
    assert!(
        apis["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "wire.example.com")
    );
    let (_, rl) = w.get("/apis/wire.example.com/v1").await;
    let names: Vec<&str> = rl["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["gadgets", "gadgets/status"]);
    let (code, _) = w.get("/apis/nope.example.com/v1").await;
    assert_eq!(code, 404);
    // aggregated discovery by Accept
    let resp = w
        .http
        .get(w.url("/apis"))
        .header(
            "accept",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    );
    let agg: Value = resp.json().await.unwrap();
    let g = agg["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["metadata"]["name"] == "wire.example.com")
        .unwrap()
        .clone();
    let r = &g["versions"][0]["resources"][0];
    assert_eq!(
        (r["resource"].as_str(), r["scope"].as_str()),
        (Some("gadgets"), Some("Namespaced"))
    );
    assert_eq!(r["subresources"][0]["subresource"], "status");
    // openapi v3 index names the CRD's group-version; its doc has the fieldValidation param
    let (_, idx) = w.get("/openapi/v3").await;
    let url = idx["paths"]["apis/wire.example.com/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, doc) = w.get(&url).await;
    assert_eq!(code, 200);
    assert!(doc.to_string().contains("fieldValidation"));
    // kube-apiserver's titles: CRD documents are built apart from the built-in ones
    assert_eq!(
        doc["info"],
        json!({"title": "Kubernetes CRD Swagger", "version": "v0.1.0"})
    );
    let (_, core) = w.get("/openapi/v3/api/v1").await;
    assert_eq!(
        core["info"],
        json!({"title": "Kubernetes", "version": "1.37"})
    );
    assert_eq!(w.get("/openapi/v2").await.0, 404);
    w.emu.shutdown().await;
}

#[tokio::test]
async fn watch_replay_bookmarks_deleted_rv_and_410() {
    let w = W::with(EmulatorConfig {
        bookmark_interval: Duration::from_millis(200),
        watch_history: 5,
        ..Default::default()
    })
    .await
    .with_crd()
    .await;
    let (_, list) = w.get(GADGETS).await;
    let rv0: u64 = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(list["items"].is_array());
    w.post(GADGETS, &gadget("g1", 1)).await;
    w.patch(
        &format!("{GADGETS}/g1"),
        "application/merge-patch+json",
        &json!({"spec":{"size":2}}),
    )
    .await;
    let (code, del) = w
        .send(
            "DELETE",
            &format!("{GADGETS}/g1"),
            "application/json",
            Some("{}".into()),
        )
        .await;
    assert_eq!(
        (code, del["kind"].as_str(), del["status"].as_str()),
        (200, Some("Status"), Some("Success"))
    );

    // replay strictly after rv0, then bookmarks with kind+apiVersion
    let mut s = w
        .watch(&format!(
            "{GADGETS}?&watch=true&allowWatchBookmarks=true&resourceVersion={rv0}"
        ))
        .await;
    let types: Vec<String> = [s.next().await, s.next().await, s.next().await]
        .into_iter()
        .map(|e| e.unwrap()["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types, ["ADDED", "MODIFIED", "DELETED"]);
    let bm = s.next().await.unwrap();
    assert_eq!(bm["type"], "BOOKMARK");
    assert_eq!(
        (
            bm["object"]["kind"].as_str(),
            bm["object"]["apiVersion"].as_str()
        ),
        (Some("Gadget"), Some("wire.example.com/v1"))
    );
    let bm_rv: u64 = bm["object"]["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(bm_rv >= rv0 + 3);

    // DELETED carries the deletion revision: resuming from it replays nothing
    let mut s2 = w
        .watch(&format!("{GADGETS}?watch=1&resourceVersion={rv0}"))
        .await;
    s2.next().await;
    s2.next().await;
    let d = s2.next().await.unwrap();
    let del_rv: u64 = d["object"]["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let (_, after) = w.get(GADGETS).await;
    assert_eq!(
        after["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap(),
        del_rv
    );

    // history of 5 events: push 6 more, then resuming from rv0 → ERROR 410 event (HTTP 200)
    for i in 0..6 {
        w.post(GADGETS, &gadget(&format!("x{i}"), 1)).await;
    }
    let mut old = w
        .watch(&format!("{GADGETS}?watch=true&resourceVersion={rv0}"))
        .await;
    let e = old.next().await.unwrap();
    assert_eq!(e["type"], "ERROR");
    assert_eq!(
        (e["object"]["code"].as_i64(), e["object"]["reason"].as_str()),
        (Some(410), Some("Expired"))
    );
    assert!(old.next().await.is_none(), "stream closes after the error");
    w.emu.shutdown().await;
}

#[tokio::test]
async fn streaming_list_timeout_and_selector_transitions() {
    let w = W::new().await.with_crd().await;
    w.post(GADGETS, &gadget("a", 1)).await;
    w.post(GADGETS, &json!({"apiVersion":"wire.example.com/v1","kind":"Gadget","metadata":{"name":"b","labels":{"tier":"gold"}},"spec":{"size":1}})).await;
    let mut s = w
        .watch(&format!("{GADGETS}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=0"))
        .await;
    assert_eq!(s.next().await.unwrap()["type"], "ADDED");
    assert_eq!(s.next().await.unwrap()["type"], "ADDED");
    let end = s.next().await.unwrap();
    assert_eq!(end["type"], "BOOKMARK");
    assert_eq!(
        end["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );

    // label selector transitions: leaving the selection is DELETED, entering is ADDED
    let mut sel = w
        .watch(&format!(
            "{GADGETS}?watch=true&labelSelector=tier%3Dgold&timeoutSeconds=3"
        ))
        .await;
    assert_eq!(sel.next().await.unwrap()["object"]["metadata"]["name"], "b");
    w.patch(
        &format!("{GADGETS}/b"),
        "application/merge-patch+json",
        &json!({"metadata":{"labels":{"tier":null}}}),
    )
    .await;
    let gone = sel.next().await.unwrap();
    assert_eq!(
        (
            gone["type"].as_str(),
            gone["object"]["metadata"]["name"].as_str()
        ),
        (Some("DELETED"), Some("b"))
    );
    w.patch(
        &format!("{GADGETS}/a"),
        "application/merge-patch+json",
        &json!({"metadata":{"labels":{"tier":"gold"}}}),
    )
    .await;
    let came = sel.next().await.unwrap();
    assert_eq!(
        (
            came["type"].as_str(),
            came["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("a"))
    );
    // timeoutSeconds=3 ends the stream cleanly
    assert!(sel.next().await.is_none());

    // a watch from "now" that takes bookmarks: the synthetic ADDED, then (1.37) the end of the
    // initial events marked; no bookmark before the timeout close
    let mut now = w
        .watch(&format!(
            "{GADGETS}?watch=true&allowWatchBookmarks=true&timeoutSeconds=1"
        ))
        .await;
    assert_eq!(now.next().await.unwrap()["type"], "ADDED");
    assert_eq!(now.next().await.unwrap()["type"], "ADDED");
    let end = now.next().await.unwrap();
    assert_eq!(
        (
            end["type"].as_str(),
            end["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"].as_str()
        ),
        (Some("BOOKMARK"), Some("true"))
    );
    assert!(now.next().await.is_none());
    // ListOptions checks
    let (code, body) = w
        .get(&format!("{GADGETS}?watch=true&sendInitialEvents=true"))
        .await;
    assert_eq!(
        (code, body["message"].as_str()),
        (
            422,
            Some(
                "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"
            )
        )
    );
    w.emu.shutdown().await;
}

#[tokio::test]
async fn tables_metadata_lists_and_errors() {
    let w = W::new().await.with_crd().await;
    w.post(GADGETS, &gadget("t1", 7)).await;
    let table: Value = w
        .http
        .get(w.url(&format!("{GADGETS}?limit=500")))
        .header("accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(table["kind"], "Table");
    let cols: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(cols, ["Name", "Size"]);
    assert_eq!(table["rows"][0]["cells"], json!(["t1", 7]));
    assert_eq!(
        table["rows"][0]["object"]["metadata"]["namespace"],
        "default"
    );
    let meta: Value = w
        .http
        .get(w.url(GADGETS))
        .header(
            "accept",
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["kind"], "PartialObjectMetadataList");
    assert!(meta["items"][0].get("spec").is_none());
    // protobuf-preferring Accept is answered with JSON
    let r = w
        .http
        .get(w.url(&format!("{GADGETS}/t1")))
        .header(
            "accept",
            "application/vnd.kubernetes.protobuf,application/json",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/json");

    // error bodies
    let (code, nf) = w.get(&format!("{GADGETS}/zz")).await;
    assert_eq!(code, 404);
    assert_eq!(nf["message"], "gadgets.wire.example.com \"zz\" not found");
    assert_eq!(
        nf["details"],
        json!({"name":"zz","group":"wire.example.com","kind":"gadgets"})
    );
    let (code, cm) = w.get("/api/v1/namespaces/default/configmaps/zz").await;
    assert_eq!(
        (code, cm["message"].as_str()),
        (404, Some("configmaps \"zz\" not found"))
    );
    let (code, inv) = w.post(GADGETS, &json!({"apiVersion":"wire.example.com/v1","kind":"Gadget","metadata":{"name":"bad"},"spec":{"size":0,"mode":"x"}})).await;
    assert_eq!(code, 422);
    assert_eq!(inv["reason"], "Invalid");
    let fields: Vec<&str> = inv["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"spec.size") && fields.contains(&"spec.mode"),
        "{inv}"
    );
    assert!(
        inv["message"]
            .as_str()
            .unwrap()
            .starts_with("Gadget.wire.example.com \"bad\" is invalid: ["),
        "{inv}"
    );
    // ObjectMeta validation
    let (code, bad) = w.post(GADGETS, &json!({"apiVersion":"wire.example.com/v1","kind":"Gadget","metadata":{"name":"Bad_Name","labels":{"k":"bad value"}},"spec":{"size":1}})).await;
    assert_eq!(code, 422, "{bad}");
    let fields: Vec<&str> = bad["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["metadata.name", "metadata.labels"]);
    // CEL rule
    let (code, cel) = w.post(GADGETS, &gadget("big", 500)).await;
    assert_eq!(code, 422, "{cel}");
    assert!(
        cel["message"]
            .as_str()
            .unwrap()
            .contains("size must stay below 100"),
        "{cel}"
    );
    // defaults applied
    let (_, d) = w.post(GADGETS, &json!({"apiVersion":"wire.example.com/v1","kind":"Gadget","metadata":{"name":"dflt"},"spec":{}})).await;
    assert_eq!(d["spec"]["size"], 1);
    // namespace missing
    let (code, _) = w
        .post(
            "/apis/wire.example.com/v1/namespaces/nope/gadgets",
            &gadget("n", 1),
        )
        .await;
    assert_eq!(code, 404);
    // strategic merge on a CR → 415; apply without fieldManager → 422; bad name on PUT → 400
    let (code, _) = w
        .patch(
            &format!("{GADGETS}/t1"),
            "application/strategic-merge-patch+json",
            &json!({}),
        )
        .await;
    assert_eq!(code, 415);
    let (code, _) = w
        .patch(
            &format!("{GADGETS}/t1"),
            "application/apply-patch+yaml",
            &gadget("t1", 2),
        )
        .await;
    assert_eq!(code, 422);
    let (code, _) = w
        .send(
            "PUT",
            &format!("{GADGETS}/t1"),
            "application/json",
            Some(gadget("other", 1).to_string()),
        )
        .await;
    assert_eq!(code, 400);
    // YAML apply body
    let yaml =
        "apiVersion: wire.example.com/v1\nkind: Gadget\nmetadata:\n  name: y1\nspec:\n  size: 4\n";
    let (code, y) = w
        .send(
            "PATCH",
            &format!("{GADGETS}/y1?fieldManager=yaml"),
            "application/apply-patch+yaml",
            Some(yaml.into()),
        )
        .await;
    assert_eq!((code, y["spec"]["size"].as_i64()), (201, Some(4)));
    w.emu.shutdown().await;
}

#[tokio::test]
async fn paginated_lists_are_consistent() {
    let w = W::new().await.with_crd().await;
    for i in 0..5 {
        w.post(GADGETS, &gadget(&format!("p{i}"), 1)).await;
    }
    let (_, first) = w.get(&format!("{GADGETS}?limit=2")).await;
    let rv = first["metadata"]["resourceVersion"].clone();
    assert_eq!(first["metadata"]["remainingItemCount"], 3);
    let mut names: Vec<String> = Vec::new();
    let mut page = first;
    loop {
        names.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["metadata"]["name"].as_str().unwrap().to_string()),
        );
        // a write between pages does not leak into the snapshot
        w.post(GADGETS, &gadget(&format!("late{}", names.len()), 1))
            .await;
        // custom resource lists carry `continue: ""` on their last page (as upstream)
        let Some(c) = page["metadata"]["continue"]
            .as_str()
            .filter(|c| !c.is_empty())
            .map(String::from)
        else {
            break;
        };
        page = w.get(&format!("{GADGETS}?limit=2&continue={c}")).await.1;
        assert_eq!(page["metadata"]["resourceVersion"], rv);
    }
    assert_eq!(names, ["p0", "p1", "p2", "p3", "p4"]);
    let (code, e) = w.get(&format!("{GADGETS}?limit=2&continue=bogus:2")).await;
    assert_eq!((code, e["reason"].as_str()), (410, Some("Expired")));
    // resourceVersion=0 is served whole
    let (_, all) = w.get(&format!("{GADGETS}?limit=2&resourceVersion=0")).await;
    assert_eq!(all["metadata"]["continue"], "");
    assert!(all["metadata"].get("remainingItemCount").is_none());
    w.emu.shutdown().await;
}

#[tokio::test]
async fn field_validation_modes() {
    let w = W::new().await.with_crd().await;
    let body = json!({"apiVersion":"wire.example.com/v1","kind":"Gadget","metadata":{"name":"f1"},"spec":{"size":1,"bogus":1}});
    let (code, strict) = w
        .send(
            "POST",
            &format!("{GADGETS}?fieldValidation=Strict"),
            "application/json",
            Some(body.to_string()),
        )
        .await;
    assert_eq!(code, 400, "{strict}");
    assert!(
        strict["message"]
            .as_str()
            .unwrap()
            .contains("strict decoding error: unknown field \"spec.bogus\""),
        "{strict}"
    );
    let resp = w
        .http
        .post(w.url(&format!("{GADGETS}?fieldValidation=Warn")))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let warning = resp
        .headers()
        .get("warning")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(
        warning.starts_with("299 - ") && warning.contains("unknown field"),
        "{warning}"
    );
    let created: Value = resp.json().await.unwrap();
    assert!(created["spec"].get("bogus").is_none(), "pruned");
    // Strict on a patch → 422
    let (code, _) = w
        .send(
            "PATCH",
            &format!("{GADGETS}/f1?fieldValidation=Strict"),
            "application/merge-patch+json",
            Some(r#"{"spec":{"bogus":2}}"#.into()),
        )
        .await;
    assert_eq!(code, 422);
    // Ignore (kube-rs default) drops silently
    let (code, _) = w
        .patch(
            &format!("{GADGETS}/f1"),
            "application/merge-patch+json",
            &json!({"spec":{"bogus":3}}),
        )
        .await;
    assert_eq!(code, 200);
    w.emu.shutdown().await;
}

/// Texts and codes measured on kube-apiserver v1.37.2 (the real-cluster harness): the 429 of a
/// resource whose watch cache is still initializing (opt-in here), 404s outside built-in groups
/// and below custom objects, decode errors.
#[tokio::test]
async fn storage_initializing_fault_and_real_server_texts() {
    let w = W::new().await.with_crd().await;
    w.emu.faults().storage_initializing_next_lists(2);
    for _ in 0..2 {
        let resp = w.http.get(w.url(GADGETS)).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 429);
        assert_eq!(
            resp.headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("1")
        );
        let body: Value = resp.json().await.unwrap();
        assert_eq!(
            (
                body["reason"].as_str(),
                body["message"].as_str(),
                body["details"]["retryAfterSeconds"].as_i64()
            ),
            (
                Some("TooManyRequests"),
                Some("storage is (re)initializing"),
                Some(1)
            )
        );
    }
    assert_eq!(w.get(GADGETS).await.0, 200, "only the next 2 lists");

    // the mux's plain text outside built-in groups; a Status inside them
    for path in [
        "/apis/nope.example.com/v1",
        "/apis/wire.example.com/v9/gadgets",
        "/apis/wire.example.com/v1/namespaces/default/nopes",
    ] {
        let resp = w.http.get(w.url(path)).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 404, "{path}");
        assert_eq!(resp.text().await.unwrap(), "404 page not found\n", "{path}");
    }
    let (code, body) = w.get("/api/v1/namespaces/default/nopes").await;
    assert_eq!((code, body["reason"].as_str()), (404, Some("NotFound")));
    // below a custom object: any unknown subresource names the object
    w.post(GADGETS, &gadget("g1", 1)).await;
    let (code, body) = w.get(&format!("{GADGETS}/g1/scale")).await;
    assert_eq!(
        (code, body["message"].as_str()),
        (404, Some("gadgets.wire.example.com \"g1\" not found"))
    );
    // decode errors
    let (code, body) = w
        .send("POST", GADGETS, "application/json", Some("[1]".into()))
        .await;
    assert_eq!(code, 400);
    assert!(
        body["message"].as_str().unwrap().starts_with(
            "the object provided is unrecognized (must be of type Gadget): couldn't get version/kind; json parse error: "
        ) && body["message"].as_str().unwrap().ends_with(" (5b315d)"),
        "{body}"
    );
    let (code, body) = w
        .post(
            GADGETS,
            &json!({"apiVersion":"wire.example.com/v1","metadata":{"name":"nokind"}}),
        )
        .await;
    assert_eq!(code, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Object 'Kind' is missing in '"),
        "{body}"
    );
    let (code, body) = w
        .post(
            GADGETS,
            &json!({"apiVersion":"wire.example.com/v1","kind":"Other","metadata":{"name":"o1"},"spec":{"size":1}}),
        )
        .await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(
        body["message"],
        "Other.wire.example.com \"o1\" is invalid: kind: Invalid value: \"Other\": must be Gadget"
    );
    // a strategic merge patch on a custom object; an unknown patch type
    let (code, body) = w
        .patch(
            &format!("{GADGETS}/g1"),
            "application/strategic-merge-patch+json",
            &json!({}),
        )
        .await;
    assert_eq!(
        (code, body["message"].as_str()),
        (
            415,
            Some(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
            )
        )
    );
    let (code, body) = w
        .patch(&format!("{GADGETS}/g1"), "text/plain", &json!({}))
        .await;
    assert_eq!(
        (code, body["message"].as_str()),
        (415, Some("415: Unsupported Media Type"))
    );
    w.emu.shutdown().await;
}
