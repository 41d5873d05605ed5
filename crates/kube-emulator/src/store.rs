//! The in-memory store: objects per resource, one global monotonic resourceVersion, a bounded
//! history of change events for watch resume, the served-resource registry and the per-manager
//! field ownership used by server-side apply. Everything sits behind one mutex; watchers are
//! woken through a `tokio::sync::watch` channel carrying the latest revision.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::{Value, json};

use crate::resources::ResourceInfo;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One persisted change.
#[derive(Clone)]
pub struct HistEvent {
    pub rv: u64,
    pub key: Arc<str>,
    pub etype: EventType,
    pub obj: Arc<Value>,
    /// The previous state for MODIFIED (selector transitions).
    pub prev: Option<Arc<Value>>,
}

/// (store key, namespace or "", name)
pub type ObjKey = (String, String, String);

/// Leaf paths owned per (manager, subresource) for one object.
pub type Managers = BTreeMap<(String, String), BTreeSet<String>>;

pub struct State {
    pub rv: u64,
    pub objects: HashMap<String, BTreeMap<(String, String), Arc<Value>>>,
    pub history: VecDeque<HistEvent>,
    pub history_cap: usize,
    /// Watches resuming from a revision below this get ERROR 410.
    pub compacted: u64,
    pub resources: Vec<Arc<ResourceInfo>>,
    pub managers: HashMap<ObjKey, Managers>,
    /// owner uid → dependents
    pub owner_index: HashMap<String, BTreeSet<ObjKey>>,
}

pub fn now_time() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn owner_uids(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| r["uid"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

impl State {
    pub fn new(history_cap: usize) -> Self {
        let mut s = Self {
            rv: 1,
            objects: HashMap::new(),
            history: VecDeque::new(),
            history_cap: history_cap.max(1),
            compacted: 0,
            resources: crate::resources::builtins(),
            managers: HashMap::new(),
            owner_index: HashMap::new(),
        };
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let obj = json!({"apiVersion":"v1","kind":"Namespace","metadata":{
                "name": ns, "uid": uuid::Uuid::new_v4().to_string(), "creationTimestamp": now_time(),
                "labels": {"kubernetes.io/metadata.name": ns}},
                "spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}});
            s.put("namespaces", "", ns, obj, None);
        }
        s
    }

    pub fn find_resource(
        &self,
        group: &str,
        version: &str,
        plural: &str,
    ) -> Option<Arc<ResourceInfo>> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
            .cloned()
    }

    pub fn get(&self, key: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        self.objects
            .get(key)?
            .get(&(ns.to_string(), name.to_string()))
            .cloned()
    }

    pub fn namespace_exists(&self, ns: &str) -> bool {
        self.get("namespaces", "", ns).is_some()
    }

    pub fn count(&self) -> usize {
        self.objects.values().map(BTreeMap::len).sum()
    }

    fn push_history(&mut self, ev: HistEvent) {
        self.history.push_back(ev);
        while self.history.len() > self.history_cap {
            if let Some(old) = self.history.pop_front() {
                self.compacted = self.compacted.max(old.rv);
            }
        }
    }

    /// Persist `obj` (new revision), recording ADDED or MODIFIED. Returns the stored object.
    pub fn put(
        &mut self,
        key: &str,
        ns: &str,
        name: &str,
        mut obj: Value,
        prev: Option<Arc<Value>>,
    ) -> Arc<Value> {
        self.rv += 1;
        obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        let stored = Arc::new(obj);
        let okey: ObjKey = (key.to_string(), ns.to_string(), name.to_string());
        if let Some(p) = &prev {
            for uid in owner_uids(p) {
                if let Some(set) = self.owner_index.get_mut(&uid) {
                    set.remove(&okey);
                }
            }
        }
        for uid in owner_uids(&stored) {
            self.owner_index
                .entry(uid)
                .or_default()
                .insert(okey.clone());
        }
        self.objects
            .entry(key.to_string())
            .or_default()
            .insert((ns.to_string(), name.to_string()), stored.clone());
        let etype = if prev.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.push_history(HistEvent {
            rv: self.rv,
            key: key.into(),
            etype,
            obj: stored.clone(),
            prev,
        });
        stored
    }

    /// Replace the stored state without a new revision or event (just before `remove`).
    pub fn put_silently(&mut self, key: &str, ns: &str, name: &str, obj: Value) {
        if let Some(map) = self.objects.get_mut(key) {
            map.insert((ns.to_string(), name.to_string()), Arc::new(obj));
        }
    }

    /// Remove an object (new revision), recording DELETED with the deletion revision.
    pub fn remove(&mut self, key: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        let old = self
            .objects
            .get_mut(key)?
            .remove(&(ns.to_string(), name.to_string()))?;
        self.rv += 1;
        let okey: ObjKey = (key.to_string(), ns.to_string(), name.to_string());
        for uid in owner_uids(&old) {
            if let Some(set) = self.owner_index.get_mut(&uid) {
                set.remove(&okey);
            }
        }
        self.managers.remove(&okey);
        let mut last = (*old).clone();
        last["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        let last = Arc::new(last);
        self.push_history(HistEvent {
            rv: self.rv,
            key: key.into(),
            etype: EventType::Deleted,
            obj: last.clone(),
            prev: None,
        });
        Some(last)
    }

    /// Every revision issued so far becomes too old for a watch resume.
    pub fn expire_all(&mut self) {
        self.rv += 1;
        self.compacted = self.rv;
        self.history.clear();
    }
}
