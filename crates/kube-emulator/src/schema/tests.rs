//! Admission, printing and OpenAPI tests against the project's real CRDs (`crds/`, generated
//! from `crates/core/src/api/` and kept fresh by the root crate's staleness test) and small schemas.

use super::*;
use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

const CRDS: &str = include_str!("../../../../crds/telephony.agni.ai.yaml");

fn crd(kind: &str) -> Value {
    let docs: Vec<Value> = serde_saphyr::from_multiple(CRDS).unwrap();
    docs.into_iter()
        .find(|d| d["spec"]["names"]["kind"] == kind)
        .unwrap()
}

fn version(kind: &str) -> Value {
    crd(kind)["spec"]["versions"][0].clone()
}

fn compiled(kind: &str) -> CompiledSchema {
    CompiledSchema::compile(&version(kind)["schema"]["openAPIV3Schema"]).unwrap()
}

fn pn(spec: Value) -> Value {
    json!({"apiVersion":"telephony.agni.ai/v1alpha1","kind":"PhoneNumber",
        "metadata":{"name":"pn1","namespace":"default","labels":{"a":"b"}},"spec": spec})
}

fn messages(causes: &[Cause]) -> Vec<String> {
    causes.iter().map(cause_message).collect()
}

#[test]
fn compiled_schema_is_send_sync_clone() {
    fn assert<T: Send + Sync + Clone>() {}
    assert::<CompiledSchema>();
}

#[test]
fn valid_phone_number_passes_and_is_defaulted() {
    let s = compiled("PhoneNumber");
    let mut obj = pn(json!({"accountRef":{"name":"acct"},"number":"+14155550100","renewal":{}}));
    let warnings = s.admit(&mut obj, None, FieldValidation::Strict).unwrap();
    assert!(warnings.is_empty());
    assert_eq!(obj["spec"]["deletionPolicy"], "Release");
    assert_eq!(obj["spec"]["renewal"]["autoRenew"], true);
    assert_eq!(obj["metadata"]["labels"]["a"], "b");
    let mut search = pn(
        json!({"accountRef":{"name":"acct"},"search":{"country":"US","type":"Local","areaCode":415}}),
    );
    s.admit(&mut search, None, FieldValidation::Strict).unwrap();
}

#[test]
fn number_and_search_together_fail_the_cel_rule() {
    let s = compiled("PhoneNumber");
    let mut obj = pn(json!({"accountRef":{"name":"acct"},"number":"+14155550100",
        "search":{"country":"US","type":"Local"}}));
    let causes = s
        .admit(&mut obj, None, FieldValidation::Ignore)
        .unwrap_err();
    assert_eq!(
        messages(&causes),
        vec!["spec: Invalid value: exactly one of number or search must be set"]
    );
    assert_eq!(causes[0].reason, "FieldValueInvalid");
    assert_eq!(causes[0].field, "spec");
    let mut neither = pn(json!({"accountRef":{"name":"acct"}}));
    assert!(
        s.admit(&mut neither, None, FieldValidation::Ignore)
            .is_err()
    );
}

#[test]
fn changing_the_number_fails_the_transition_rule() {
    let s = compiled("PhoneNumber");
    let mut old = pn(json!({"accountRef":{"name":"acct"},"number":"+14155550100"}));
    s.admit(&mut old, None, FieldValidation::Ignore).unwrap();
    let mut new = pn(json!({"accountRef":{"name":"acct"},"number":"+14155550199"}));
    let causes = s
        .admit(&mut new, Some(&old), FieldValidation::Ignore)
        .unwrap_err();
    assert_eq!(
        messages(&causes),
        vec![
            "spec: Forbidden: number is immutable: create a new PhoneNumber to get another number"
        ]
    );
    assert_eq!(causes[0].reason, "FieldValueForbidden");
    // An unchanged number with other edits passes; without an old object no transition rule runs.
    let mut same =
        pn(json!({"accountRef":{"name":"acct"},"number":"+14155550100","friendlyName":"x"}));
    s.admit(&mut same, Some(&old), FieldValidation::Ignore)
        .unwrap();
    let mut fresh = pn(json!({"accountRef":{"name":"other"},"number":"+14155550199"}));
    s.admit(&mut fresh, None, FieldValidation::Ignore).unwrap();
    let mut moved = pn(json!({"accountRef":{"name":"other"},"number":"+14155550100"}));
    let causes = s
        .admit(&mut moved, Some(&old), FieldValidation::Ignore)
        .unwrap_err();
    assert_eq!(
        messages(&causes),
        vec!["spec: Forbidden: accountRef is immutable"]
    );
}

