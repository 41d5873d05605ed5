//! Authentication and authorisation: Auth Token, API keys, bad credentials, subaccount isolation,
//! account status, test credentials and magic numbers.

mod common;
use common::{Env, assert_error};

#[tokio::test]
async fn auth_token_and_bad_credentials() {
    let env = Env::new().await;
    let path = format!("/2010-04-01/Accounts/{}.json", env.acct.sid);
    let ok = env.get(&path).await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["sid"], env.acct.sid.as_str());
    assert_eq!(ok.body["owner_account_sid"], env.acct.sid.as_str());

    assert_error(&env.get_as(&env.acct.sid, "wrong", &path).await, 401, 20003);
    assert_error(
        &env.get_as(&twilio_sim::random_sid("AC"), "x", &path).await,
        401,
        20003,
    );
    let r = env.http.get(env.url(&path)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // Unknown path: Twilio's 404 body.
    assert_error(&env.get("/2010-04-01/Nope.json").await, 404, 20404);
}

#[tokio::test]
async fn api_keys_main_and_standard() {
    let env = Env::new().await;
    let (std_sid, std_secret) = env.sim.add_api_key(&env.acct.sid, false).unwrap();
    let (main_sid, main_secret) = env.sim.add_api_key(&env.acct.sid, true).unwrap();
    assert!(std_sid.starts_with("SK") && std_sid.len() == 34);
    let numbers = env.numbers_path(&env.acct.sid);
    assert_eq!(
        env.get_as(&std_sid, &std_secret, &numbers).await.status,
        200
    );
    assert_error(&env.get_as(&std_sid, "bad", &numbers).await, 401, 20003);
    // Standard keys cannot use /Accounts.
    let acct_path = format!("/2010-04-01/Accounts/{}.json", env.acct.sid);
    assert_error(
        &env.get_as(&std_sid, &std_secret, &acct_path).await,
        401,
        20003,
    );
    assert_error(
        &env.post_as(&std_sid, &std_secret, "/2010-04-01/Accounts.json", &[])
            .await,
        401,
        20003,
    );
    // Main keys can.
    assert_eq!(
        env.get_as(&main_sid, &main_secret, &acct_path).await.status,
        200
    );
    let sub = env
        .post_as(
            &main_sid,
            &main_secret,
            "/2010-04-01/Accounts.json",
            &[("FriendlyName", "k")],
        )
        .await;
    assert_eq!(sub.status, 201);
    // A key of another account does not reach this one.
    let other = env.sim.add_account("Other");
    let (osid, osecret) = env.sim.add_api_key(&other.sid, true).unwrap();
    assert_error(&env.get_as(&osid, &osecret, &numbers).await, 401, 20003);
    // Deleted keys stop working.
    assert!(env.sim.remove_api_key(&std_sid));
    assert_error(
        &env.get_as(&std_sid, &std_secret, &numbers).await,
        401,
        20003,
    );
}

#[tokio::test]
async fn subaccount_isolation() {
    let env = Env::new().await;
    let s1 = env
        .post("/2010-04-01/Accounts.json", &[("FriendlyName", "tenant-a")])
        .await;
    let s2 = env
        .post("/2010-04-01/Accounts.json", &[("FriendlyName", "tenant-b")])
        .await;
    assert_eq!(s1.status, 201);
    let (s1_sid, s1_tok) = (
        s1.body["sid"].as_str().unwrap().to_string(),
        s1.body["auth_token"].as_str().unwrap().to_string(),
    );
    let s2_sid = s2.body["sid"].as_str().unwrap().to_string();
    assert_eq!(s1.body["owner_account_sid"], env.acct.sid.as_str());

    // Parent acts on the subaccount's v2010 paths.
    let bought = env
        .post(&env.numbers_path(&s1_sid), &[("AreaCode", "415")])
        .await;
    assert_eq!(bought.status, 201, "{}", bought.body);
    assert_eq!(bought.body["account_sid"], s1_sid.as_str());
    let pn = bought.body["sid"].as_str().unwrap().to_string();
    // The subaccount sees its own number.
    let own = env
        .get_as(&s1_sid, &s1_tok, &env.numbers_path(&s1_sid))
        .await;
    assert_eq!(own.status, 200);
    assert_eq!(
        own.body["incoming_phone_numbers"].as_array().unwrap().len(),
        1
    );
    // But neither the parent nor a sibling.
    assert_error(
        &env.get_as(&s1_sid, &s1_tok, &env.numbers_path(&env.acct.sid))
            .await,
        401,
        20003,
    );
    assert_error(
        &env.get_as(&s1_sid, &s1_tok, &env.numbers_path(&s2_sid))
            .await,
        401,
        20003,
    );
    assert_error(
        &env.get_as(
            &s1_sid,
            &s1_tok,
            &format!("/2010-04-01/Accounts/{}.json", env.acct.sid),
        )
        .await,
        401,
        20003,
    );
    // The subaccount's number is invisible under the parent's own path.
    let p = format!(
        "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{pn}.json",
        env.acct.sid
    );
    assert_error(&env.get(&p).await, 404, 20404);
    assert_error(&env.delete(&p).await, 404, 20404);
    // Another main account cannot reach this tree at all.
    let other = env.sim.add_account("Other");
    assert_error(
        &env.get_as(&other.sid, &other.auth_token, &env.numbers_path(&s1_sid))
            .await,
        401,
        20003,
    );
    // Subaccounts do not list or create subaccounts of their own.
    let list = env
        .get_as(&s1_sid, &s1_tok, "/2010-04-01/Accounts.json")
        .await;
    assert_eq!(list.body["accounts"].as_array().unwrap().len(), 1);
    assert_error(
        &env.post_as(&s1_sid, &s1_tok, "/2010-04-01/Accounts.json", &[])
            .await,
        401,
        20003,
    );
}

