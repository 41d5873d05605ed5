//! Wire-level checks against the emulator with a plain HTTP client (shapes kube-rs and kubectl
//! depend on): watch framing, bookmarks, ERROR 410, DELETED revision, timeouts, streaming lists,
//! discovery negotiation, Tables, metadata-only lists, error bodies, patch content types, GC,
//! namespace deletion, bearer token, stats.

use std::time::Duration;

use futures::StreamExt;
use kube_emulator::{EmulatorConfig, EmulatorHandle};
use serde_json::{Value, json};

const CRD: &str = r#"{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
 "metadata":{"name":"gadgets.wire.example.com"},
 "spec":{"group":"wire.example.com","scope":"Namespaced","names":{"plural":"gadgets","kind":"Gadget","shortNames":["gd"]},
  "versions":[{"name":"v1","served":true,"storage":true,"subresources":{"status":{}},
   "additionalPrinterColumns":[{"name":"Size","type":"integer","jsonPath":".spec.size"}],
   "schema":{"openAPIV3Schema":{"type":"object","properties":{
     "spec":{"type":"object","properties":{"size":{"type":"integer","minimum":1,"default":1},"mode":{"type":"string","enum":["a","b"]}},
       "x-kubernetes-validations":[{"rule":"self.size < 100","message":"size must stay below 100"}]},
     "status":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}}]}}"#;

const GADGETS: &str = "/apis/wire.example.com/v1/namespaces/default/gadgets";

struct W {
    emu: EmulatorHandle,
    http: reqwest::Client,
}

impl W {
    async fn new() -> W {
        Self::with(EmulatorConfig::default()).await
    }

    async fn with(cfg: EmulatorConfig) -> W {
        let emu = kube_emulator::start(cfg).await.unwrap();
        W {
            emu,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.url())
    }

    async fn send(&self, method: &str, path: &str, ct: &str, body: Option<String>) -> (u16, Value) {
        let mut r = self.http.request(method.parse().unwrap(), self.url(path));
        if let Some(b) = body {
            r = r.header("content-type", ct).body(b);
        }
        let resp = r.send().await.unwrap();
        let code = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            code,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send("GET", path, "", None).await
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send("POST", path, "application/json", Some(body.to_string()))
            .await
    }

    async fn patch(&self, path: &str, ct: &str, body: &Value) -> (u16, Value) {
        self.send("PATCH", path, ct, Some(body.to_string())).await
    }

    async fn with_crd(self) -> W {
        let crd: Value = serde_json::from_str(CRD).unwrap();
        let (code, _) = self
            .post(
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                &crd,
            )
            .await;
        assert_eq!(code, 201);
        self
    }

    /// Open a watch and return a line reader.
    async fn watch(&self, path_and_query: &str) -> Lines {
        let resp = self
            .http
            .get(self.url(path_and_query))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        Lines {
            stream: Box::pin(resp.bytes_stream()),
            buf: Vec::new(),
        }
    }
}

struct Lines {
    stream: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: Vec<u8>,
}

impl Lines {
    /// Next event, or None at end of stream.
    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(i) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                return Some(serde_json::from_slice(&line).expect("one JSON event per line"));
            }
            let chunk = tokio::time::timeout(Duration::from_secs(20), self.stream.next())
                .await
                .expect("event in time")?;
            self.buf.extend_from_slice(&chunk.unwrap());
        }
    }
}

fn gadget(name: &str, size: i64) -> Value {
    json!({"apiVersion":"wire.example.com/v1","kind":"Gadget","metadata":{"name": name},"spec":{"size": size}})
}

#[tokio::test]
async fn version_and_discovery() {
    let w = W::new().await.with_crd().await;
    let (_, v) = w.get("/version?timeout=5s").await;
    assert_eq!(
        (v["major"].as_str(), v["minor"].as_str()),
        (Some("1"), Some("32"))
    );
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