#[test]
fn bad_e164_fails_the_pattern() {
    let s = compiled("PhoneNumber");
    let mut obj = pn(json!({"accountRef":{"name":"acct"},"number":"4155550100"}));
    let causes = s
        .admit(&mut obj, None, FieldValidation::Ignore)
        .unwrap_err();
    assert_eq!(
        messages(&causes),
        vec![
            r#"spec.number: Invalid value: "4155550100": spec.number in body should match '^\+[1-9][0-9]{6,14}$'"#
        ]
    );
    assert_eq!(causes[0].reason, "FieldValueInvalid");
}

#[test]
fn unknown_enum_value_fails_and_blocks_cel() {
    let s = compiled("PhoneNumber");
    let mut obj =
        pn(json!({"accountRef":{"name":"acct"},"number":"+14155550100","deletionPolicy":"Keep"}));
    let causes = s
        .admit(&mut obj, None, FieldValidation::Ignore)
        .unwrap_err();
    assert_eq!(
        messages(&causes),
        vec![
            r#"spec.deletionPolicy: Unsupported value: "Keep": supported values: "Release", "Retain""#,
            r#"<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"#,
        ]
    );
    assert_eq!(causes[0].reason, "FieldValueNotSupported");
    // A nullable enum listing null accepts null.
    let mut obj =
        pn(json!({"accountRef":{"name":"acct"},"number":"+14155550100","voice":{"method":null}}));
    s.admit(&mut obj, None, FieldValidation::Ignore).unwrap();
}

#[test]
fn negative_money_fails() {
    let s = compiled("PhoneNumber");
    let mut obj =
        pn(json!({"accountRef":{"name":"acct"},"number":"+14155550100","maxMonthlyPrice":"-1"}));
    let causes = s
        .admit(&mut obj, None, FieldValidation::Ignore)
        .unwrap_err();
    assert_eq!(causes.len(), 1);
    assert_eq!(causes[0].field, "spec.maxMonthlyPrice");
    let grant = compiled("CreditGrant");
    let mut g = json!({"apiVersion":"telephony.agni.ai/v1alpha1","kind":"CreditGrant","metadata":{"name":"ns.a"},
        "spec":{"credits":{"perCycle":"-1"}}});
    let causes = grant
        .admit(&mut g, None, FieldValidation::Ignore)
        .unwrap_err();
    assert_eq!(
        messages(&causes),
        vec![
            r#"spec.credits.perCycle: Invalid value: "-1": spec.credits.perCycle in body should match '^[0-9]{1,12}(\.[0-9]{1,6})?$'"#
        ]
    );
    let mut ok = json!({"apiVersion":"telephony.agni.ai/v1alpha1","kind":"CreditGrant","metadata":{"name":"ns.a"},
        "spec":{"credits":{"perCycle":"25.00"}}});
    grant.admit(&mut ok, None, FieldValidation::Ignore).unwrap();
    assert_eq!(ok["spec"]["credits"]["currency"], "USD");

    // A tenant's own object cannot carry credits any more: refused with where they come from.
    let acct = compiled("TelephonyAccount");
    let mut a = json!({"apiVersion":"telephony.agni.ai/v1alpha1","kind":"TelephonyAccount","metadata":{"name":"a"},
        "spec":{"mode":"Managed","managed":{"credits":{"perCycle":"1000.00"}}}});
    let causes = acct
        .admit(&mut a, None, FieldValidation::Ignore)
        .unwrap_err();
    assert_eq!(causes.len(), 1, "{:?}", messages(&causes));
    assert!(
        messages(&causes)[0].contains("CreditGrant"),
        "{:?}",
        messages(&causes)
    );
    let mut ok = json!({"apiVersion":"telephony.agni.ai/v1alpha1","kind":"TelephonyAccount","metadata":{"name":"a"},
        "spec":{"mode":"Managed","managed":{"termsVersion":"v1"}}});
    acct.admit(&mut ok, None, FieldValidation::Ignore).unwrap();
    assert_eq!(ok["spec"]["managed"]["termsAccepted"], false);
}

