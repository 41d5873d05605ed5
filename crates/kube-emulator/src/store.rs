//! The in-memory store: objects per resource, one global monotonic resourceVersion, a bounded
//! history of change events for watch resume, the served-resource registry and the per-manager
//! field ownership used by server-side apply. Everything sits behind one mutex; watchers are
//! woken through a `tokio::sync::watch` channel carrying the latest revision.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::{Value, json};

use crate::resources::ResourceInfo;
use crate::selectors::{FieldSelector, LabelSelector};

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

/// One stored object with its (namespace, name).
pub type Entry<'a> = (&'a (String, String), &'a Arc<Value>);

/// (store key, namespace or "", name)
pub type ObjKey = (String, String, String);

/// Leaf paths owned per (manager, subresource) for one object.
pub type Managers = BTreeMap<(String, String), BTreeSet<String>>;

/// Per store key: label key → label value → the (namespace, name) of the objects carrying it.
pub type LabelIndex = HashMap<String, HashMap<String, HashMap<String, BTreeSet<(String, String)>>>>;

pub struct State {
    pub rv: u64,
    /// Written only through `put`, `put_silently` and `remove` (they keep the indexes).
    pub objects: HashMap<String, BTreeMap<(String, String), Arc<Value>>>,
    pub history: VecDeque<HistEvent>,
    pub history_cap: usize,
    /// Watches resuming from a revision below this get ERROR 410.
    pub compacted: u64,
    pub resources: Vec<Arc<ResourceInfo>>,
    pub managers: HashMap<ObjKey, Managers>,
    /// owner uid → dependents
    pub owner_index: HashMap<String, BTreeSet<ObjKey>>,
    /// The stored objects' string labels, so that a list whose label selector has an equality
    /// term (`k=v`) reads only the objects carrying that label instead of every object.
    /// Maintained by `put`, `put_silently` and `remove`, the only writers of `objects`.
    label_index: LabelIndex,
}

