//! Schema-driven behaviour of the emulated API server for custom resources: pruning, defaulting,
//! OpenAPI v3 validation and CEL (`x-kubernetes-validations`) on writes; server-side printing
//! (Tables, printer columns, a kubectl-dialect JSONPath subset); and the `/openapi/v3` documents
//! that kubectl needs for `--validate=strict` and `explain`.
//!
//! Admission order follows the real server (see the emulator notes §6): prune unknown fields
//! (reported per `fieldValidation`), default, validate structurally, then evaluate CEL rules —
//! skipped, with upstream's note, when the structural pass found a Required, NotSupported,
//! TooLong, TooMany or TypeInvalid error.
//!
//! # Limits (known divergences from kube-apiserver)
//!
//! CEL (evaluated by `kube_cel` 0.8 on top of `cel` 0.13):
//! - Rules are parsed when the CRD is compiled; a rule that does not parse is rejected then.
//!   Syntax the parser lacks — optional field selection `self.?x` / `m.?k` — rejects the CRD
//!   with `unsupported rule: the emulator's CEL parser lacks this syntax`.
//! - References to functions or macros the engine lacks are only found when the rule runs: the
//!   write then fails closed with `unsupported rule "<rule>": rule references 'sortBy' …` —
//!   never a silent pass. Checked missing: `sortBy`, `cel.bind`, `transformMap`/`transformList`
//!   and the other two-variable comprehensions (`all(i, v, …)`), `type()`, `dyn()`.
//!   Checked working: `has`, `all`/`exists`/`exists_one`/`map`/`filter`, `in`, `matches`,
//!   strings/lists/sets/math/base64 libraries, `quantity`, `url`, `ip`/`cidr`, `semver`,
//!   `format.*`, `isURL`/`isIP`, `timestamp`/`duration` (incl. `date-time`/`duration` fields).
//! - No type-checking at CRD time (upstream rejects e.g. `self.size > 'a'` then; here it fails at
//!   evaluation as a `rule evaluation error`). No cost estimation or cost budget.
//! - Transition rules correlate old and new values by property name and list index (upstream:
//!   only map-keyed and set lists correlate; atomic lists do not), so a transition rule under
//!   an atomic list may run where upstream would skip it.
//! - `type: number` fields holding integral JSON values are seen by CEL as `int`, not `double`.
//! - Object members holding `null` (nullable fields) are hidden from CEL, as if absent: rules on
//!   them do not run (as upstream) and `has(self.x)` is false for them.
//! - CRD validation ratcheting (unchanged invalid fields forgiven on update) is not done.
//! - Root-level rules see the whole object incl. all of `metadata` (upstream exposes only
//!   `metadata.name` and `metadata.generateName`).
//!
//! Structural validation:
//! - Checked formats: `date-time`, `date`, `byte`, `uuid`/`uuid3`/`uuid4`/`uuid5`, `ipv4`, `ipv6`,
//!   `cidr`, `hostname`, `email`, `mac`, `duration`, `uri`, `int32`, `int64`; others ignored.
//! - `allOf`/`anyOf`/`oneOf`/`not` report upstream's composite cause at the root
//!   (`<nil>: Invalid value: "": "spec.x" must validate at least one schema (anyOf)`) plus the
//!   branch errors go-openapi keeps; for a failed `anyOf`/`oneOf` the branch with the fewest
//!   errors (first on a tie) stands in for go-openapi's best match count.
//! - Integer values against a fractional `multipleOf` reproduce kube-openapi's truncation of the
//!   factor (`factor MultipleOf declared for spec.n must be positive: 0`).
//! - Patterns use the `regex` crate (RE2 semantics; syntax differences are rare).
//! - Duplicate JSON keys (a Strict-mode error upstream) cannot be seen: the body is already parsed.
//! - ObjectMeta validation (names, labels, annotations) is not done here: the server does it.
//! - CRD structural checks are light: types present and known, `items` for arrays, no
//!   `properties` + `additionalProperties`, valid patterns, map lists with keys, CEL compiles.
//!   Defaults are not validated against the schema at CRD time.
//!
//! Wording follows upstream's field errors (`Invalid value`, `Required value`, …); details such
//! as Go's `%#v` rendering of maps are approximated with JSON.

mod cel;
mod compile;
mod defaults;
mod errors;
mod formats;
mod jsonpath;
mod openapi;
mod paths;
mod prune;
mod structural;
mod table;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use serde_json::Value;

pub use errors::{
    ROOT_FIELD, UNKNOWN_FIELD, cause_message, is_unknown_field, strict_decoding_message,
};
pub use jsonpath::{JsonPath, JsonPathError};
pub use openapi::{
    KindSchema, openapi_doc_hash, openapi_v3_group_version_doc, openapi_v3_index,
    openapi_v3_index_hashed,
};
pub use table::{PrinterColumn, builtin_table, format_age, printer_columns, render_table};

/// One entry of `Status.details.causes`. `reason` is a `FieldValue*` cause type
/// (or [`UNKNOWN_FIELD`] for Strict unknown-field errors); `message` is the part after the
/// field (`Invalid value: 0: …`); `field` is the dotted path, `<nil>` for the object root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub reason: String,
    pub message: String,
    pub field: String,
}