#[test]
fn account_cel_rules_use_reason_required() {
    let acct = compiled("TelephonyAccount");
    let mut a = json!({"apiVersion":"telephony.agni.ai/v1alpha1","kind":"TelephonyAccount","metadata":{"name":"a"},
        "spec":{"mode":"BringYourOwn","friendlyName":"x"}});
    let causes = acct
        .admit(&mut a, None, FieldValidation::Ignore)
        .unwrap_err();
    assert_eq!(
        messages(&causes),
        vec!["spec: Required value: credentialsSecretRef is required when mode is BringYourOwn"]
    );
    assert_eq!(causes[0].reason, "FieldValueRequired");
}

#[test]
fn unknown_fields_pruned_warned_or_rejected() {
    let s = compiled("PhoneNumber");
    let spec = json!({"accountRef":{"name":"acct"},"number":"+14155550100","foo":1});
    let mut obj = pn(spec.clone());
    obj["metadata"]["bogus"] = json!(true);
    assert_eq!(
        s.admit(&mut obj, None, FieldValidation::Ignore).unwrap(),
        Vec::<String>::new()
    );
    assert!(obj["spec"].get("foo").is_none());
    assert!(obj["metadata"].get("bogus").is_none());

    let mut obj = pn(spec.clone());
    let w = s.admit(&mut obj, None, FieldValidation::Warn).unwrap();
    assert_eq!(w, vec!["unknown field \"spec.foo\""]);
    assert!(obj["spec"].get("foo").is_none());

    let mut obj = pn(spec);
    obj["status"] = json!({"phase":"Active","bar":{"x":1}});
    let causes = s
        .admit(&mut obj, None, FieldValidation::Strict)
        .unwrap_err();
    assert!(causes.iter().all(is_unknown_field));
    assert_eq!(
        strict_decoding_message(&causes),
        "strict decoding error: unknown field \"spec.foo\", unknown field \"status.bar\""
    );
    assert_eq!(cause_message(&causes[0]), "unknown field \"spec.foo\"");
}

#[test]
fn required_and_type_errors() {
    let s = compiled("PhoneNumber");
    let mut obj = json!({"apiVersion":"telephony.agni.ai/v1alpha1","kind":"PhoneNumber","metadata":{"name":"x"}});
    let causes = s
        .admit(&mut obj, None, FieldValidation::Ignore)
        .unwrap_err();
    assert_eq!(messages(&causes)[0], "spec: Required value");
    let mut obj = pn(json!({"accountRef":{"name":"acct"},"number":"+14155550100",
        "search":{"country":"US","type":"Local","areaCode":"415"}, "friendlyName": "x".repeat(65)}));
    let causes = s
        .admit(&mut obj, None, FieldValidation::Ignore)
        .unwrap_err();
    assert_eq!(
        messages(&causes),
        vec![
            r#"spec.friendlyName: Too long: may not be more than 64 bytes"#,
            r#"spec.search.areaCode: Invalid value: "string": spec.search.areaCode in body must be of type integer: "string""#,
            r#"<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"#,
        ]
    );
    assert_eq!(causes[1].reason, "FieldValueTypeInvalid");
    let mut obj = pn(
        json!({"accountRef":{"name":"acct"},"search":{"country":"US","type":"Local","areaCode":100}}),
    );
    let causes = s
        .admit(&mut obj, None, FieldValidation::Ignore)
        .unwrap_err();
    assert_eq!(
        messages(&causes),
        vec![
            "spec.search.areaCode: Invalid value: 100: spec.search.areaCode in body should be greater than or equal to 200"
        ]
    );
}