#[tokio::test]
async fn suspended_and_closed_accounts() {
    let env = Env::new().await;
    let s = env
        .post("/2010-04-01/Accounts.json", &[("FriendlyName", "t")])
        .await;
    let (sid, tok) = (
        s.body["sid"].as_str().unwrap().to_string(),
        s.body["auth_token"].as_str().unwrap().to_string(),
    );
    let path = format!("/2010-04-01/Accounts/{sid}.json");
    let bought = env
        .post(&env.numbers_path(&sid), &[("AreaCode", "212")])
        .await;
    assert_eq!(bought.status, 201);
    let number = bought.body["phone_number"].as_str().unwrap().to_string();

    let r = env.post(&path, &[("Status", "suspended")]).await;
    assert_eq!(r.body["status"], "suspended");
    assert_error(&env.get_as(&sid, &tok, &path).await, 401, 20003);
    // The subaccount cannot change its own status.
    env.post(&path, &[("Status", "active")]).await;
    assert_eq!(env.get_as(&sid, &tok, &path).await.status, 200);
    assert_error(
        &env.post_as(&sid, &tok, &path, &[("Status", "suspended")])
            .await,
        401,
        20003,
    );

    // Closing releases its numbers; a closed account cannot reopen.
    let r = env.post(&path, &[("Status", "closed")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "closed");
    assert!(env.sim.owned_numbers(&sid).is_empty());
    assert_eq!(env.sim.counters().releases, 1);
    assert_error(&env.post(&path, &[("Status", "active")]).await, 400, 21479);
    assert_error(&env.get_as(&sid, &tok, &path).await, 401, 20003);
    // The released number is quarantined: nobody can buy it yet.
    assert_error(
        &env.post(
            &env.numbers_path(&env.acct.sid),
            &[("PhoneNumber", &number)],
        )
        .await,
        400,
        21422,
    );
    // The main account itself cannot be suspended through the API.
    let own = format!("/2010-04-01/Accounts/{}.json", env.acct.sid);
    assert_eq!(env.post(&own, &[("Status", "suspended")]).await.status, 400);
    // A suspended main account cannot authenticate.
    assert!(env.sim.set_account_status(&env.acct.sid, "suspended"));
    assert_error(&env.get(&own).await, 401, 20003);
}

#[tokio::test]
async fn test_credentials_and_magic_numbers() {
    let env = Env::new().await;
    let (tsid, ttok) = env.sim.test_credentials(&env.acct.sid).unwrap();
    let path = env.numbers_path(&tsid);
    let ok = env
        .post_as(
            &tsid,
            &ttok,
            &path,
            &[
                ("PhoneNumber", "+15005550006"),
                ("VoiceUrl", "https://example.com/v"),
            ],
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(ok.body["phone_number"], "+15005550006");
    assert_eq!(ok.body["voice_url"], "https://example.com/v");
    assert_error(
        &env.post_as(&tsid, &ttok, &path, &[("PhoneNumber", "+15005550000")])
            .await,
        400,
        21422,
    );
    assert_error(
        &env.post_as(&tsid, &ttok, &path, &[("PhoneNumber", "+15005550001")])
            .await,
        400,
        21421,
    );
    let by_area = env
        .post_as(&tsid, &ttok, &path, &[("AreaCode", "500")])
        .await;
    assert_eq!(by_area.status, 201);
    assert_eq!(by_area.body["phone_number"], "+15005550006");
    assert_eq!(by_area.body["friendly_name"], "(500) 555-0006");
    assert_error(
        &env.post_as(&tsid, &ttok, &path, &[("AreaCode", "533")])
            .await,
        400,
        21452,
    );
    // Nothing changed, nothing was bought.
    assert!(env.sim.owned_numbers(&env.acct.sid).is_empty());
    assert!(env.sim.purchase_log().is_empty());
    // Everything else is refused with 20008.
    assert_error(&env.get_as(&tsid, &ttok, &path).await, 403, 20008);
    assert_error(
        &env.get_as(
            &tsid,
            &ttok,
            &format!("/2010-04-01/Accounts/{tsid}/AvailablePhoneNumbers/US/Local.json"),
        )
        .await,
        403,
        20008,
    );
    assert_error(
        &env.get_as(&tsid, &ttok, "/v1/PhoneNumbers/Countries/US")
            .await,
        403,
        20008,
    );
    // Test credentials on live data, and live credentials on the test SID, fail to authenticate.
    assert_error(
        &env.post_as(
            &tsid,
            &ttok,
            &env.numbers_path(&env.acct.sid),
            &[("PhoneNumber", "+15005550006")],
        )
        .await,
        401,
        20003,
    );
    assert_error(
        &env.post(&path, &[("PhoneNumber", "+15005550006")]).await,
        401,
        20003,
    );
}
