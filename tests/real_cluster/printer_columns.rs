//! `kubectl get` shows the printer columns the CRDs declare (the wide ones with `-o wide`),
//! filled from status, under every name of the resource (short name, singular, plural, full).

use crate::kubectl::{Kubectl, table};
use crate::namespaces::Namespaces;
use crate::support::{
    account, admin_kubeconfig, api, client, crd_of, install_crds, object, phone_number,
    with_cleanup,
};
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;

/// The printer columns a CRD declares: (name, priority), in order.
fn printer_columns(kind: &str) -> Vec<(String, i64)> {
    crd_of(kind)["spec"]["versions"][0]["additionalPrinterColumns"]
        .as_array()
        .expect("additionalPrinterColumns")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().expect("name").to_string(),
                c["priority"].as_i64().unwrap_or(0),
            )
        })
        .collect()
}

#[tokio::test]
async fn kubectl_get_shows_the_printer_columns() {
    let Some(path) = admin_kubeconfig() else {
        return;
    };
    let admin = client(&path, None).await;
    install_crds(&admin).await;
    let mut namespaces = Namespaces::new(&admin);
    let ns = namespaces.create("rc-columns").await;
    let body = async {
        let tas = api(&admin, &ns, "TelephonyAccount");
        tas.create(&PostParams::default(), &object(account("main")))
            .await
            .expect("TelephonyAccount");
        tas.patch_status(
            "main",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {
                "mode": "BringYourOwn", "accountSid": "AC0123", "accountStatus": "active",
                "inventory": {"managed": 1, "unclaimed": 0},
                "credits": {"balance": "12.50"},
                "conditions": [{"type": "Ready", "status": "True", "reason": "Connected", "message": "ok",
                                "lastTransitionTime": "2026-01-01T00:00:00Z"}],
            }})),
        )
        .await
        .expect("TelephonyAccount status");
        let pns = api(&admin, &ns, "PhoneNumber");
        pns.create(
            &PostParams::default(),
            &object(phone_number("sales", "+15005550006")),
        )
        .await
        .expect("PhoneNumber");
        pns.patch_status(
            "sales",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {
                "phoneNumber": "+15005550006", "phase": "Active", "sid": "PN0123",
                "pricing": {"monthlyFee": "1.15", "currency": "USD", "source": "pricing-api"},
                "renewal": {"policy": "Managed", "nextRenewalAt": "2026-01-29T00:00:00Z"},
                "conditions": [{"type": "Ready", "status": "True", "reason": "Active", "message": "ok",
                                "lastTransitionTime": "2026-01-01T00:00:00Z"}],
            }})),
        )
        .await
        .expect("PhoneNumber status");

        let kubectl = Kubectl::new(&path);
        for (kind, names, values) in [
            (
                "PhoneNumber",
                &[
                    "pn",
                    "phonenumber",
                    "phonenumbers",
                    "phonenumbers.telephony.agni.ai",
                ][..],
                &[
                    ("NAME", "sales"),
                    ("NUMBER", "+15005550006"),
                    ("ACCOUNT", "main"),
                    ("PHASE", "Active"),
                    ("MONTHLY", "1.15"),
                    ("RENEWS", "2026-01-29T00:00:00Z"),
                    ("READY", "True"),
                    ("REASON", "Active"),
                    ("SID", "PN0123"),
                ][..],
            ),
            (
                "TelephonyAccount",
                &[
                    "tacct",
                    "telephonyaccount",
                    "telephonyaccounts",
                    "telephonyaccounts.telephony.agni.ai",
                ][..],
                &[
                    ("NAME", "main"),
                    ("MODE", "BringYourOwn"),
                    ("ACCOUNT SID", "AC0123"),
                    ("STATUS", "active"),
                    ("NUMBERS", "1"),
                    ("CREDITS", "12.50"),
                    ("READY", "True"),
                    ("REASON", "Connected"),
                ][..],
            ),
        ] {
            let columns = printer_columns(kind);
            let normal: Vec<String> = std::iter::once("NAME".to_string())
                .chain(
                    columns
                        .iter()
                        .filter(|(_, p)| *p == 0)
                        .map(|(n, _)| n.clone()),
                )
                .collect();
            let wide: Vec<String> = std::iter::once("NAME".to_string())
                .chain(columns.iter().map(|(n, _)| n.clone()))
                .collect();
            if kind == "PhoneNumber" {
                for c in [
                    "NUMBER", "ACCOUNT", "PHASE", "MONTHLY", "RENEWS", "READY", "AGE",
                ] {
                    assert!(
                        normal.iter().any(|n| n == c),
                        "PhoneNumber lacks column {c}"
                    );
                }
            }
            for name in names {
                for (extra, expected) in [(None, &normal), (Some("wide"), &wide)] {
                    let mut args = vec!["get", name, "-n", ns.as_str()];
                    if let Some(o) = extra {
                        args.extend(["-o", o]);
                    }
                    let out = kubectl.ok(&args);
                    let (header, rows) = table(&out);
                    assert_eq!(&header, expected, "kubectl {}:\n{out}", args.join(" "));
                    assert_eq!(rows.len(), 1, "{out}");
                    let row = &rows[0];
                    for (column, value) in values {
                        if let Some(i) = header.iter().position(|h| h == column) {
                            assert_eq!(
                                &row[i],
                                value,
                                "column {column} of kubectl {}:\n{out}",
                                args.join(" ")
                            );
                        }
                    }
                    let age = &row[header.iter().position(|h| h == "AGE").expect("AGE")];
                    assert!(
                        age.ends_with('s') || age.ends_with('m'),
                        "AGE {age:?}:\n{out}"
                    );
                }
            }
        }
    };
    with_cleanup(body, namespaces.cleanup()).await;
}
