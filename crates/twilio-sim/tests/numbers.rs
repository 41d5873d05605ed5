//! IncomingPhoneNumbers: purchase rules and errors, list filters and paging, partial update,
//! release and quarantine, out-of-band changes.

mod common;
use common::{Env, assert_error};
use serde_json::Value;
use std::collections::HashSet;
use twilio_sim::{OwnedNumberRebuy, SimConfig, SimSettings};

#[tokio::test]
async fn purchase_by_number_and_by_area_code() {
    let env = Env::new().await;
    let found = env.search("US/Local.json?AreaCode=510").await;
    let e164 = found[0]["phone_number"].as_str().unwrap().to_string();
    let r = env
        .post(
            &env.numbers_path(&env.acct.sid),
            &[
                ("PhoneNumber", &e164),
                ("FriendlyName", "support line"),
                ("VoiceUrl", "https://example.com/voice"),
            ],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let b = &r.body;
    assert!(b["sid"].as_str().unwrap().starts_with("PN"));
    assert_eq!(b["phone_number"], e164.as_str());
    assert_eq!(b["friendly_name"], "support line");
    assert_eq!(b["voice_url"], "https://example.com/voice");
    assert_eq!(b["voice_method"], "POST");
    assert_eq!(b["status"], "in-use");
    assert_eq!(b["type"], "local");
    assert_eq!(b["capabilities"]["voice"], true);
    assert!(b["date_created"].as_str().unwrap().ends_with(" +0000"));
    assert_eq!(
        b["uri"],
        format!(
            "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{}.json",
            env.acct.sid,
            b["sid"].as_str().unwrap()
        )
        .as_str()
    );
    let owned = env.sim.owned_numbers(&env.acct.sid);
    assert_eq!(owned.len(), 1);
    assert_eq!(owned[0].voice_url, "https://example.com/voice");
    assert_eq!(env.sim.purchase_log().len(), 1);
    // Charged to the balance at purchase (20.00 - 1.15).
    assert_eq!(
        env.get(&format!(
            "/2010-04-01/Accounts/{}/Balance.json",
            env.acct.sid
        ))
        .await
        .body["balance"],
        "18.85"
    );

    let by_area = env.buy_in("212");
    let by_area = by_area.await;
    assert!(
        by_area["phone_number"]
            .as_str()
            .unwrap()
            .starts_with("+1212")
    );
    assert_eq!(
        by_area["friendly_name"].as_str().unwrap()[..5].to_string(),
        "(212)"
    );
    // Typed sub-resource: toll-free number.
    let tf = env.search("US/TollFree.json").await;
    let tf_num = tf[0]["phone_number"].as_str().unwrap();
    let r = env
        .post(
            &format!(
                "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/TollFree.json",
                env.acct.sid
            ),
            &[("PhoneNumber", tf_num)],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // The typed sub-resource's schema has no `type`; the generic resource shows it.
    assert_eq!(r.body.get("type"), None);
    let fetched = env
        .get(&format!(
            "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{}.json",
            env.acct.sid,
            r.body["sid"].as_str().unwrap()
        ))
        .await;
    assert_eq!(fetched.body["type"], "toll-free");
    // A local number through TollFree.json is refused.
    let local = env.search("US/Local.json?AreaCode=303").await;
    let r = env
        .post(
            &format!(
                "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/TollFree.json",
                env.acct.sid
            ),
            &[("PhoneNumber", local[0]["phone_number"].as_str().unwrap())],
        )
        .await;
    assert_error(&r, 400, 21422);
    assert_eq!(env.sim.counters().purchases, 3);
}

#[tokio::test]
async fn purchase_errors() {
    let env = Env::new().await;
    let path = env.numbers_path(&env.acct.sid);
    assert_error(
        &env.post(&path, &[("PhoneNumber", "+1415")]).await,
        400,
        21421,
    );
    assert_error(
        &env.post(&path, &[("PhoneNumber", "+10155550100")]).await,
        400,
        21421,
    );
    assert_error(
        &env.post(&path, &[("PhoneNumber", " 14155550100")]).await,
        400,
        21421,
    );
    assert_error(
        &env.post(&path, &[("PhoneNumber", "+15005550000")]).await,
        400,
        21422,
    );
    assert_error(&env.post(&path, &[("AreaCode", "533")]).await, 400, 21452);
    assert_error(&env.post(&path, &[("AreaCode", "099")]).await, 400, 21451);
    assert_error(&env.post(&path, &[("AreaCode", "999")]).await, 400, 21452);
    assert_error(&env.post(&path, &[]).await, 400, 21450);
    let local = format!(
        "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/Local.json",
        env.acct.sid
    );
    assert_error(&env.post(&local, &[("AreaCode", "415")]).await, 400, 21457);
    // Germany needs a bundle.
    let de = env.search("DE/Local.json").await;
    let de_num = de[0]["phone_number"].as_str().unwrap();
    assert_error(
        &env.post(&path, &[("PhoneNumber", de_num)]).await,
        400,
        21649,
    );
    let bundle = twilio_sim::random_sid("BU");
    let ok = env
        .post(&path, &[("PhoneNumber", de_num), ("BundleSid", &bundle)])
        .await;
    assert_eq!(ok.status, 201);
    assert_eq!(ok.body["bundle_sid"], bundle.as_str());
    assert_eq!(ok.body["address_requirements"], "local");
    // Invalid optional fields are rejected before anything is bought.
    let us = env.search("US/Local.json?AreaCode=206").await;
    let n = us[0]["phone_number"].as_str().unwrap();
    assert_eq!(
        env.post(&path, &[("PhoneNumber", n), ("VoiceMethod", "PUT")])
            .await
            .status,
        400
    );
    assert_eq!(
        env.post(&path, &[("PhoneNumber", n), ("VoiceUrl", "not a url")])
            .await
            .status,
        400
    );
    assert_eq!(env.sim.owned_numbers(&env.acct.sid).len(), 1);
    // Owned by another account: unavailable.
    let other = env.sim.add_account("Other");
    let r = env
        .post_as(
            &other.sid,
            &other.auth_token,
            &env.numbers_path(&other.sid),
            &[("PhoneNumber", de_num), ("BundleSid", &bundle)],
        )
        .await;
    assert_error(&r, 400, 21422);
    // Re-buying an owned number: 21422 by default.
    assert_error(
        &env.post(&path, &[("PhoneNumber", de_num), ("BundleSid", &bundle)])
            .await,
        400,
        21422,
    );
    assert_eq!(env.sim.purchase_log().len(), 1);
}

#[tokio::test]
async fn rebuy_acts_as_update_when_configured() {
    let settings = SimSettings {
        owned_number_rebuy: OwnedNumberRebuy::ActAsUpdate,
        ..Default::default()
    };
    let env = Env::with(SimConfig {
        settings,
        ..Default::default()
    })
    .await;
    let first = env.buy_in("415").await;
    let n = first["phone_number"].as_str().unwrap();
    let again = env
        .post(
            &env.numbers_path(&env.acct.sid),
            &[("PhoneNumber", n), ("FriendlyName", "renamed")],
        )
        .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body["sid"], first["sid"]);
    assert_eq!(again.body["friendly_name"], "renamed");
    assert_eq!(env.sim.purchase_log().len(), 1);
}

async fn collect_pages(env: &Env, first: &str) -> (Vec<Value>, Vec<Value>) {
    let mut items = Vec::new();
    let mut pages = Vec::new();
    let mut next = Some(first.to_string());
    while let Some(uri) = next {
        let r = env.get(&uri).await;
        assert_eq!(r.status, 200, "{}", r.body);
        items.extend(
            r.body["incoming_phone_numbers"]
                .as_array()
                .unwrap()
                .iter()
                .cloned(),
        );
        next = r.body["next_page_uri"].as_str().map(str::to_string);
        pages.push(r.body);
        assert!(pages.len() < 100);
    }
    (items, pages)
}

#[tokio::test]
async fn list_paging_follows_next_page_uri() {
    let env = Env::new().await;
    for _ in 0..7 {
        env.buy_in("617").await;
    }
    let path = env.numbers_path(&env.acct.sid);
    let (items, pages) = collect_pages(&env, &format!("{path}?PageSize=3")).await;
    assert_eq!(pages.len(), 3);
    assert_eq!(items.len(), 7);
    let sids: HashSet<&str> = items.iter().map(|i| i["sid"].as_str().unwrap()).collect();
    assert_eq!(sids.len(), 7);
    let owned: HashSet<String> = env
        .sim
        .owned_numbers(&env.acct.sid)
        .into_iter()
        .map(|n| n.sid)
        .collect();
    assert_eq!(sids, owned.iter().map(String::as_str).collect());
    assert_eq!(pages[0]["page"], 0);
    assert_eq!(pages[0]["page_size"], 3);
    assert_eq!(pages[0]["start"], 0);
    assert_eq!(pages[0]["end"], 2);
    assert_eq!(pages[0]["previous_page_uri"], Value::Null);
    assert_eq!(
        pages[0]["first_page_uri"],
        format!("{path}?PageSize=3&Page=0").as_str()
    );
    assert_eq!(pages[1]["page"], 1);
    assert_eq!(pages[1]["start"], 3);
    assert!(pages[1]["uri"].as_str().unwrap().contains("PageToken=PA"));
    assert!(
        pages[1]["previous_page_uri"]
            .as_str()
            .unwrap()
            .contains("PageToken=PB")
    );
    assert_eq!(pages[2]["start"], 6);
    assert_eq!(pages[2]["end"], 6);
    assert_eq!(pages[2]["next_page_uri"], Value::Null);
    // Following previous_page_uri from the last page gives the middle page back.
    let prev = env
        .get(pages[2]["previous_page_uri"].as_str().unwrap())
        .await;
    assert_eq!(
        prev.body["incoming_phone_numbers"],
        pages[1]["incoming_phone_numbers"]
    );
    // Filters are repeated in the paging URIs.
    let (_, fp) = collect_pages(&env, &format!("{path}?PhoneNumber=1617&PageSize=2")).await;
    assert!(
        fp[0]["next_page_uri"]
            .as_str()
            .unwrap()
            .contains("PhoneNumber=1617")
    );
    // Default size, bounds.
    let all = env.get(&path).await;
    assert_eq!(all.body["page_size"], 50);
    assert_eq!(
        all.body["incoming_phone_numbers"].as_array().unwrap().len(),
        7
    );
    assert_error(&env.get(&format!("{path}?PageSize=1001")).await, 400, 20007);
    assert_error(&env.get(&format!("{path}?PageSize=0")).await, 400, 20007);
    assert_eq!(env.get(&format!("{path}?PageSize=1000")).await.status, 200);
    // Empty list.
    let other = env.sim.add_account("Empty");
    let e = env
        .get_as(&other.sid, &other.auth_token, &env.numbers_path(&other.sid))
        .await;
    assert_eq!(e.body["start"], 0);
    assert_eq!(e.body["end"], 0);
    assert_eq!(e.body["next_page_uri"], Value::Null);
}

#[tokio::test]
async fn list_filters() {
    let env = Env::new().await;
    let a = env.buy_in("415").await;
    let b = env.buy_in("212").await;
    let path = env.numbers_path(&env.acct.sid);
    let a_num = a["phone_number"].as_str().unwrap();
    let one = |r: &common::Resp| {
        r.body["incoming_phone_numbers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["phone_number"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let exact = env
        .get(&format!("{path}?PhoneNumber={}", a_num.replace('+', "%2B")))
        .await;
    assert_eq!(one(&exact), vec![a_num.to_string()]);
    let partial = env.get(&format!("{path}?PhoneNumber=212")).await;
    assert_eq!(
        one(&partial),
        vec![b["phone_number"].as_str().unwrap().to_string()]
    );
    let wildcard = env.get(&format!("{path}?PhoneNumber=4*5")).await;
    assert!(one(&wildcard).contains(&a_num.to_string()));
    let by_name = env
        .get(&format!(
            "{path}?FriendlyName={}",
            urlencode(a["friendly_name"].as_str().unwrap())
        ))
        .await;
    assert_eq!(one(&by_name), vec![a_num.to_string()]);
    let none = env.get(&format!("{path}?FriendlyName=nobody")).await;
    assert!(one(&none).is_empty());
    let typed = env
        .get(&format!(
            "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/TollFree.json",
            env.acct.sid
        ))
        .await;
    assert!(one(&typed).is_empty());
    let local = env
        .get(&format!(
            "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/Local.json",
            env.acct.sid
        ))
        .await;
    assert_eq!(one(&local).len(), 2);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn partial_update() {
    let env = Env::new().await;
    let n = env.buy_in("303").await;
    let path = format!(
        "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{}.json",
        env.acct.sid,
        n["sid"].as_str().unwrap()
    );
    let r = env
        .post(
            &path,
            &[
                ("FriendlyName", "front desk"),
                ("VoiceUrl", "https://a.example/v"),
                ("TrunkSid", &twilio_sim::random_sid("TK")),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    let r = env
        .post(
            &path,
            &[("SmsUrl", "https://a.example/s"), ("SmsMethod", "get")],
        )
        .await;
    assert_eq!(r.body["friendly_name"], "front desk");
    assert_eq!(r.body["voice_url"], "https://a.example/v");
    assert_eq!(r.body["sms_url"], "https://a.example/s");
    assert_eq!(r.body["sms_method"], "GET");
    assert!(r.body["trunk_sid"].is_string());
    // Setting an application clears the trunk; an empty value clears a URL.
    let app = twilio_sim::random_sid("AP");
    let r = env
        .post(&path, &[("VoiceApplicationSid", &app), ("VoiceUrl", "")])
        .await;
    assert_eq!(r.body["voice_application_sid"], app.as_str());
    assert_eq!(r.body["trunk_sid"], Value::Null);
    assert_eq!(r.body["voice_url"], Value::Null);
    assert_eq!(r.body["sms_url"], "https://a.example/s");
    let fetched = env.get(&path).await;
    assert_eq!(fetched.body, r.body);
    let owned = &env.sim.owned_numbers(&env.acct.sid)[0];
    assert_eq!(owned.voice_url, "");
    assert_eq!(owned.friendly_name, "front desk");
    // Moving to a subaccount with parent credentials.
    let sub = env.post("/2010-04-01/Accounts.json", &[]).await;
    let sub_sid = sub.body["sid"].as_str().unwrap();
    let moved = env.post(&path, &[("AccountSid", sub_sid)]).await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.body["account_sid"], sub_sid);
    assert_eq!(env.sim.owned_numbers(sub_sid).len(), 1);
    assert_error(&env.get(&path).await, 404, 20404);
}

#[tokio::test]
async fn release_and_quarantine() {
    let env = Env::new().await;
    let n = env.buy_in("702").await;
    let e164 = n["phone_number"].as_str().unwrap().to_string();
    let path = format!(
        "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{}.json",
        env.acct.sid,
        n["sid"].as_str().unwrap()
    );
    let d = env.delete(&path).await;
    assert_eq!(d.status, 204);
    assert_eq!(d.body, Value::Null);
    assert_error(&env.delete(&path).await, 404, 20404);
    assert_error(&env.get(&path).await, 404, 20404);
    assert_error(&env.post(&path, &[("FriendlyName", "x")]).await, 404, 20404);
    assert_eq!(env.sim.counters().releases, 1);
    // Quarantined: not offered, not buyable, for quarantine_days.
    let offered = env.search("US/Local.json?AreaCode=702&PageSize=30").await;
    assert!(offered.iter().all(|o| o["phone_number"] != e164.as_str()));
    let numbers = env.numbers_path(&env.acct.sid);
    assert_error(
        &env.post(&numbers, &[("PhoneNumber", &e164)]).await,
        400,
        21422,
    );
    env.sim
        .advance_time(std::time::Duration::from_secs(9 * 86_400));
    assert_error(
        &env.post(&numbers, &[("PhoneNumber", &e164)]).await,
        400,
        21422,
    );
    env.sim
        .advance_time(std::time::Duration::from_secs(2 * 86_400));
    assert_eq!(
        env.post(&numbers, &[("PhoneNumber", &e164)]).await.status,
        201
    );
}

#[tokio::test]
async fn out_of_band_changes_are_visible() {
    let env = Env::new().await;
    let n = env.buy_in("512").await;
    let e164 = n["phone_number"].as_str().unwrap();
    assert!(env.sim.update_out_of_band(
        &env.acct.sid,
        e164,
        Some("drifted"),
        Some("https://evil.example/v")
    ));
    let path = format!(
        "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{}.json",
        env.acct.sid,
        n["sid"].as_str().unwrap()
    );
    let r = env.get(&path).await;
    assert_eq!(r.body["friendly_name"], "drifted");
    assert_eq!(r.body["voice_url"], "https://evil.example/v");
    assert!(env.sim.release_out_of_band(&env.acct.sid, e164));
    assert!(!env.sim.release_out_of_band(&env.acct.sid, e164));
    assert_error(&env.get(&path).await, 404, 20404);
    // Pre-owned numbers (adoption) appear in the list without a purchase record.
    let pre = env
        .sim
        .assign_number(&env.acct.sid, "+14155550100")
        .unwrap();
    assert_eq!(pre.friendly_name, "(415) 555-0100");
    assert_eq!(
        env.sim
            .assign_number(&env.acct.sid, "+14155550100")
            .unwrap()
            .sid,
        pre.sid
    );
    let other = env.sim.add_account("o");
    assert!(env.sim.assign_number(&other.sid, "+14155550100").is_none());
    assert!(env.sim.assign_number(&env.acct.sid, "nope").is_none());
    let list = env
        .get(&format!(
            "{}?PhoneNumber=%2B14155550100",
            env.numbers_path(&env.acct.sid)
        ))
        .await;
    assert_eq!(
        list.body["incoming_phone_numbers"][0]["sid"],
        pre.sid.as_str()
    );
    assert_eq!(env.sim.purchase_log().len(), 1);
}

#[tokio::test]
async fn monthly_renewals_are_charged_and_can_suspend() {
    let settings = SimSettings {
        suspend_at_zero_balance: true,
        ..Default::default()
    };
    let env = Env::with(SimConfig {
        settings,
        ..Default::default()
    })
    .await;
    let n = env.buy_in("415").await;
    let owned = &env.sim.owned_numbers(&env.acct.sid)[0];
    assert_eq!(owned.sid, n["sid"].as_str().unwrap());
    assert!(owned.next_billing_at > owned.date_created);
    assert_eq!(
        env.sim.balance(&env.acct.sid),
        Some("18.85".parse().unwrap())
    );
    env.sim
        .advance_time(std::time::Duration::from_secs(32 * 86_400));
    assert_eq!(env.sim.counters().renewal_charges, 1);
    assert_eq!(
        env.sim.balance(&env.acct.sid),
        Some("17.70".parse().unwrap())
    );
    assert_eq!(env.sim.bill_due_numbers(), 0, "not charged twice");
    // A renewal that empties the balance suspends the account.
    env.sim.set_balance(&env.acct.sid, "1.00".parse().unwrap());
    env.sim
        .advance_time(std::time::Duration::from_secs(31 * 86_400));
    assert_eq!(
        env.sim.balance(&env.acct.sid),
        Some("-0.15".parse().unwrap())
    );
    assert_error(&env.get(&env.numbers_path(&env.acct.sid)).await, 401, 20003);
}

#[tokio::test]
async fn wrong_method_is_405() {
    let env = Env::new().await;
    let r = env
        .http
        .put(env.url(&env.numbers_path(&env.acct.sid)))
        .basic_auth(&env.acct.sid, Some(&env.acct.auth_token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], 20004);
}

#[tokio::test]
async fn concurrent_area_code_purchases_get_distinct_numbers() {
    let env = Env::new().await;
    let path = env.numbers_path(&env.acct.sid);
    let futs = (0..40).map(|_| env.post(&path, &[("AreaCode", "646")]));
    let results = futures::future::join_all(futs).await;
    let mut seen = HashSet::new();
    for r in &results {
        assert_eq!(r.status, 201, "{}", r.body);
        assert!(seen.insert(r.body["phone_number"].as_str().unwrap().to_string()));
    }
    assert_eq!(env.sim.owned_numbers(&env.acct.sid).len(), 40);
    assert_eq!(env.sim.purchase_log().len(), 40);
}