pub fn now_time() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The string-valued labels of `obj` (what a label selector can match).
fn string_labels(obj: &Value) -> impl Iterator<Item = (&str, &str)> {
    obj.get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
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
            label_index: HashMap::new(),
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

    fn index_labels(&mut self, key: &str, ns: &str, name: &str, obj: &Value) {
        let mut labels = string_labels(obj).peekable();
        if labels.peek().is_none() {
            return;
        }
        let idx = self.label_index.entry(key.to_string()).or_default();
        for (k, v) in labels {
            idx.entry(k.to_string())
                .or_default()
                .entry(v.to_string())
                .or_default()
                .insert((ns.to_string(), name.to_string()));
        }
    }

    fn unindex_labels(&mut self, key: &str, ns: &str, name: &str, obj: &Value) {
        let Some(idx) = self.label_index.get_mut(key) else {
            return;
        };
        let okey = (ns.to_string(), name.to_string());
        for (k, v) in string_labels(obj) {
            let Some(values) = idx.get_mut(k) else {
                continue;
            };
            if let Some(set) = values.get_mut(v) {
                set.remove(&okey);
                if set.is_empty() {
                    values.remove(v);
                }
            }
            if values.is_empty() {
                idx.remove(k);
            }
        }
    }

    /// Store `obj` under `key`/`ns`/`name`, keeping the label index in step.
    fn insert_object(&mut self, key: &str, ns: &str, name: &str, obj: Arc<Value>) {
        let replaced = self
            .objects
            .entry(key.to_string())
            .or_default()
            .insert((ns.to_string(), name.to_string()), obj.clone());
        if let Some(old) = replaced {
            self.unindex_labels(key, ns, name, &old);
        }
        self.index_labels(key, ns, name, &obj);
    }

    /// The stored objects of `key` (only those in `ns` when given) matching both selectors, in
    /// (namespace, name) order: the same answer as filtering every stored object, read from the
    /// narrowest candidate set (one name, the objects carrying a selected label, or one
    /// namespace).
    pub fn select(
        &self,
        key: &str,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
    ) -> Vec<Entry<'_>> {
        let Some(map) = self.objects.get(key) else {
            return Vec::new();
        };
        let keep = |k: &(String, String), o: &Value| {
            ns.is_none_or(|w| w == k.0) && labels.matches(o) && fields.matches(o)
        };
        if let (Some(w), Some(name)) = (ns, fields.name_equals()) {
            return map
                .get_key_value(&(w.to_string(), name.to_string()))
                .filter(|(k, o)| keep(k, o))
                .into_iter()
                .collect();
        }
        let mut narrowest: Option<&BTreeSet<(String, String)>> = None;
        for (k, v) in labels.equalities() {
            let set = self
                .label_index
                .get(key)
                .and_then(|idx| idx.get(k))
                .and_then(|values| values.get(v));
            let Some(set) = set else {
                // no stored object carries k=v
                return Vec::new();
            };
            if narrowest.is_none_or(|n| set.len() < n.len()) {
                narrowest = Some(set);
            }
        }
        if let Some(set) = narrowest {
            let candidates: Box<dyn Iterator<Item = &(String, String)>> = match ns {
                Some(w) => Box::new(
                    set.range((w.to_string(), String::new())..)
                        .take_while(move |k| k.0 == w),
                ),
                None => Box::new(set.iter()),
            };
            return candidates
                .filter_map(|k| map.get_key_value(k))
                .filter(|(k, o)| keep(k, o))
                .collect();
        }
        let candidates: Box<dyn Iterator<Item = Entry<'_>>> = match ns {
            Some(w) => Box::new(
                map.range((w.to_string(), String::new())..)
                    .take_while(move |(k, _)| k.0 == w),
            ),
            None => Box::new(map.iter()),
        };
        candidates.filter(|(k, o)| keep(k, o)).collect()
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
        self.insert_object(key, ns, name, stored.clone());
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
        if self.objects.contains_key(key) {
            self.insert_object(key, ns, name, Arc::new(obj));
        }
    }

    /// Remove an object (new revision), recording DELETED with the deletion revision.
    pub fn remove(&mut self, key: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        let old = self
            .objects
            .get_mut(key)?
            .remove(&(ns.to_string(), name.to_string()))?;
        self.unindex_labels(key, ns, name, &old);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(ns: &str, name: &str, labels: Value) -> Value {
        json!({"metadata": {"name": name, "namespace": ns, "labels": labels}})
    }

    /// What `select` must answer: every stored object of `key` filtered one by one.
    fn scan<'a>(
        st: &'a State,
        key: &str,
        ns: Option<&str>,
        l: &LabelSelector,
        f: &FieldSelector,
    ) -> Vec<Entry<'a>> {
        st.objects
            .get(key)
            .into_iter()
            .flatten()
            .filter(|((n, _), o)| ns.is_none_or(|w| w == n) && l.matches(o) && f.matches(o))
            .collect()
    }

    #[test]
    fn select_answers_as_a_scan_of_every_object() {
        let mut st = State::new(100);
        st.put(
            "x",
            "a",
            "p1",
            pod("a", "p1", json!({"app": "web", "tier": "1"})),
            None,
        );
        st.put("x", "a", "p2", pod("a", "p2", json!({"app": "db"})), None);
        st.put("x", "b", "p1", pod("b", "p1", json!({"app": "web"})), None);
        st.put("x", "b", "p3", pod("b", "p3", json!({"app": 7})), None);
        st.put("y", "a", "q", pod("a", "q", json!({"app": "web"})), None);
        // relabelled: the index forgets the old value
        let prev = st.get("x", "a", "p2");
        st.put(
            "x",
            "a",
            "p2",
            pod("a", "p2", json!({"app": "web", "tier": "2"})),
            prev,
        );
        st.remove("x", "b", "p1");
        st.put_silently("x", "a", "p1", pod("a", "p1", json!({"app": "cache"})));
        let fields = [
            ("", ""),
            ("metadata.name=p2", ""),
            ("metadata.name!=p2", ""),
        ];
        let labels = [
            "",
            "app=web",
            "app==web",
            "app=cache",
            "app=web,tier=2",
            "app=web,tier=1",
            "app!=web",
            "app in (web,db)",
            "tier",
            "!tier",
            "missing=1",
            "app=7",
        ];
        let mut nonempty = 0;
        for key in ["x", "y", "none"] {
            for ns in [None, Some("a"), Some("b"), Some("c")] {
                for l in labels {
                    for (f, _) in fields {
                        let ls = LabelSelector::parse(l).unwrap();
                        let fs = FieldSelector::parse(f, &[]).unwrap();
                        let got = st.select(key, ns, &ls, &fs);
                        let want = scan(&st, key, ns, &ls, &fs);
                        assert_eq!(got, want, "{key} {ns:?} {l:?} {f:?}");
                        nonempty += usize::from(!got.is_empty());
                    }
                }
            }
        }
        assert!(nonempty > 10, "the cases select something ({nonempty})");
        let web = LabelSelector::parse("app=web").unwrap();
        let names: Vec<_> = st
            .select("x", None, &web, &FieldSelector::default())
            .into_iter()
            .map(|(k, _)| k.clone())
            .collect();
        assert_eq!(names, [("a".to_string(), "p2".to_string())]);
    }
}
