//! Applying manifests (multi-document YAML) the way `kubectl apply --server-side` does: each
//! document's kind is looked up through API discovery and sent as a server-side apply patch.

use kube::api::{DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{self, Scope};
use kube::{Api, Client};

/// Why a manifest could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{source_name}: document {index} is not valid YAML: {message}")]
    Yaml {
        source_name: String,
        index: usize,
        message: String,
    },
    #[error("{source_name}: document {index} has no {field}")]
    Missing {
        source_name: String,
        index: usize,
        field: &'static str,
    },
    #[error("{source_name}: {kind} {name}: {source}")]
    Kube {
        source_name: String,
        kind: String,
        name: String,
        #[source]
        source: Box<kube::Error>,
    },
}

/// Parses a multi-document YAML stream into JSON objects (empty documents skipped).
pub fn parse_documents(
    source_name: &str,
    text: &str,
) -> Result<Vec<serde_json::Value>, ApplyError> {
    let docs: Vec<serde_json::Value> =
        serde_saphyr::from_multiple(text).map_err(|e| ApplyError::Yaml {
            source_name: source_name.into(),
            index: 0,
            message: e.to_string(),
        })?;
    Ok(docs.into_iter().filter(|d| d.is_object()).collect())
}

/// Applies one object with server-side apply (field manager `manager`), returning `kind/name`.
pub async fn apply_object(
    client: &Client,
    source_name: &str,
    index: usize,
    doc: serde_json::Value,
    manager: &str,
) -> Result<String, ApplyError> {
    let missing = |field| ApplyError::Missing {
        source_name: source_name.into(),
        index,
        field,
    };
    let api_version = doc
        .get("apiVersion")
        .and_then(|v| v.as_str())
        .ok_or_else(|| missing("apiVersion"))?;
    let kind = doc
        .get("kind")
        .and_then(|v| v.as_str())
        .ok_or_else(|| missing("kind"))?
        .to_string();
    let name = doc
        .pointer("/metadata/name")
        .and_then(|v| v.as_str())
        .ok_or_else(|| missing("metadata.name"))?
        .to_string();
    let namespace = doc
        .pointer("/metadata/namespace")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (String::new(), api_version.to_string()),
    };
    let gvk = GroupVersionKind::gvk(&group, &version, &kind);
    let kube_err = |source: kube::Error| ApplyError::Kube {
        source_name: source_name.into(),
        kind: kind.clone(),
        name: name.clone(),
        source: Box::new(source),
    };
    let (resource, caps) = discovery::pinned_kind(client, &gvk)
        .await
        .map_err(kube_err)?;
    let api: Api<DynamicObject> = match (caps.scope, namespace.as_deref()) {
        (Scope::Namespaced, Some(ns)) => Api::namespaced_with(client.clone(), ns, &resource),
        (Scope::Namespaced, None) => Api::default_namespaced_with(client.clone(), &resource),
        (Scope::Cluster, _) => Api::all_with(client.clone(), &resource),
    };
    api.patch(
        &name,
        &PatchParams::apply(manager).force(),
        &Patch::Apply(doc),
    )
    .await
    .map_err(kube_err)?;
    Ok(format!("{kind}/{name}"))
}
