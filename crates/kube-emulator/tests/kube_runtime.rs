//! kube-rs runtime against the emulator (or a real cluster with `TELEPHONY_E2E_KUBECONFIG`):
//! `watcher` (incl. streaming lists, resume after dropped watches, 410 re-list), `reflector`,
//! `Controller` with SSA `patch_status`, the `finalizer` helper and the events `Recorder`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Condition, TestEnv, Widget, WidgetStatus, eventually, widget};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Event as CoreEvent;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event as KEvent, EventType, Recorder, Reporter};
use kube::runtime::finalizer::{Event as FEvent, finalizer};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Resource, ResourceExt};
use serde_json::json;

#[tokio::test]
async fn watcher_sees_changes_and_survives_drops_and_410() {
    let env = TestEnv::new().await;
    env.install_crd().await;
    let api = env.widgets();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let stream_api = api.clone();
    let task = tokio::spawn(async move {
        let mut s = watcher(stream_api, watcher::Config::default())
            .default_backoff()
            .boxed();
        while let Some(ev) = s.next().await {
            if tx.send(ev.map_err(|e| e.to_string())).is_err() {
                break;
            }
        }
    });
    let mut inits = 0;
    let mut wait_for = async |pred: &dyn Fn(&watcher::Event<Widget>) -> bool, inits: &mut usize| {
        tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                // kube-rs surfaces the 410 as an error item, then re-lists
                let Ok(ev) = rx.recv().await.expect("stream open") else {
                    continue;
                };
                if matches!(ev, watcher::Event::Init) {
                    *inits += 1;
                }
                if pred(&ev) {
                    return ev;
                }
            }
        })
        .await
        .expect("event in time")
    };
    wait_for(&|e| matches!(e, watcher::Event::InitDone), &mut inits).await;
    api.create(&PostParams::default(), &widget("w1", 1))
        .await
        .unwrap();
    wait_for(
        &|e| matches!(e, watcher::Event::Apply(w) if w.name_any() == "w1"),
        &mut inits,
    )
    .await;
    api.patch(
        "w1",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec":{"size":2}})),
    )
    .await
    .unwrap();
    wait_for(
        &|e| matches!(e, watcher::Event::Apply(w) if w.spec.size == 2),
        &mut inits,
    )
    .await;

    if env.emu.is_none() {
        eprintln!(
            "real cluster: skipping the dropped-watch resume and the 410 re-list part of this \
             test (they are injected with emu.faults(), which only the emulator has)"
        );
    }
    if let Some(emu) = &env.emu {
        // dropped watch: the watcher resumes from its last RV and misses nothing
        emu.faults().drop_watches();
        api.patch(
            "w1",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec":{"size":3}})),
        )
        .await
        .unwrap();
        wait_for(
            &|e| matches!(e, watcher::Event::Apply(w) if w.spec.size == 3),
            &mut inits,
        )
        .await;
        // expired RVs: the resume gets ERROR 410 and the watcher re-lists (a new Init)
        let before = inits;
        emu.faults().expire_resource_versions();
        wait_for(&|e| matches!(e, watcher::Event::InitDone), &mut inits).await;
        assert!(inits > before, "re-list after 410");
        api.patch(
            "w1",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec":{"size":4}})),
        )
        .await
        .unwrap();
        wait_for(
            &|e| matches!(e, watcher::Event::Apply(w) if w.spec.size == 4),
            &mut inits,
        )
        .await;
    }
    api.delete("w1", &DeleteParams::default()).await.unwrap();
    wait_for(
        &|e| matches!(e, watcher::Event::Delete(w) if w.name_any() == "w1"),
        &mut inits,
    )
    .await;
    task.abort();
    env.cleanup().await;
}

#[tokio::test]
async fn reflector_with_streaming_lists() {
    let env = TestEnv::new().await;
    env.install_crd().await;
    let api = env.widgets();
    for i in 0..3 {
        api.create(&PostParams::default(), &widget(&format!("r{i}"), i))
            .await
            .unwrap();
    }
    let (reader, writer) = reflector::store::<Widget>();
    let cfg = watcher::Config::default().streaming_lists();
    let task = tokio::spawn(
        reflector(writer, watcher(api.clone(), cfg))
            .default_backoff()
            .for_each(|_| async {}),
    );
    tokio::time::timeout(Duration::from_secs(30), reader.wait_until_ready())
        .await
        .expect("ready in time")
        .unwrap();
    assert_eq!(reader.state().len(), 3);
    api.delete("r0", &DeleteParams::default()).await.unwrap();
    eventually("store sees delete", || async {
        (reader.state().len() == 2).then_some(())
    })
    .await;
    task.abort();
    env.cleanup().await;
}