#[test]
fn list_map_keys_must_be_unique() {
    let s = compiled("PhoneNumber");
    let cond = json!({"type":"Ready","status":"True","reason":"R","message":"","lastTransitionTime":"2024-05-01T10:00:00Z"});
    let mut obj = pn(json!({"accountRef":{"name":"acct"},"number":"+14155550100"}));
    obj["status"] = json!({"conditions":[cond.clone(), cond]});
    let causes = s
        .admit(&mut obj, None, FieldValidation::Ignore)
        .unwrap_err();
    assert_eq!(
        messages(&causes),
        vec![r#"status.conditions[1]: Duplicate value: {"type":"Ready"}"#]
    );
    assert_eq!(causes[0].reason, "FieldValueDuplicate");
}

#[test]
fn status_date_time_format_checked() {
    let s = compiled("PhoneNumber");
    let mut obj = pn(json!({"accountRef":{"name":"acct"},"number":"+14155550100"}));
    obj["status"] = json!({"purchasedAt":"yesterday"});
    let causes = s
        .admit(&mut obj, None, FieldValidation::Ignore)
        .unwrap_err();
    assert_eq!(
        messages(&causes)[0],
        r#"status.purchasedAt: Invalid value: "yesterday": status.purchasedAt in body must be of type date-time: "yesterday""#
    );
}

#[test]
fn nulls_in_non_nullable_fields_are_dropped_or_defaulted() {
    let s = compiled("PhoneNumber");
    let mut obj = pn(
        json!({"accountRef":{"name":"acct"},"number":"+14155550100","deletionPolicy":null,"friendlyName":null}),
    );
    s.admit(&mut obj, None, FieldValidation::Strict).unwrap();
    assert_eq!(obj["spec"]["deletionPolicy"], "Release");
    assert_eq!(
        obj["spec"]["friendlyName"],
        Value::Null,
        "nullable fields keep null"
    );
}

#[test]
fn printer_columns_render_from_a_sample_object() {
    let cols = printer_columns(&version("PhoneNumber"));
    let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "NUMBER", "ACCOUNT", "PHASE", "MONTHLY", "RENEWS", "READY", "REASON", "SID", "AGE"
        ]
    );
    let now = Utc.with_ymd_and_hms(2024, 5, 10, 12, 0, 0).unwrap();
    let mut obj = pn(json!({"accountRef":{"name":"acct"},"number":"+14155550100"}));
    obj["metadata"]["creationTimestamp"] = json!("2024-05-08T09:00:00Z");
    obj["metadata"]["resourceVersion"] = json!("41");
    obj["status"] = json!({"phoneNumber":"+14155550100","phase":"Active","pricing":{"monthlyFee":"1.15","currency":"USD","source":"RateCard"},
        "renewal":{"policy":"Managed","nextRenewalAt":"2024-06-05T09:00:00Z"},
        "conditions":[{"type":"Reconciling","status":"False","reason":"Done"},{"type":"Ready","status":"True","reason":"Active"}]});
    let t = render_table(
        &cols,
        std::slice::from_ref(&obj),
        now,
        "Metadata",
        "42",
        Some("tok"),
    );
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(
        t["metadata"],
        json!({"resourceVersion":"42","continue":"tok"})
    );
    assert_eq!(t["columnDefinitions"][0]["name"], "Name");
    assert_eq!(t["columnDefinitions"][0]["format"], "name");
    assert_eq!(t["columnDefinitions"][7]["priority"], 1);
    assert_eq!(t["columnDefinitions"][9]["type"], "date");
    assert_eq!(
        t["rows"][0]["cells"],
        json!([
            "pn1",
            "+14155550100",
            "acct",
            "Active",
            "1.15",
            "2024-06-05T09:00:00Z",
            "True",
            "Active",
            null,
            "2d3h"
        ])
    );
    assert_eq!(
        t["rows"][0]["object"],
        json!({"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":obj["metadata"]})
    );
    let full = render_table(&cols, std::slice::from_ref(&obj), now, "Object", "42", None);
    assert_eq!(full["rows"][0]["object"], obj);
    assert!(full["metadata"].get("continue").is_none());
    let none = render_table(&cols, std::slice::from_ref(&obj), now, "None", "42", None);
    assert!(none["rows"][0].get("object").is_none());
}

