//! `kubectl telephony` end to end against the sandbox stack (Kubernetes API emulator, Twilio
//! simulator and the operator on 127.0.0.1): `search` through the binary installed as
//! `kubectl-telephony` (a symlink, found by its name like kubectl finds plugins), `buy
//! --dry-run` and `buy` of a number the search printed, at the price it printed, `inventory`,
//! `plan` on a directory (checked against what an apply then does: bought at the price it said;
//! exit code 2 for an immutable change), `release`, a Managed search and buy (rate card prices,
//! the credits left); and the one-line errors.

#[path = "e2e/common.rs"]
mod common;
#[path = "plugin/support.rs"]
mod support;

use clap::Parser;
use common::*;
use std::path::Path;
use support::kubeconfig;
use telephony_operator::plugin::{self, PluginArgs};
use telephony_operator::sandbox::stack::StackOptions;

async fn run(kubeconfig: &Path, args: &[&str]) -> Result<String, plugin::PluginError> {
    let kc = kubeconfig.display().to_string();
    let argv = ["kubectl-telephony", "--kubeconfig", kc.as_str()]
        .into_iter()
        .chain(args.iter().copied());
    let args = PluginArgs::try_parse_from(argv).expect("arguments parse");
    let mut out = Vec::new();
    plugin::run(args, &mut out).await?;
    Ok(String::from_utf8(out).expect("utf-8"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_buy_and_inventory_against_the_sandbox() {
    let stack = emulator_stack(StackOptions::default()).await;
    let client = stack.client.clone();
    let ns = byo_namespace(&client, "plugin").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let server = stack.emulator.as_ref().expect("emulator").url().to_string();
    let kc = kubeconfig(dir.path(), &server, &ns);

    // search, through the binary installed under the plugin's name.
    let bin = dir.path().join("kubectl-telephony");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_telephony-operator"), &bin).expect("symlink");
    let output = tokio::process::Command::new(&bin)
        .args(["--kubeconfig", &kc.display().to_string()])
        .args([
            "search",
            "--account",
            "acct",
            "--country",
            "US",
            "--type",
            "Local",
        ])
        .args(["--area-code", "415", "--voice", "--limit", "3"])
        .output()
        .await
        .expect("kubectl-telephony runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("NUMBER")
            && lines[0].contains("MONTHLY")
            && lines[0].contains("OUT/MIN"),
        "{stdout}"
    );
    let rows: Vec<Vec<&str>> = lines[1..]
        .iter()
        .take_while(|l| l.starts_with('+'))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!((1..=3).contains(&rows.len()), "{stdout}");
    for row in &rows {
        assert!(row[0].starts_with("+1415"), "{stdout}");
        assert!(row.contains(&"USD"), "{stdout}");
    }
    assert!(stdout.contains("Twilio's Pricing API"), "{stdout}");
    // The NumberSearch was deleted after printing.
    let left =
        kube::Api::<telephony_operator::api::NumberSearchResource>::namespaced(client.clone(), &ns)
            .list(&Default::default())
            .await
            .expect("list");
    assert!(left.items.is_empty(), "the search is deleted");

    // buy --dry-run prints the manifest with the price as its guard; buy writes it.
    let number = rows[0][0].to_string();
    let monthly = rows[0]
        .iter()
        .find(|c| c.parse::<rust_decimal::Decimal>().is_ok() && c.contains('.'))
        .expect("a monthly price")
        .to_string();
    let dry = run(
        &kc,
        &[
            "buy",
            &number,
            "--account",
            "acct",
            "--name",
            "sales",
            "--dry-run",
        ],
    )
    .await
    .expect("buy --dry-run");
    assert!(
        dry.contains(&format!("number: '{number}'"))
            || dry.contains(&format!("number: \"{number}\""))
            || dry.contains(&format!("number: {number}")),
        "{dry}"
    );
    assert!(dry.contains("kind: PhoneNumber"), "{dry}");
    assert!(dry.contains(&format!("{monthly} USD a month")), "{dry}");
    let pns = kube::Api::<telephony_operator::api::PhoneNumber>::namespaced(client.clone(), &ns);
    assert!(
        pns.get_opt("sales").await.expect("get").is_none(),
        "dry run writes nothing"
    );
    let bought = run(
        &kc,
        &["buy", &number, "--account", "acct", "--name", "sales"],
    )
    .await
    .expect("buy");
    assert!(bought.starts_with("phonenumber/sales created"), "{bought}");
    let pn = wait_ready(&client, &ns, "sales").await;
    let status = pn.status.expect("status");
    assert_eq!(status.phone_number.as_deref(), Some(number.as_str()));
    assert_eq!(
        status.pricing.map(|p| p.monthly_fee).as_deref(),
        Some(monthly.as_str()),
        "bought at the price the search printed"
    );

    // inventory lists it with the account's monthly total.
    let inventory = run(&kc, &["inventory"]).await.expect("inventory");
    assert!(
        inventory.contains("ACCOUNT acct (BringYourOwn)"),
        "{inventory}"
    );
    assert!(
        inventory.contains(&number) && inventory.contains("Active"),
        "{inventory}"
    );
    assert!(inventory.contains("monthly total:"), "{inventory}");

    // plan on a directory: a reconfiguration and a search to buy, at the price a number of the
    // same country and type pays; then an apply does what it said, at that price.
    let manifests = dir.path().join("numbers");
    std::fs::create_dir_all(manifests.join("more")).expect("manifest dir");
    std::fs::write(
        manifests.join("sales.yaml"),
        format!(
            "apiVersion: telephony.agni.ai/v1alpha1\nkind: PhoneNumber\nmetadata: {{name: sales}}\n\
             spec: {{accountRef: {{name: acct}}, number: '{number}', maxMonthlyPrice: '{monthly}',\n\
             voice: {{url: 'https://example.test/voice'}}}}\n"
        ),
    )
    .expect("sales.yaml");
    let support = serde_json::json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
        "metadata": {"name": "support"},
        "spec": {"accountRef": {"name": "acct"}, "search": {"country": "US", "type": "Local", "areaCode": 212}}
    });
    std::fs::write(
        manifests.join("more/support.json"),
        serde_json::to_string(&support).expect("json"),
    )
    .expect("support.json");
    let dir_arg = manifests.display().to_string();
    let planned = run(&kc, &["plan", "-f", &dir_arg, "-o", "json"])
        .await
        .expect("nothing refused");
    let planned: serde_json::Value = serde_json::from_str(&planned).expect("plan json");
    let change = |name: &str| {
        planned["changes"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["name"] == name).cloned())
            .unwrap_or_else(|| panic!("{name} in {planned:#}"))
    };
    assert_eq!(change("sales")["action"], "reconfigure", "{planned:#}");
    assert_eq!(change("sales")["note"], "spec.voice", "{planned:#}");
    assert_eq!(change("support")["action"], "buy", "{planned:#}");
    assert_eq!(
        change("support")["monthly"],
        monthly.as_str(),
        "{planned:#}"
    );
    assert_eq!(planned["refused"], 0);
    let mut support = support;
    support["metadata"]["namespace"] = serde_json::json!(ns);
    kube::Api::<telephony_operator::api::PhoneNumber>::namespaced(client.clone(), &ns)
        .patch(
            "support",
            &kube::api::PatchParams::apply("plan-test"),
            &kube::api::Patch::Apply(support),
        )
        .await
        .expect("support applied");
    let bought = wait_ready(&client, &ns, "support").await;
    assert_eq!(
        bought.status.and_then(|s| s.pricing).map(|p| p.monthly_fee),
        Some(monthly.clone()),
        "bought at the price the plan said"
    );
    // An immutable change is refused (exit code 2 from the binary).
    std::fs::write(
        manifests.join("sales.yaml"),
        "apiVersion: telephony.agni.ai/v1alpha1\nkind: PhoneNumber\nmetadata: {name: sales}\n\
         spec: {accountRef: {name: acct}, number: '+12125550100'}\n",
    )
    .expect("sales.yaml");
    let output = tokio::process::Command::new(&bin)
        .args(["--kubeconfig", &kc.display().to_string()])
        .args(["plan", "-f", &dir_arg, "-o", "markdown"])
        .output()
        .await
        .expect("kubectl-telephony runs");
    let md = String::from_utf8_lossy(&output.stdout).to_string();
    assert_eq!(output.status.code(), Some(2), "{md}");
    assert!(
        md.contains("| ! | refuse |") && md.contains("immutable"),
        "{md}"
    );
    assert!(
        md.contains("1 unchanged, **1 refused**"),
        "support is as applied: {md}"
    );

    // release shows what stops being billed, then deletes the PhoneNumber (its number held by the
    // account for the quarantine window).
    let shown = run(&kc, &["release", "sales", "--dry-run"])
        .await
        .expect("release --dry-run");
    assert!(
        shown.contains(&format!("{monthly} USD a month stops being billed")),
        "{shown}"
    );
    assert!(
        pns.get_opt("sales").await.expect("get").is_some(),
        "dry run deletes nothing"
    );
    let released = run(&kc, &["release", "sales"]).await.expect("release");
    assert!(released.contains("phonenumber/sales deleted"), "{released}");
    wait_gone(&client, &ns, "sales").await;
    // The operator holds the number in its account for the quarantine window (a rename does
    // not lose it), and the plugin says until when.
    assert!(
        released.contains(&format!("{number} is held by TelephonyAccount")),
        "{released}"
    );
    assert!(
        stack
            .sim
            .owned_numbers(telephony_operator::sandbox::examples::BYO_ACCOUNT_SID)
            .iter()
            .any(|o| o.phone_number == number),
        "held, not released yet"
    );

    // Managed: priced from the platform's rate card, and buy shows the credits left after it.
    apply(&client, &ns, serde_json::json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount", "metadata": {"name": "managed"},
        "spec": {"mode": "Managed", "friendlyName": "plugin managed", "managed": {
            "termsAccepted": true, "termsVersion": telephony_operator::DEFAULT_TERMS_VERSION}}
    }))
    .await;
    grant_credits(&client, &ns, "managed", "10.00").await;
    let accounts =
        kube::Api::<telephony_operator::api::TelephonyAccount>::namespaced(client.clone(), &ns);
    wait_for(
        "managed account with its credits",
        CONVERGE,
        async || accounts.get_opt("managed").await.ok().flatten(),
        |a| {
            account_ready_of(a).is_some_and(|(s, _)| s == "True")
                && a.status
                    .as_ref()
                    .and_then(|s| s.credits.as_ref())
                    .is_some_and(|c| c.balance == "10.00")
        },
    )
    .await;
    let card = telephony_operator::billing::RateCard::default()
        .price_for("US", telephony_operator::api::NumberType::Local)
        .expect("US Local on the built-in card");
    let fee = telephony_operator::controller::conditions::money(card.monthly_fee);
    let managed = run(
        &kc,
        &[
            "search",
            "--account",
            "managed",
            "--area-code",
            "212",
            "--limit",
            "2",
        ],
    )
    .await
    .expect("managed search");
    assert!(
        managed.contains("the platform's rate card (Managed)"),
        "{managed}"
    );
    let managed_number = managed
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .expect("a candidate")
        .to_string();
    assert!(
        managed.lines().nth(1).is_some_and(|l| l.contains(&fee)),
        "{managed}"
    );
    let dry = run(
        &kc,
        &[
            "buy",
            &managed_number,
            "--account",
            "managed",
            "--name",
            "m1",
            "--dry-run",
        ],
    )
    .await
    .expect("managed buy --dry-run");
    let left = telephony_operator::controller::conditions::money(
        rust_decimal::Decimal::new(1000, 2) - card.monthly_fee,
    );
    assert!(
        dry.contains(&format!("credits left after it: {left} USD")),
        "{dry}"
    );

    // plan prices Managed numbers from the card the operator runs with (--rate-card).
    // The first monthlyFee of the built-in card is US Local's.
    let custom = telephony_operator::billing::DEFAULT_RATE_CARD_YAML.replacen(
        &format!("monthlyFee: \"{fee}\""),
        "monthlyFee: \"7.35\"",
        1,
    );
    assert_ne!(custom, telephony_operator::billing::DEFAULT_RATE_CARD_YAML);
    let card_path = dir.path().join("rate-card.yaml");
    std::fs::write(&card_path, custom).expect("card written");
    let managed_dir = dir.path().join("managed-manifests");
    std::fs::create_dir_all(&managed_dir).expect("dir");
    std::fs::write(
        managed_dir.join("m2.yaml"),
        format!(
            "apiVersion: telephony.agni.ai/v1alpha1\nkind: PhoneNumber\n\
             metadata: {{name: m2, namespace: {ns}}}\n\
             spec: {{accountRef: {{name: managed}}, search: {{country: US, type: Local, areaCode: 212}}}}\n"
        ),
    )
    .expect("manifest written");
    let (md, card_arg) = (
        managed_dir.display().to_string(),
        card_path.display().to_string(),
    );
    let priced = run(
        &kc,
        &[
            "plan",
            "-f",
            &md,
            "--no-server-dry-run",
            "--rate-card",
            &card_arg,
        ],
    )
    .await
    .expect("plan with the operator's card");
    assert!(
        priced.contains("7.35 USD/month") && priced.contains("the rate card "),
        "{priced}"
    );
    let unreadable = run(
        &kc,
        &["plan", "-f", &md, "--rate-card", "/nonexistent/card.yaml"],
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(unreadable.contains("--rate-card"), "{unreadable}");

    // Errors are one line a person can act on.
    let no_account = run(&kc, &["search", "--account", "nope"])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        no_account.contains("no TelephonyAccount nope in namespace"),
        "{no_account}"
    );
    let not_e164 = run(&kc, &["buy", "12345", "--account", "acct", "--name", "x"])
        .await
        .unwrap_err()
        .to_string();
    assert!(not_e164.contains("not an E.164 number"), "{not_e164}");
    let no_context = run(&dir.path().join("absent"), &["inventory"])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        no_context.contains("no usable kubeconfig context"),
        "{no_context}"
    );
    for e in [&no_account, &not_e164, &no_context, &unreadable] {
        assert_eq!(e.lines().count(), 1, "{e}");
    }
    stack.shutdown().await;
}