struct Ctx {
    client: kube::Client,
    recorder: Recorder,
    cleanups: AtomicUsize,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct ReconcileError(String);

const FINALIZER: &str = "emu.example.com/cleanup";

async fn reconcile(w: Arc<Widget>, ctx: Arc<Ctx>) -> Result<Action, ReconcileError> {
    let api: Api<Widget> = Api::namespaced(ctx.client.clone(), &w.namespace().unwrap_or_default());
    finalizer(&api, FINALIZER, w, |ev| async {
        match ev {
            FEvent::Apply(w) => {
                let status = WidgetStatus {
                    observed_generation: w.metadata.generation,
                    message: Some(format!("size {}", w.spec.size)),
                    conditions: vec![Condition {
                        type_: "Ready".into(),
                        status: "True".into(),
                    }],
                };
                let patch =
                    json!({"apiVersion":"emu.example.com/v1","kind":"Widget","status": status});
                api.patch_status(
                    &w.name_any(),
                    &PatchParams::apply("widget-ctrl").force(),
                    &Patch::Apply(patch),
                )
                .await
                .map_err(|e| ReconcileError(e.to_string()))?;
                let ev = KEvent {
                    type_: EventType::Normal,
                    reason: "Reconciled".into(),
                    note: Some("ready".into()),
                    action: "Reconcile".into(),
                    secondary: None,
                };
                ctx.recorder
                    .publish(&ev, &w.object_ref(&()))
                    .await
                    .map_err(|e| ReconcileError(e.to_string()))?;
                Ok::<_, ReconcileError>(Action::await_change())
            }
            FEvent::Cleanup(_) => {
                ctx.cleanups.fetch_add(1, Ordering::SeqCst);
                Ok::<_, ReconcileError>(Action::await_change())
            }
        }
    })
    .await
    .map_err(|e| ReconcileError(e.to_string()))
}

fn error_policy(_w: Arc<Widget>, _e: &ReconcileError, _ctx: Arc<Ctx>) -> Action {
    Action::requeue(Duration::from_millis(100))
}

#[tokio::test]
async fn controller_finalizer_status_and_events() {
    let env = TestEnv::new().await;
    env.install_crd().await;
    let api = env.widgets();
    if env.emu.is_none() {
        eprintln!(
            "real cluster: not injecting the two write conflicts of this test (emu.faults() \
             only exists in the emulator); the rest runs unchanged"
        );
    }
    if let Some(emu) = &env.emu {
        emu.faults().conflict_next_writes(2);
    }
    let reporter = Reporter {
        controller: "widget-ctrl".into(),
        instance: Some("test-pod".into()),
    };
    let ctx = Arc::new(Ctx {
        client: env.client.clone(),
        recorder: Recorder::new(env.client.clone(), reporter),
        cleanups: AtomicUsize::new(0),
    });
    let ctrl = Controller::new(api.clone(), watcher::Config::default())
        .shutdown_on_signal()
        .run(reconcile, error_policy, ctx.clone())
        .for_each(|_| async {});
    let task = tokio::spawn(ctrl);

    let created = loop {
        match api.create(&PostParams::default(), &widget("c1", 5)).await {
            Ok(w) => break w,
            Err(kube::Error::Api(e)) if e.code == 409 && e.reason == "Conflict" => continue, // injected
            Err(e) => panic!("{e}"),
        }
    };
    let ready = eventually("status Ready", || async {
        let w = api.get("c1").await.ok()?;
        let s = w.status.clone()?;
        (s.observed_generation == w.metadata.generation
            && s.conditions.iter().any(|c| c.type_ == "Ready"))
        .then_some(w)
    })
    .await;
    assert_eq!(ready.finalizers(), &[FINALIZER.to_string()]);
    assert_eq!(ready.metadata.generation, created.metadata.generation);

    // the Recorder's event is visible through core/v1 with involvedObject selectors
    let core: Api<CoreEvent> = Api::namespaced(env.client.clone(), &env.namespace);
    let uid = ready.uid().unwrap();
    let evs = eventually("event recorded", || async {
        let l = core
            .list(
                &ListParams::default()
                    .fields(&format!("involvedObject.name=c1,involvedObject.uid={uid}")),
            )
            .await
            .ok()?;
        (!l.items.is_empty()).then_some(l.items)
    })
    .await;
    assert_eq!(evs[0].reason.as_deref(), Some("Reconciled"));

    // a spec change is reconciled again (observedGeneration follows)
    api.patch(
        "c1",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec":{"size":6}})),
    )
    .await
    .unwrap();
    eventually("observedGeneration 2", || async {
        let w = api.get("c1").await.ok()?;
        (w.status?.observed_generation == Some(2)).then_some(())
    })
    .await;

    // delete: the finalizer cleanup runs, then the object disappears
    api.delete("c1", &DeleteParams::default()).await.unwrap();
    eventually("object removed", || async {
        api.get_opt("c1").await.ok()?.is_none().then_some(())
    })
    .await;
    assert_eq!(ctx.cleanups.load(Ordering::SeqCst), 1);
    task.abort();
    env.cleanup().await;
}

#[tokio::test]
async fn paged_list_then_try_stream_collects() {
    // applied_objects over a bounded stream: every created object is seen exactly once
    let env = TestEnv::new().await;
    env.install_crd().await;
    let api = env.widgets();
    for i in 0..5 {
        api.create(&PostParams::default(), &widget(&format!("x{i}"), i))
            .await
            .unwrap();
    }
    // page_size 2: the initial list follows `continue` tokens
    let seen: Vec<Widget> = watcher(api.clone(), watcher::Config::default().page_size(2))
        .applied_objects()
        .take(5)
        .try_collect()
        .await
        .unwrap();
    let mut names: Vec<String> = seen.iter().map(|w| w.name_any()).collect();
    names.sort();
    assert_eq!(names, vec!["x0", "x1", "x2", "x3", "x4"]);
    env.cleanup().await;
}

async fn reconcile_owned(
    w: Arc<Widget>,
    client: Arc<kube::Client>,
) -> Result<Action, ReconcileError> {
    use k8s_openapi::api::core::v1::ConfigMap;
    let ns = w.namespace().unwrap_or_default();
    let cms: Api<ConfigMap> = Api::namespaced((*client).clone(), &ns);
    let oref = w
        .controller_owner_ref(&())
        .ok_or_else(|| ReconcileError("no owner ref".into()))?;
    let cm = json!({"apiVersion":"v1","kind":"ConfigMap",
        "metadata":{"name": format!("{}-cfg", w.name_any()),"ownerReferences":[oref]},
        "data":{"size": w.spec.size.to_string()}});
    cms.patch(
        &format!("{}-cfg", w.name_any()),
        &PatchParams::apply("widget-ctrl").force(),
        &Patch::Apply(cm),
    )
    .await
    .map_err(|e| ReconcileError(e.to_string()))?;
    Ok(Action::await_change())
}

#[tokio::test]
async fn controller_owns_children_via_metadata_watch_and_gc() {
    use k8s_openapi::api::core::v1::ConfigMap;
    let env = TestEnv::new().await;
    env.install_crd().await;
    let api = env.widgets();
    let cms: Api<ConfigMap> = Api::namespaced(env.client.clone(), &env.namespace);
    let ctrl = Controller::new(api.clone(), watcher::Config::default())
        .owns(cms.clone(), watcher::Config::default())
        .run(
            reconcile_owned,
            |_, _, _| Action::requeue(Duration::from_millis(100)),
            Arc::new(env.client.clone()),
        )
        .for_each(|_| async {});
    let task = tokio::spawn(ctrl);
    api.create(&PostParams::default(), &widget("o1", 3))
        .await
        .unwrap();
    let cm = eventually("child created", || async {
        cms.get_opt("o1-cfg").await.ok()?
    })
    .await;
    assert_eq!(cm.data.unwrap()["size"], "3");
    let first_uid = cm.metadata.uid.unwrap();
    // deleting the child wakes the owner's reconcile (metadata watch of owned objects)
    cms.delete("o1-cfg", &DeleteParams::default())
        .await
        .unwrap();
    eventually("child recreated", || async {
        let c = cms.get_opt("o1-cfg").await.ok()??;
        (c.metadata.uid.as_deref() != Some(first_uid.as_str())).then_some(())
    })
    .await;
    task.abort();
    if env.emu.is_none() {
        eprintln!(
            "real cluster: skipping the garbage-collection part of this test \
             (collecting dependents is kube-controller-manager's job, and the real-cluster \
             harness runs none)"
        );
        env.cleanup().await;
        return;
    }
    // deleting the owner garbage-collects the child
    api.delete("o1", &DeleteParams::default()).await.unwrap();
    eventually("child collected", || async {
        cms.get_opt("o1-cfg").await.ok()?.is_none().then_some(())
    })
    .await;
    env.cleanup().await;
}

#[tokio::test]
async fn recorder_creates_then_patches_a_series() {
    use k8s_openapi::api::events::v1::Event as V1Event;
    let env = TestEnv::new().await;
    env.install_crd().await;
    let api = env.widgets();
    let w = api
        .create(&PostParams::default(), &widget("ev", 1))
        .await
        .unwrap();
    let reporter = Reporter {
        controller: "widget-ctrl".into(),
        instance: Some("pod-0".into()),
    };
    let recorder = Recorder::new(env.client.clone(), reporter);
    let ev = KEvent {
        type_: EventType::Warning,
        reason: "Low".into(),
        note: Some("balance low".into()),
        action: "Check".into(),
        secondary: None,
    };
    let oref = w.object_ref(&());
    recorder.publish(&ev, &oref).await.unwrap();
    recorder.publish(&ev, &oref).await.unwrap(); // same key → merge PATCH with series
    let v1: Api<V1Event> = Api::namespaced(env.client.clone(), &env.namespace);
    let list = v1
        .list(&ListParams::default().fields("regarding.name=ev"))
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1);
    let e = &list.items[0];
    assert_eq!(e.series.as_ref().map(|s| s.count), Some(2));
    assert_eq!(
        (e.reason.as_deref(), e.note.as_deref(), e.type_.as_deref()),
        (Some("Low"), Some("balance low"), Some("Warning"))
    );
    // and through core/v1
    let core: Api<CoreEvent> = Api::namespaced(env.client.clone(), &env.namespace);
    let c = core.get(&e.metadata.name.clone().unwrap()).await.unwrap();
    assert_eq!(
        (c.message.as_deref(), c.involved_object.name.as_deref()),
        (Some("balance low"), Some("ev"))
    );
    env.cleanup().await;
}