#[test]
fn account_table_types_cells() {
    let cols = printer_columns(&version("TelephonyAccount"));
    let now = Utc.with_ymd_and_hms(2024, 5, 10, 12, 0, 0).unwrap();
    let obj = json!({"metadata":{"name":"a","creationTimestamp":"bad"},"spec":{"mode":"Managed"},
        "status":{"inventory":{"managed":3},"credits":{"balance":"10.00"}}});
    let t = render_table(&cols, &[obj], now, "Metadata", "1", None);
    assert_eq!(
        t["rows"][0]["cells"],
        json!([
            "a",
            "Managed",
            null,
            null,
            3,
            "10.00",
            null,
            null,
            "<invalid>"
        ])
    );
    let wrong = json!({"metadata":{"name":"b"},"spec":{"mode":"Managed"},"status":{"inventory":{"managed":"3"}}});
    let t = render_table(&cols, &[wrong], now, "Metadata", "1", None);
    assert_eq!(
        t["rows"][0]["cells"][4],
        Value::Null,
        "integer column needs a JSON integer"
    );
}

#[test]
fn no_columns_means_name_and_age() {
    let now = Utc.with_ymd_and_hms(2024, 5, 10, 12, 0, 0).unwrap();
    let obj = json!({"metadata":{"name":"w","creationTimestamp":"2024-05-10T11:59:15Z"}});
    let t = render_table(
        &printer_columns(&json!({"name":"v1"})),
        &[obj],
        now,
        "",
        "3",
        None,
    );
    let names: Vec<&Value> = t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["name"])
        .collect();
    assert_eq!(names, [&json!("Name"), &json!("Age")]);
    assert_eq!(t["rows"][0]["cells"], json!(["w", "45s"]));
}

#[test]
fn bad_rules_and_non_structural_schemas_are_rejected() {
    let bad = json!({"type":"object","properties":{"spec":{"type":"object",
        "x-kubernetes-validations":[{"rule":"self.a >"},{"rule":"true","messageExpression":"'a' +"}],
        "properties":{"a":{"type":"string","pattern":"(unclosed"},"b":{"properties":{}},"l":{"type":"array"},
            "r":{"type":"string","x-kubernetes-validations":[{"rule":"self == 'x'","reason":"Nope"}]}}}}});
    let causes = CompiledSchema::compile(&bad).unwrap_err();
    let fields: Vec<&str> = causes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "properties[spec].properties[a].pattern",
            "properties[spec].properties[b].type",
            "properties[spec].properties[l].items",
            "properties[spec].x-kubernetes-validations[0].rule",
            "properties[spec].x-kubernetes-validations[1].messageExpression",
            "properties[spec].properties[r].x-kubernetes-validations[0].reason",
        ]
    );
    assert!(
        causes[3].message.contains("compilation failed"),
        "{}",
        causes[3].message
    );
    assert!(CompiledSchema::compile(&json!({"type":"string"})).is_err());
}

/// kube-apiserver type-checks rules against the schema when the CRD is written: a field that
/// is not declared (or declared without a type, like a bare preserve-unknown-fields property)
/// is `undefined field`, and the CRD is refused.
#[test]
fn a_rule_reading_an_undeclared_field_is_refused_with_the_crd() {
    let schema = |credits: Value| {
        json!({"type":"object","properties":{"spec":{"type":"object",
            "x-kubernetes-validations":[{"rule":"!has(self.credits) && self.a != 'x' && self.size() > 0"}],
            "properties":{"a":{"type":"string"},"credits": credits}}}})
    };
    let Err(causes) = CompiledSchema::compile(&schema(
        json!({"x-kubernetes-preserve-unknown-fields": true}),
    )) else {
        panic!("an untyped property is undefined to CEL")
    };
    assert_eq!(causes.len(), 1);
    assert!(
        cause_message(&causes[0]).contains("undefined field 'credits'"),
        "{}",
        cause_message(&causes[0])
    );
    assert!(
        CompiledSchema::compile(&schema(
            json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
        ))
        .is_ok()
    );
    let missing = json!({"type":"object","properties":{"spec":{"type":"object",
        "x-kubernetes-validations":[{"rule":"self.nope == 1 && oldSelf.a == self.a"}],
        "properties":{"a":{"type":"string"}}}}});
    let Err(causes) = CompiledSchema::compile(&missing) else {
        panic!("undeclared field")
    };
    assert!(cause_message(&causes[0]).contains("undefined field 'nope'"));
}

