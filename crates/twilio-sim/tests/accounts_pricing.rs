//! Accounts (create with default name, list with filters and paging, update), balance, and
//! Pricing v1/v2.

mod common;
use common::{Env, assert_error};
use serde_json::Value;
use twilio_sim::{SimConfig, SimSettings};

#[tokio::test]
async fn subaccounts_create_list_update() {
    let env = Env::new().await;
    let r = env.post("/2010-04-01/Accounts.json", &[]).await;
    assert_eq!(r.status, 201);
    assert!(
        r.body["friendly_name"]
            .as_str()
            .unwrap()
            .starts_with("SubAccount Created at 20")
    );
    assert_eq!(r.body["status"], "active");
    assert_eq!(r.body["type"], "Full");
    for name in ["a", "b", "b", "c"] {
        assert_eq!(
            env.post("/2010-04-01/Accounts.json", &[("FriendlyName", name)])
                .await
                .status,
            201
        );
    }
    // Paging over self + 5 subaccounts, 2 per page.
    let mut next = Some("/2010-04-01/Accounts.json?PageSize=2".to_string());
    let mut seen = Vec::new();
    let mut pages = 0;
    while let Some(u) = next {
        let p = env.get(&u).await;
        seen.extend(
            p.body["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["sid"].as_str().unwrap().to_string()),
        );
        next = p.body["next_page_uri"].as_str().map(str::to_string);
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 6);
    assert!(seen.contains(&env.acct.sid));
    let subs = env.sim.subaccounts(&env.acct.sid);
    assert_eq!(subs.len(), 5);
    let bs = env.get("/2010-04-01/Accounts.json?FriendlyName=b").await;
    assert_eq!(bs.body["accounts"].as_array().unwrap().len(), 2);
    assert!(
        bs.body["first_page_uri"]
            .as_str()
            .unwrap()
            .contains("FriendlyName=b")
    );
    let c_sid = subs.iter().find(|s| s.1 == "c").unwrap().0.clone();
    let upd = env
        .post(
            &format!("/2010-04-01/Accounts/{c_sid}.json"),
            &[("FriendlyName", "c2"), ("Status", "suspended")],
        )
        .await;
    assert_eq!(upd.body["friendly_name"], "c2");
    let suspended = env.get("/2010-04-01/Accounts.json?Status=suspended").await;
    let list = suspended.body["accounts"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["sid"], c_sid.as_str());
    assert_error(
        &env.get("/2010-04-01/Accounts.json?Status=weird").await,
        400,
        20001,
    );
    assert!(
        env.sim
            .subaccounts(&env.acct.sid)
            .iter()
            .any(|s| s.0 == c_sid && s.2 == "suspended")
    );
}

#[tokio::test]
async fn balance_main_and_subaccount() {
    let env = Env::new().await;
    let b = env
        .get(&format!(
            "/2010-04-01/Accounts/{}/Balance.json",
            env.acct.sid
        ))
        .await;
    assert_eq!(
        b.body,
        serde_json::json!({"account_sid": env.acct.sid, "balance": "20.00", "currency": "USD"})
    );
    let sub = env.post("/2010-04-01/Accounts.json", &[]).await;
    let sub_sid = sub.body["sid"].as_str().unwrap();
    env.post(&env.numbers_path(sub_sid), &[("AreaCode", "415")])
        .await;
    // Purchases in a subaccount are charged to the parent; the subaccount reads the parent's.
    let b = env
        .get(&format!("/2010-04-01/Accounts/{sub_sid}/Balance.json"))
        .await;
    assert_eq!(b.body["balance"], "18.85");
    assert_eq!(b.body["account_sid"], sub_sid);

    let settings = SimSettings {
        subaccount_balance_from_parent: false,
        ..Default::default()
    };
    let env = Env::with(SimConfig {
        settings,
        ..Default::default()
    })
    .await;
    let sub = env.post("/2010-04-01/Accounts.json", &[]).await;
    let sub_sid = sub.body["sid"].as_str().unwrap();
    assert_error(
        &env.get(&format!("/2010-04-01/Accounts/{sub_sid}/Balance.json"))
            .await,
        404,
        20404,
    );
}

#[tokio::test]
async fn pricing_v1_and_v2() {
    let env = Env::new().await;
    let list = env.get("/v1/PhoneNumbers/Countries").await;
    assert_eq!(list.body["meta"]["key"], "countries");
    assert_eq!(list.body["meta"]["page_size"], 50);
    assert!(
        list.body["countries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["iso_country"] == "US")
    );
    let paged = env.get("/v1/PhoneNumbers/Countries?PageSize=2").await;
    assert_eq!(paged.body["countries"].as_array().unwrap().len(), 2);
    let next = paged.body["meta"]["next_page_url"].as_str().unwrap();
    assert!(
        next.starts_with("https://pricing.twilio.com/v1/PhoneNumbers/Countries?PageSize=2&Page=1")
    );
    let p2 = env
        .get(next.trim_start_matches("https://pricing.twilio.com"))
        .await;
    assert_eq!(p2.body["meta"]["page"], 1);

    let us = env.get("/v1/PhoneNumbers/Countries/US").await;
    let price = |t: &str| {
        us.body["phone_number_prices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["number_type"] == t)
            .unwrap()["current_price"]
            .clone()
    };
    assert_eq!(price("local"), "1.15");
    assert_eq!(price("toll free"), "2.15");
    assert_eq!(us.body["price_unit"], "USD");
    assert_error(&env.get("/v1/PhoneNumbers/Countries/ZZ").await, 404, 20404);

    let v = env.get("/v2/Voice/Countries/US").await;
    let inbound = v.body["inbound_call_prices"].as_array().unwrap();
    assert!(
        inbound
            .iter()
            .any(|p| p["number_type"] == "local" && p["current_price"] == "0.0085")
    );
    assert!(
        inbound
            .iter()
            .any(|p| p["number_type"] == "toll free" && p["current_price"] == "0.022")
    );
    assert_eq!(
        v.body["outbound_prefix_prices"][0]["current_price"],
        "0.0140"
    );

    let n = env
        .get("/v2/Voice/Numbers/%2B14155550100?OriginationNumber=%2B14155550199")
        .await;
    assert_eq!(n.status, 200, "{}", n.body);
    assert_eq!(n.body["destination_number"], "+14155550100");
    assert_eq!(n.body["origination_number"], "+14155550199");
    assert_eq!(n.body["outbound_call_prices"][0]["current_price"], "0.0140");
    assert_eq!(n.body["inbound_call_price"]["current_price"], Value::Null);
    let ak = env.get("/v2/Voice/Numbers/%2B19075550100").await;
    assert_eq!(
        ak.body["outbound_call_prices"][0]["current_price"],
        "0.0900"
    );
    // A number of this account: inbound price known.
    let mine = env.buy_in("212").await;
    let enc = mine["phone_number"].as_str().unwrap().replace('+', "%2B");
    let n = env.get(&format!("/v2/Voice/Numbers/{enc}")).await;
    assert_eq!(n.body["inbound_call_price"]["current_price"], "0.0085");
    assert_error(&env.get("/v2/Voice/Numbers/12").await, 400, 21421);
    // Prices are a setting.
    let mut settings = SimSettings::default();
    settings.prices[0].monthly[0].1 = "1.00".parse().unwrap();
    let env = Env::with(SimConfig {
        settings,
        ..Default::default()
    })
    .await;
    let us = env.get("/v1/PhoneNumbers/Countries/US").await;
    assert_eq!(us.body["phone_number_prices"][0]["current_price"], "1.00");
}
