//! `kubectl explain` on the real server shows the field documentation `crds/` carries, under
//! the kinds' names, plurals and short names, and lists the enum of `spec.mode`.

use crate::kubectl::{Kubectl, squash};
use crate::support::{admin_kubeconfig, client, crd_of, eventually, install_crds};

/// The description a CRD gives a field, e.g. `("PhoneNumber", "spec.number")`.
fn description(kind: &str, field: &str) -> String {
    let mut schema = crd_of(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone();
    for part in field.split('.') {
        schema = schema["properties"][part].clone();
    }
    schema["description"]
        .as_str()
        .unwrap_or_else(|| panic!("{kind}.{field} has no description in crds/"))
        .to_string()
}

#[tokio::test]
async fn kubectl_explain_shows_the_field_docs() {
    let Some(path) = admin_kubeconfig() else {
        return;
    };
    install_crds(&client(&path, None).await).await;
    let kubectl = Kubectl::new(&path);
    for (resource, kind, field, must) in [
        ("phonenumber", "PhoneNumber", "spec.number", &["E.164"][..]),
        ("pn", "PhoneNumber", "spec.accountRef", &[][..]),
        ("phonenumbers", "PhoneNumber", "status.phase", &[][..]),
        (
            "telephonyaccount",
            "TelephonyAccount",
            "spec.mode",
            &["BringYourOwn", "Managed", "Permanent"][..],
        ),
        (
            "tacct",
            "TelephonyAccount",
            "spec.credentialsSecretRef",
            &[][..],
        ),
    ] {
        let target = format!("{resource}.{field}");
        let doc = squash(&description(kind, field));
        // The server publishes a new CRD's OpenAPI asynchronously.
        let out = eventually(&format!("kubectl explain {target}"), || {
            let (ok, stdout, _) = kubectl.run(&["explain", &target]);
            let found = ok && squash(&stdout).contains(&doc);
            std::future::ready(found.then_some(stdout))
        })
        .await;
        assert!(out.contains(&format!("KIND:       {kind}")), "{out}");
        for m in must {
            assert!(
                out.contains(m),
                "kubectl explain {target} lacks {m:?}:\n{out}"
            );
        }
    }
    // The enum of spec.mode is listed.
    let out = kubectl.ok(&["explain", "telephonyaccount.spec.mode"]);
    let enum_block = out.split("ENUM:").nth(1).expect("an ENUM section");
    assert!(
        enum_block.contains("BringYourOwn") && enum_block.contains("Managed"),
        "{out}"
    );
}