#[test]
fn unsupported_cel_fails_closed_with_a_diagnostic() {
    let schema = json!({"type":"object","properties":{"spec":{"type":"object",
        "x-kubernetes-validations":[{"rule":"self.noSuchFunction(1)"}],
        "properties":{"a":{"type":"string"}}}}});
    let s = CompiledSchema::compile(&schema).unwrap();
    let mut obj = json!({"apiVersion":"g/v1","kind":"K","metadata":{"name":"x"},"spec":{"a":"b"}});
    let causes = s
        .admit(&mut obj, None, FieldValidation::Ignore)
        .unwrap_err();
    assert_eq!(causes.len(), 1);
    let m = cause_message(&causes[0]);
    assert!(m.starts_with("spec: Invalid value: \"object\": "), "{m}");
    assert!(
        m.contains("unsupported rule") || m.contains("rule evaluation error"),
        "{m}"
    );
}

#[test]
fn cel_message_expression_field_path_and_root_rules() {
    let schema = json!({"type":"object",
        "x-kubernetes-validations":[{"rule":"self.metadata.name.startsWith('w')","message":"name must start with w"}],
        "properties":{"spec":{"type":"object",
        "x-kubernetes-validations":[
            {"rule":"self.min <= self.max","messageExpression":"'min ' + string(self.min) + ' exceeds max'","fieldPath":".min"},
            {"rule":"!has(self.tags) || self.tags.all(t, t.size() < 4)","reason":"FieldValueDuplicate"}],
        "properties":{"min":{"type":"integer"},"max":{"type":"integer"},
            "tags":{"type":"array","items":{"type":"string"},"x-kubernetes-list-type":"set"}}}}});
    let s = CompiledSchema::compile(&schema).unwrap();
    let mut obj = json!({"apiVersion":"g/v1","kind":"K","metadata":{"name":"x"},"spec":{"min":5,"max":1,"tags":["long-tag"]}});
    let causes = s
        .admit(&mut obj, None, FieldValidation::Ignore)
        .unwrap_err();
    let mut m = messages(&causes);
    m.sort();
    assert_eq!(
        m,
        vec![
            "<nil>: Invalid value: name must start with w",
            "spec.min: Invalid value: min 5 exceeds max",
            "spec: Duplicate value",
        ]
    );
    let mut dup = json!({"apiVersion":"g/v1","kind":"K","metadata":{"name":"w"},"spec":{"min":1,"max":2,"tags":["a","a"]}});
    let causes = s
        .admit(&mut dup, None, FieldValidation::Ignore)
        .unwrap_err();
    assert_eq!(
        messages(&causes),
        vec!["spec.tags[1]: Duplicate value: \"a\""]
    );
}

#[test]
fn optional_old_self_runs_on_create() {
    let schema = json!({"type":"object","properties":{"spec":{"type":"object",
        "x-kubernetes-validations":[{"rule":"oldSelf == null || self.v >= oldSelf.v","optionalOldSelf":true,"message":"no decrease"},
            {"rule":"self.v != 0 || oldSelf.v == 0","message":"plain transition"}],
        "properties":{"v":{"type":"integer"}}}}});
    let s = CompiledSchema::compile(&schema).unwrap();
    let mut obj = json!({"metadata":{"name":"a"},"spec":{"v":0}});
    s.admit(&mut obj, None, FieldValidation::Ignore).unwrap();
    let old = json!({"metadata":{"name":"a"},"spec":{"v":3}});
    let causes = s
        .admit(&mut obj, Some(&old), FieldValidation::Ignore)
        .unwrap_err();
    let mut m = messages(&causes);
    m.sort();
    assert_eq!(
        m,
        vec![
            "spec: Invalid value: no decrease",
            "spec: Invalid value: plain transition",
        ]
    );
}

