//! AvailablePhoneNumbers: countries, filters (area code, Contains wildcards, capabilities,
//! region/locality/postal code, NearNumber), the result cap, scarcity, owned numbers not offered.

mod common;
use common::{Env, assert_error};
use serde_json::Value;
use twilio_sim::{SearchOrder, SimConfig, SimSettings};

fn numbers(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["phone_number"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn countries_and_types() {
    let env = Env::new().await;
    let r = env
        .get(&format!(
            "/2010-04-01/Accounts/{}/AvailablePhoneNumbers.json",
            env.acct.sid
        ))
        .await;
    let isos: Vec<&str> = r.body["countries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["country_code"].as_str().unwrap())
        .collect();
    for iso in ["US", "CA", "GB", "DE", "AU"] {
        assert!(isos.contains(&iso), "{iso}");
    }
    let us = env
        .get(&format!(
            "/2010-04-01/Accounts/{}/AvailablePhoneNumbers/US.json",
            env.acct.sid
        ))
        .await;
    assert_eq!(us.body["country"], "United States");
    assert!(
        us.body["subresource_uris"]["local"]
            .as_str()
            .unwrap()
            .ends_with("/US/Local.json")
    );
    assert!(us.body["subresource_uris"].get("mobile").is_none());
    assert_error(
        &env.get(&format!(
            "/2010-04-01/Accounts/{}/AvailablePhoneNumbers/US/Mobile.json",
            env.acct.sid
        ))
        .await,
        404,
        20404,
    );
    assert_error(
        &env.get(&format!(
            "/2010-04-01/Accounts/{}/AvailablePhoneNumbers/ZZ/Local.json",
            env.acct.sid
        ))
        .await,
        404,
        20404,
    );
    // Realistic formats per country and type.
    let checks = [
        ("US/Local.json", r"^\+1[2-9]\d{2}[2-9]\d{6}$"),
        ("US/TollFree.json", r"^\+18(00|33|44|55|66|77|88)\d{7}$"),
        ("CA/Local.json", r"^\+1(416|647|613|604|514|403)\d{7}$"),
        ("GB/Local.json", r"^\+44(20\d{8}|1[2-4]1\d{7}|161\d{7})$"),
        ("GB/Mobile.json", r"^\+447\d{9}$"),
        ("DE/Local.json", r"^\+49(30|89|40|69)\d{8}$|^\+49221\d{7}$"),
        ("AU/Mobile.json", r"^\+614\d{8}$"),
        ("AU/TollFree.json", r"^\+611800\d{6}$"),
    ];
    for (q, pat) in checks {
        let re = regex::Regex::new(pat).unwrap();
        let items = env.search(q).await;
        assert_eq!(items.len(), 30, "{q}");
        for n in numbers(&items) {
            assert!(re.is_match(&n), "{q}: {n}");
        }
    }
    // Non-US numbers: friendly name is E.164, no US geo fields.
    let gb = env.search("GB/Local.json").await;
    assert_eq!(gb[0]["friendly_name"], gb[0]["phone_number"]);
    assert_eq!(gb[0]["region"], Value::Null);
    assert_eq!(gb[0]["iso_country"], "GB");
}

#[tokio::test]
async fn us_filters() {
    let env = Env::new().await;
    let items = env.search("US/Local.json?AreaCode=808").await;
    assert_eq!(items.len(), 30);
    for i in &items {
        assert!(i["phone_number"].as_str().unwrap().starts_with("+1808"));
        assert_eq!(i["region"], "HI");
        assert!(["Hilo", "Honolulu"].contains(&i["locality"].as_str().unwrap()));
        assert!(i["latitude"].as_str().unwrap().parse::<f64>().is_ok());
        assert_eq!(i["lata"], "834");
        // Capability keys as Twilio sends them here.
        assert!(
            i["capabilities"]["SMS"].is_boolean()
                && i["capabilities"]["MMS"].is_boolean()
                && i["capabilities"]["voice"] == true
        );
    }
    // Contains with wildcards (digits and keypad letters).
    let items = env.search("US/Local.json?Contains=415***7").await;
    assert!(!items.is_empty());
    let re = regex::Regex::new(r"415\d{3}7").unwrap();
    assert!(numbers(&items).iter().all(|n| re.is_match(n)));
    let items = env.search("US/Local.json?Contains=CAT").await; // 228
    assert!(!items.is_empty() && numbers(&items).iter().all(|n| n[1..].contains("228")));
    assert_error(
        &env.get(&format!(
            "/2010-04-01/Accounts/{}/AvailablePhoneNumbers/US/Local.json?Contains=4-1",
            env.acct.sid
        ))
        .await,
        400,
        20001,
    );
    // Capabilities: `true` requires the capability.
    let mms = env
        .search("US/Local.json?AreaCode=415&MmsEnabled=true&SmsEnabled=true")
        .await;
    assert_eq!(mms.len(), 30);
    assert!(
        mms.iter()
            .all(|i| i["capabilities"]["MMS"] == true && i["capabilities"]["SMS"] == true)
    );
    let all = env.search("US/Local.json?AreaCode=415").await;
    assert!(
        all.iter().any(|i| i["capabilities"]["MMS"] == false),
        "some numbers lack MMS, so the filter matters"
    );
    let tf_mms = env.search("US/TollFree.json?MmsEnabled=true").await;
    assert!(tf_mms.is_empty());
    // Region, locality, postal code, near number.
    let tx = env.search("US/Local.json?InRegion=TX").await;
    assert!(!tx.is_empty() && tx.iter().all(|i| i["region"] == "TX"));
    let oak = env.search("US/Local.json?InLocality=Oakland").await;
    assert!(!oak.is_empty() && oak.iter().all(|i| i["locality"] == "Oakland"));
    let zip = env.search("US/Local.json?InPostalCode=02139").await;
    assert!(
        !zip.is_empty()
            && zip
                .iter()
                .all(|i| i["postal_code"] == "02139" && i["locality"] == "Cambridge")
    );
    let near = env.search("US/Local.json?NearNumber=%2B13035550100").await;
    assert!(!near.is_empty() && numbers(&near).iter().all(|n| n.starts_with("+1303")));
    let ca = env.search("CA/Local.json?InRegion=BC").await;
    assert!(!ca.is_empty() && ca.iter().all(|i| i["locality"] == "Vancouver"));
    // Rotating order (default): repeated searches offer other numbers.
    assert_ne!(
        env.search("US/Local.json?AreaCode=808").await,
        env.search("US/Local.json?AreaCode=808").await
    );
}

#[tokio::test]
async fn fixed_order_is_repeatable_and_seeded() {
    let fixed = |seed| SimConfig {
        seed,
        settings: SimSettings {
            search_order: SearchOrder::Fixed,
            ..Default::default()
        },
        ..Default::default()
    };
    let a = Env::with(fixed(1)).await;
    let b = Env::with(fixed(1)).await;
    let c = Env::with(fixed(2)).await;
    let q = "US/Local.json?AreaCode=808";
    let first = a.search(q).await;
    assert_eq!(first, a.search(q).await);
    assert_eq!(first, b.search(q).await, "same seed, same inventory");
    assert_ne!(first, c.search(q).await, "another seed, another inventory");
}

#[tokio::test]
async fn owned_numbers_are_not_offered_and_cap_is_a_setting() {
    let settings = SimSettings {
        search_cap: 5,
        empty_area_codes: vec![533, 206],
        ..Default::default()
    };
    let env = Env::with(SimConfig {
        settings,
        ..Default::default()
    })
    .await;
    let first = env.search("US/Local.json?AreaCode=512").await;
    assert_eq!(first.len(), 5);
    let taken = first[0]["phone_number"].as_str().unwrap().to_string();
    let r = env
        .post(&env.numbers_path(&env.acct.sid), &[("PhoneNumber", &taken)])
        .await;
    assert_eq!(r.status, 201);
    let again = env.search("US/Local.json?AreaCode=512").await;
    assert_eq!(again.len(), 5);
    assert!(!numbers(&again).contains(&taken));
    // Also not offered to another account.
    let other = env.sim.add_account("o");
    let r = env
        .get_as(
            &other.sid,
            &other.auth_token,
            &format!(
                "/2010-04-01/Accounts/{}/AvailablePhoneNumbers/US/Local.json?AreaCode=512",
                other.sid
            ),
        )
        .await;
    assert!(!numbers(r.body["available_phone_numbers"].as_array().unwrap()).contains(&taken));
    // Scarcity: configured empty area codes.
    assert!(env.search("US/Local.json?AreaCode=206").await.is_empty());
    assert!(env.search("US/Local.json?AreaCode=533").await.is_empty());
    let wa = env.search("US/Local.json?InRegion=WA").await;
    assert!(
        wa.is_empty(),
        "206 is Washington's only area code here and it is empty: {wa:?}"
    );
    assert_error(
        &env.post(&env.numbers_path(&env.acct.sid), &[("AreaCode", "206")])
            .await,
        400,
        21452,
    );
    // PageSize cannot raise the cap.
    assert_eq!(env.search("US/Local.json?PageSize=100").await.len(), 5);
}
