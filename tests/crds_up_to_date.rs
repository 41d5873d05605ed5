//! `crds/` must hold exactly what `telephony-operator crd` prints (the Rust types are the only
//! source of the schema). Regenerate with: `cargo run -- crd > crds/telephony.agni.ai.yaml`
//! (or `UPDATE_CRDS=1 cargo test --test crds_up_to_date`).

#[test]
fn crds_directory_matches_the_rust_types() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds/telephony.agni.ai.yaml");
    if std::env::var_os("UPDATE_CRDS").is_some() {
        let yaml = telephony_operator::api::crds_yaml().expect("CRDs render");
        std::fs::write(&path, yaml).expect("crds/ is writable");
    }
    let on_disk = std::fs::read_to_string(&path).expect("crds/telephony.agni.ai.yaml exists");
    let generated = telephony_operator::api::crds_yaml().expect("CRDs render");
    assert!(
        on_disk == generated,
        "crds/telephony.agni.ai.yaml is stale: run `cargo run -- crd > crds/telephony.agni.ai.yaml`"
    );
}

#[test]
fn crds_carry_the_printer_columns_and_short_names() {
    let yaml = telephony_operator::api::crds_yaml().unwrap();
    for column in [
        "NUMBER", "ACCOUNT", "PHASE", "MONTHLY", "RENEWS", "READY", "AGE",
    ] {
        assert!(
            yaml.contains(&format!("name: {column}")),
            "missing printer column {column}"
        );
    }
    assert!(yaml.contains("- pn") && yaml.contains("- tacct"));
    assert!(yaml.contains("oldSelf"), "immutability rules present");
    assert!(yaml.contains("subresources"), "status subresource");
}