#[test]
fn structural_keywords() {
    let schema = json!({"type":"object","properties":{"spec":{"type":"object","properties":{
        "n":{"type":"number","minimum":1,"exclusiveMinimum":true,"maximum":10,"multipleOf":0.5},
        "i":{"type":"integer","format":"int32","maximum":5,"exclusiveMaximum":true},
        "ios":{"x-kubernetes-int-or-string":true,"anyOf":[{"type":"integer"},{"type":"string"}]},
        "s":{"type":"string","minLength":2},
        "l":{"type":"array","minItems":1,"maxItems":2,"items":{"type":"string"}},
        "m":{"type":"object","minProperties":1,"maxProperties":1,"additionalProperties":{"type":"integer"}},
        "one":{"type":"object","oneOf":[{"required":["a"]},{"required":["b"]}],"properties":{"a":{"type":"string"},"b":{"type":"string"}}},
        "not":{"type":"string","not":{"enum":["bad"]}},
        "all":{"type":"string","allOf":[{"maxLength":3}]}}}}});
    let s = CompiledSchema::compile(&schema).unwrap();
    let good = json!({"metadata":{"name":"a"},"spec":{"n":1.5,"i":4,"ios":"50%","s":"ab","l":["a"],"m":{"k":1},
        "one":{"a":"x"},"not":"ok","all":"abc"}});
    s.admit(&mut good.clone(), None, FieldValidation::Strict)
        .unwrap();
    let mut ios_int = good.clone();
    ios_int["spec"]["ios"] = json!(3);
    s.admit(&mut ios_int, None, FieldValidation::Strict)
        .unwrap();
    let mut bad = json!({"metadata":{"name":"a"},"spec":{"n":1,"i":5,"ios":true,"s":"a","l":["a","b","c"],"m":{"k":1,"j":2},
        "one":{"a":"x","b":"y"},"not":"bad","all":"abcd"}});
    let causes = s
        .admit(&mut bad, None, FieldValidation::Strict)
        .unwrap_err();
    assert_eq!(
        messages(&causes),
        // what kube-apiserver v1.37.2 answers for this schema and object (in some order),
        // including its composite junctor errors at the root and its integer-factor quirk
        vec![
            "spec.all: Too long: may not be more than 3 bytes",
            "<nil>: Invalid value: \"\": \"spec.all\" must validate all the schemas (allOf). None validated",
            "spec.i: Invalid value: 5: spec.i in body should be less than 5",
            "spec.ios: Invalid value: \"boolean\": spec.ios in body must be of type integer,string: \"boolean\"",
            "<nil>: Invalid value: \"\": \"spec.ios\" must validate at least one schema (anyOf)",
            "spec.ios: Invalid value: \"boolean\": spec.ios in body must be of type integer: \"boolean\"",
            "spec.l: Too many: 3: must have at most 2 items",
            "spec.m: Too many: 2: must have at most 1 item",
            "spec.n: Invalid value: 1: spec.n in body should be greater than 1",
            "spec.n: Invalid value: 0: factor MultipleOf declared for spec.n must be positive: 0",
            "<nil>: Invalid value: \"\": \"spec.not\" must not validate the schema (not)",
            "<nil>: Invalid value: \"\": \"spec.one\" must validate one and only one schema (oneOf). Found 2 valid alternatives",
            "spec.s: Invalid value: \"a\": spec.s in body should be at least 2 chars long",
        ]
    );
    let mut bad2 =
        json!({"metadata":{"name":"a"},"spec":{"n":2.25,"i":3000000000_i64,"l":[],"m":{}}});
    let causes = s
        .admit(&mut bad2, None, FieldValidation::Strict)
        .unwrap_err();
    assert_eq!(
        messages(&causes),
        vec![
            "spec.i: Invalid value: 3000000000: spec.i in body must be of type int32: \"3000000000\"",
            "spec.i: Invalid value: 3000000000: spec.i in body should be less than 5",
            "spec.l: Invalid value: []: spec.l in body should have at least 1 items",
            "spec.m: Invalid value: {}: spec.m in body should have at least 1 properties",
            "spec.n: Invalid value: 2.25: spec.n in body should be a multiple of 0.5",
        ]
    );
}

#[test]
fn field_validation_from_query() {
    assert_eq!(FieldValidation::from_query(None), FieldValidation::Ignore);
    assert_eq!(
        FieldValidation::from_query(Some("Strict")),
        FieldValidation::Strict
    );
    assert_eq!(
        FieldValidation::from_query(Some("Warn")),
        FieldValidation::Warn
    );
    assert_eq!(
        FieldValidation::from_query(Some("Ignore")),
        FieldValidation::Ignore
    );
}