/// The `fieldValidation` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidation {
    /// Drop unknown fields silently (the default when the parameter is absent; kube-rs).
    #[default]
    Ignore,
    /// Drop them and return `unknown field "…"` warnings.
    Warn,
    /// Reject the write (kubectl sends this once the OpenAPI v3 docs are served).
    Strict,
}

impl FieldValidation {
    /// Parses the query parameter; absent or unrecognized → `Ignore`.
    pub fn from_query(v: Option<&str>) -> Self {
        match v {
            Some("Strict") => Self::Strict,
            Some("Warn") => Self::Warn,
            _ => Self::Ignore,
        }
    }
}

/// A CRD version's `openAPIV3Schema`, checked and with every pattern and CEL rule compiled.
/// Cheap to clone (shared), `Send + Sync`.
#[derive(Clone)]
pub struct CompiledSchema {
    inner: Arc<Inner>,
}

struct Inner {
    schema: Value,
    patterns: structural::Patterns,
    cel: kube_cel::CompiledSchema,
    has_rules: bool,
}

impl std::fmt::Debug for CompiledSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledSchema").finish_non_exhaustive()
    }
}

impl CompiledSchema {
    /// Checks the schema (light structural rules), compiles patterns and every CEL rule.
    /// Error fields are relative to `openAPIV3Schema` (`properties[spec].x-kubernetes-validations[0].rule`;
    /// empty for the root): prefix them with `spec.versions[i].schema.openAPIV3Schema.`.
    pub fn compile(open_api_v3_schema: &Value) -> Result<Self, Vec<Cause>> {
        let mut patterns = structural::Patterns::new();
        let mut causes = compile::check(open_api_v3_schema, &mut patterns);
        causes.extend(cel::check_rules(open_api_v3_schema));
        if !causes.is_empty() {
            return Err(causes);
        }
        let cel = kube_cel::compile_schema(open_api_v3_schema);
        let has_rules = open_api_v3_schema
            .to_string()
            .contains("\"x-kubernetes-validations\"");
        Ok(Self {
            inner: Arc::new(Inner {
                schema: open_api_v3_schema.clone(),
                patterns,
                cel,
                has_rules,
            }),
        })
    }

    /// The schema this was compiled from.
    pub fn schema(&self) -> &Value {
        &self.inner.schema
    }

    /// Admission of a custom object (full JSON incl. apiVersion/kind/metadata/spec/status):
    /// prune (unknown-field handling per `fv`), default, validate, evaluate CEL (`old` = the
    /// stored object on update, enabling transition rules). `Ok` carries warnings (Warn mode);
    /// `Err` carries either only [`UNKNOWN_FIELD`] causes (Strict; answer 400 on create/update,
    /// 422 on patch, with [`strict_decoding_message`]) or validation causes (answer 422 Invalid).
    pub fn admit(
        &self,
        obj: &mut Value,
        old: Option<&Value>,
        fv: FieldValidation,
    ) -> Result<Vec<String>, Vec<Cause>> {
        self.admit_with(obj, old, fv, Vec::new(), false)
    }

    /// [`admit`](Self::admit) as part of the server's whole validation: `prior` are the causes
    /// found before the schema (ObjectMeta, or a wrong `kind`) and come first; like schema
    /// causes they can block CEL (a `Required` name does). `type_meta_failed` (a wrong `kind`)
    /// skips the structural schema, as upstream's validator returns early, but not CEL.
    pub fn admit_with(
        &self,
        obj: &mut Value,
        old: Option<&Value>,
        fv: FieldValidation,
        prior: Vec<Cause>,
        type_meta_failed: bool,
    ) -> Result<Vec<String>, Vec<Cause>> {
        let unknown = prune::prune_object(&self.inner.schema, obj);
        let mut warnings = Vec::new();
        match fv {
            FieldValidation::Strict if !unknown.is_empty() => {
                return Err(unknown.iter().map(|p| errors::unknown_field(p)).collect());
            }
            FieldValidation::Warn => {
                warnings.extend(
                    unknown
                        .iter()
                        .map(|p| format!("unknown field {}", errors::quote(p))),
                );
            }
            _ => {}
        }
        self.apply_defaults(obj);
        let mut causes = prior;
        if !type_meta_failed {
            causes.extend(structural::validate_object(
                &self.inner.schema,
                obj,
                &self.inner.patterns,
            ));
        }
        if self.inner.has_rules {
            if causes.iter().any(errors::is_blocking) {
                causes.push(errors::rules_not_checked());
            } else {
                causes.extend(cel::evaluate(&self.inner.cel, &self.inner.schema, obj, old));
            }
        }
        if causes.is_empty() {
            Ok(warnings)
        } else {
            Err(causes)
        }
    }

    /// Applies `default:` values (and drops nulls in non-nullable fields); also used on read.
    pub fn apply_defaults(&self, obj: &mut Value) {
        if let Some(map) = obj.as_object_mut() {
            let meta = map.remove("metadata");
            defaults::apply(&self.inner.schema, obj);
            if let (Some(m), Some(map)) = (meta, obj.as_object_mut()) {
                map.insert("metadata".into(), m);
            }
        }
    }

    /// Prunes unknown fields without validating; returns the dropped paths (`spec.foo`).
    pub fn prune(&self, obj: &mut Value) -> Vec<String> {
        prune::prune_object(&self.inner.schema, obj)
    }
}
