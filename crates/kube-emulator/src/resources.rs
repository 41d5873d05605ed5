//! What the emulator serves: one `ResourceInfo` per (group, version, plural), built-ins plus the
//! versions of registered CRDs, and the view conversion between the stored form and the form an
//! endpoint serves (apiVersion/kind rewrite, Event field mapping).

use std::sync::Arc;

use serde_json::{Value, json};

use crate::schema::{CompiledSchema, PrinterColumn};

/// One served resource endpoint.
pub struct ResourceInfo {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub singular: String,
    pub list_kind: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    /// Has a `status` subresource.
    pub has_status: bool,
    /// A custom resource (CRD-defined).
    pub custom: bool,
    /// Tracks `metadata.generation` (CRs and CRDs).
    pub generation: bool,
    /// Objects live under this key; Events share one key across two APIs.
    pub store_key: String,
    /// The CRD that defines this resource.
    pub crd_name: Option<String>,
    pub schema: Option<Arc<CompiledSchema>>,
    /// The openAPIV3Schema (for OpenAPI documents).
    pub raw_schema: Value,
    /// Printer columns (excluding Name, which the table renderer adds).
    pub columns: Vec<PrinterColumn>,
    /// Extra field-selector names → JSON pointers into the stored form.
    pub field_extra: Vec<(&'static str, &'static str)>,
    /// Discovery's `storageVersionHash` (of the kind's storage version).
    pub storage_version_hash: String,
}

impl ResourceInfo {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn group_version(&self) -> String {
        self.api_version()
    }

    pub fn is_events_v1(&self) -> bool {
        self.group == "events.k8s.io"
    }

    /// Stored form → what this endpoint serves.
    pub fn to_view(&self, stored: &Value) -> Value {
        let mut v = stored.clone();
        if self.is_events_v1() {
            crate::events::core_to_events_v1(&mut v);
        }
        if let Some(m) = v.as_object_mut() {
            m.insert("apiVersion".into(), json!(self.api_version()));
            m.insert("kind".into(), json!(self.kind));
        }
        v
    }

    /// What this endpoint received → stored form.
    pub fn to_stored(&self, mut v: Value) -> Value {
        if self.is_events_v1() {
            crate::events::events_v1_to_core(&mut v);
            if let Some(m) = v.as_object_mut() {
                m.insert("apiVersion".into(), json!("v1"));
                m.insert("kind".into(), json!("Event"));
            }
        }
        v
    }

    /// Discovery verbs, in the order kube-apiserver lists them (sorted for built-ins; the
    /// apiextensions server's own order for custom resources; no deletecollection of
    /// namespaces).
    pub fn verbs(&self) -> Vec<&'static str> {
        if self.custom {
            return vec![
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "create",
                "update",
                "watch",
            ];
        }
        let mut v = vec![
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ];
        if self.group.is_empty() && self.plural == "namespaces" {
            v.retain(|x| *x != "deletecollection");
        }
        v
    }
}

/// A built-in resource; tables for these come from `schema::builtin_table`.
fn builtin(
    group: &str,
    kind: &str,
    plural: &str,
    namespaced: bool,
    short: &[&str],
    has_status: bool,
    store_key: &str,
) -> ResourceInfo {
    ResourceInfo {
        group: group.into(),
        version: "v1".into(),
        kind: kind.into(),
        plural: plural.into(),
        singular: kind.to_lowercase(),
        list_kind: format!("{kind}List"),
        namespaced,
        short_names: short.iter().map(|s| s.to_string()).collect(),
        categories: Vec::new(),
        has_status,
        custom: false,
        generation: false,
        store_key: store_key.into(),
        crd_name: None,
        schema: None,
        raw_schema: json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        columns: Vec::new(),
        field_extra: Vec::new(),
        storage_version_hash: crate::sha256::storage_version_hash(group, "v1", kind),
    }
}

/// The built-in resources served from the start.
pub fn builtins() -> Vec<Arc<ResourceInfo>> {
    let mut core_events = builtin("", "Event", "events", true, &["ev"], false, "events");
    core_events.field_extra = vec![
        ("involvedObject.name", "/involvedObject/name"),
        ("involvedObject.namespace", "/involvedObject/namespace"),
        ("involvedObject.kind", "/involvedObject/kind"),
        ("involvedObject.uid", "/involvedObject/uid"),
        ("involvedObject.apiVersion", "/involvedObject/apiVersion"),
        (
            "involvedObject.resourceVersion",
            "/involvedObject/resourceVersion",
        ),
        ("involvedObject.fieldPath", "/involvedObject/fieldPath"),
        ("reason", "/reason"),
        ("reportingComponent", "/reportingComponent"),
        ("source", "/source/component"),
        ("type", "/type"),
    ];
    let mut events_v1 = builtin(
        "events.k8s.io",
        "Event",
        "events",
        true,
        &["ev"],
        false,
        "events",
    );
    events_v1.field_extra = vec![
        ("regarding.name", "/involvedObject/name"),
        ("regarding.namespace", "/involvedObject/namespace"),
        ("regarding.kind", "/involvedObject/kind"),
        ("regarding.uid", "/involvedObject/uid"),
        ("regarding.apiVersion", "/involvedObject/apiVersion"),
        (
            "regarding.resourceVersion",
            "/involvedObject/resourceVersion",
        ),
        ("regarding.fieldPath", "/involvedObject/fieldPath"),
        ("reportingController", "/reportingComponent"),
        ("reason", "/reason"),
        ("type", "/type"),
    ];
    // events.k8s.io Events are stored as core Events
    events_v1.storage_version_hash = crate::sha256::storage_version_hash("", "v1", "Event");
    let mut crd = builtin(
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
        &["crd", "crds"],
        true,
        "customresourcedefinitions.apiextensions.k8s.io",
    );
    crd.generation = true;
    // CRDs are still stored as apiextensions.k8s.io/v1beta1
    crd.storage_version_hash = crate::sha256::storage_version_hash(
        "apiextensions.k8s.io",
        "v1beta1",
        "CustomResourceDefinition",
    );
    vec![
        Arc::new(builtin(
            "",
            "Namespace",
            "namespaces",
            false,
            &["ns"],
            true,
            "namespaces",
        )),
        Arc::new(builtin(
            "",
            "ConfigMap",
            "configmaps",
            true,
            &["cm"],
            false,
            "configmaps",
        )),
        Arc::new(builtin(
            "",
            "Secret",
            "secrets",
            true,
            &[],
            false,
            "secrets",
        )),
        // stored and listed (so `kubectl describe namespace` reads as against a real server),
        // never enforced
        Arc::new(builtin(
            "",
            "ResourceQuota",
            "resourcequotas",
            true,
            &["quota"],
            true,
            "resourcequotas",
        )),
        Arc::new(builtin(
            "",
            "LimitRange",
            "limitranges",
            true,
            &["limits"],
            false,
            "limitranges",
        )),
        Arc::new(core_events),
        Arc::new(events_v1),
        Arc::new(builtin(
            "coordination.k8s.io",
            "Lease",
            "leases",
            true,
            &[],
            false,
            "leases.coordination.k8s.io",
        )),
        Arc::new(crd),
    ]
}