#[test]
fn openapi_documents_serve_kubectl() {
    let v = version("PhoneNumber");
    let kinds = vec![KindSchema {
        group: "telephony.agni.ai".into(),
        version: "v1alpha1".into(),
        kind: "PhoneNumber".into(),
        plural: "phonenumbers".into(),
        namespaced: true,
        schema: v["schema"]["openAPIV3Schema"].clone(),
    }];
    let doc = openapi_v3_group_version_doc("telephony.agni.ai/v1alpha1", &kinds);
    assert_eq!(doc["openapi"], "3.0.0");
    let item = &doc["paths"]["/apis/telephony.agni.ai/v1alpha1/namespaces/{namespace}/phonenumbers/{name}"];
    assert_eq!(
        item["patch"]["x-kubernetes-group-version-kind"],
        json!({"group":"telephony.agni.ai","version":"v1alpha1","kind":"PhoneNumber"})
    );
    let params = item["patch"]["parameters"].as_array().unwrap();
    assert!(
        params
            .iter()
            .any(|p| p["name"] == "fieldValidation" && p["in"] == "query")
    );
    let s = &doc["components"]["schemas"]["ai.agni.telephony.v1alpha1.PhoneNumber"];
    assert_eq!(
        s["x-kubernetes-group-version-kind"][0]["kind"],
        "PhoneNumber"
    );
    assert!(s["properties"]["spec"]["properties"]["number"].is_object());
    assert!(s["properties"]["metadata"]["allOf"][0]["$ref"].is_string());
    assert!(
        doc["components"]["schemas"]["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"].is_object()
    );

    let idx = openapi_v3_index(&["v1".to_string(), "telephony.agni.ai/v1alpha1".to_string()]);
    assert!(
        idx["paths"]["api/v1"]["serverRelativeURL"]
            .as_str()
            .unwrap()
            .starts_with("/openapi/v3/api/v1?hash=")
    );
    assert!(
        idx["paths"]["apis/telephony.agni.ai/v1alpha1"]["serverRelativeURL"]
            .as_str()
            .unwrap()
            .starts_with("/openapi/v3/apis/telephony.agni.ai/v1alpha1?hash=")
    );
    let h1 = openapi_doc_hash(&doc);
    let mut kinds2 = kinds.clone();
    kinds2[0].plural = "pns".into();
    assert_ne!(
        h1,
        openapi_doc_hash(&openapi_v3_group_version_doc(
            "telephony.agni.ai/v1alpha1",
            &kinds2
        ))
    );
    let idx = openapi_v3_index_hashed(&[("telephony.agni.ai/v1alpha1".into(), h1.clone())]);
    assert_eq!(
        idx["paths"]["apis/telephony.agni.ai/v1alpha1"]["serverRelativeURL"],
        format!("/openapi/v3/apis/telephony.agni.ai/v1alpha1?hash={h1}")
    );
}

#[test]
fn cel_rules_skip_null_values() {
    let schema = json!({"type":"object","properties":{"spec":{"type":"object",
        "x-kubernetes-validations":[{"rule":"!has(self.a) || self.a.x > 0","message":"outer"}],
        "properties":{"a":{"type":"object","nullable":true,
            "x-kubernetes-validations":[{"rule":"self.x > 0","message":"inner"}],
            "properties":{"x":{"type":"integer"}}}}}}});
    let s = CompiledSchema::compile(&schema).unwrap();
    let mut obj = json!({"metadata":{"name":"x"},"spec":{"a":null}});
    s.admit(&mut obj, None, FieldValidation::Ignore).unwrap();
    assert_eq!(obj["spec"]["a"], Value::Null);
    let mut bad = json!({"metadata":{"name":"x"},"spec":{"a":{"x":0}}});
    let causes = s
        .admit(&mut bad, None, FieldValidation::Ignore)
        .unwrap_err();
    let mut m = messages(&causes);
    m.sort();
    assert_eq!(
        m,
        vec!["spec.a: Invalid value: inner", "spec: Invalid value: outer",]
    );
}
