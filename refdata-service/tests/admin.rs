//! The admin API against the running service on a fresh SQLite database: versions,
//! validation, If-Match, auth, the audit log and the change feed.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{send, served_version, start_store, TOKEN};
use refdata::auth::{hash_token, Tokens};
use refdata::config::ServiceConfig;
use reqwest::Method;
use serde_json::{json, Value};

const EDITOR: &str = "editor-token-0123456789";
const READER: &str = "reader-token-0123456789";

async fn start(dir: &tempfile::TempDir) -> SocketAddr {
    let mut tokens = Tokens::parse(&format!(
        "ed editor {}\nrd reader {}\n",
        hash_token(EDITOR),
        hash_token(READER)
    ))
    .unwrap();
    tokens.merge(Tokens::admin(TOKEN));
    let config = ServiceConfig {
        tokens: Arc::new(tokens),
        ..Default::default()
    };
    let url = format!("sqlite://{}", dir.path().join("refdata.db").display());
    start_store(&url, config).await.0
}

fn tax(country: &str, rate: &str, from: &str, to: Option<&str>) -> String {
    json!({"country": country, "subdivision": null, "type": "standard", "rate": rate,
           "valid_from": from, "valid_to": to, "source": "test gazette", "reason": "test"})
    .to_string()
}

async fn standard_rate(address: SocketAddr, country: &str, date: &str) -> String {
    let body = common::send(
        Method::GET,
        &format!("http://{address}/v1/tax-rates?country={country}&date={date}&type=standard"),
        None,
        None,
        None,
    )
    .await
    .body;
    body[0]["rate"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn changes_make_versions_that_can_be_read_and_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let address = start(&dir).await;
    let base = format!("http://{address}");
    assert_eq!(served_version(address).await, 1);
    let before = send(
        Method::GET,
        &format!("{base}/v1/tax-rates/DE"),
        None,
        None,
        None,
    )
    .await;
    let old_etag = before.header("etag").to_owned();

    // A scheduled change: the open-ended 19 % is closed the day before, in the same version.
    let created = send(
        Method::POST,
        &format!("{base}/v1/admin/tax-rates"),
        Some(EDITOR),
        Some("\"1\""),
        Some(tax("DE", "21", "2031-01-01", None)),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["version"], 2);
    assert_eq!(created.header("etag"), "\"2\"");
    let id = created.body["id"].as_u64().unwrap();
    assert_eq!(standard_rate(address, "DE", "2030-12-31").await, "19");
    assert_eq!(standard_rate(address, "DE", "2031-01-01").await, "21");
    let after = send(
        Method::GET,
        &format!("{base}/v1/tax-rates/DE"),
        None,
        None,
        None,
    )
    .await;
    assert_ne!(
        after.header("etag"),
        old_etag,
        "a new version has a new ETag"
    );

    // Versions: listed per dataset, old ones readable, immutable.
    let versions = send(
        Method::GET,
        &format!("{base}/v1/datasets/tax_rates/versions"),
        None,
        None,
        None,
    )
    .await;
    let listed: Vec<u64> = versions.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    assert_eq!(listed, [1, 2]);
    let countries = send(
        Method::GET,
        &format!("{base}/v1/datasets/countries/versions"),
        None,
        None,
        None,
    )
    .await;
    assert_eq!(countries.body["items"].as_array().unwrap().len(), 1);
    let old = send(
        Method::GET,
        &format!("{base}/v1/datasets/tax_rates?version=1"),
        None,
        None,
        None,
    )
    .await;
    assert_eq!(old.status, 200);
    assert!(old.header("cache-control").contains("immutable"));
    let has = |body: &Value| {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == id)
    };
    assert!(!has(&old.body));
    let new = send(
        Method::GET,
        &format!("{base}/v1/datasets/tax_rates?version=2"),
        None,
        None,
        None,
    )
    .await;
    assert!(has(&new.body));
    let missing = send(
        Method::GET,
        &format!("{base}/v1/datasets/tax_rates?version=9"),
        None,
        None,
        None,
    )
    .await;
    assert_eq!(missing.status, 404);
    let rates = send(
        Method::GET,
        &format!("{base}/v1/datasets/exchange_rates?version=1"),
        None,
        None,
        None,
    )
    .await;
    assert!(rates.header("content-type").starts_with("text/csv"));
    assert!(rates.body.as_str().unwrap().starts_with("date,USD,"));

    // Change, then retire the new rate.
    let changed = send(
        Method::PUT,
        &format!("{base}/v1/admin/tax-rates/{id}"),
        Some(EDITOR),
        Some("\"2\""),
        Some(tax("DE", "20", "2031-01-01", None)),
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(standard_rate(address, "DE", "2031-06-01").await, "20");
    let retired = send(
        Method::DELETE,
        &format!("{base}/v1/admin/tax-rates/{id}"),
        Some(EDITOR),
        None,
        Some(json!({"reason": "announced in error"}).to_string()),
    )
    .await;
    assert_eq!(retired.status, 200, "{}", retired.body);
    assert_eq!(retired.body["version"], 4);
    assert_eq!(standard_rate(address, "DE", "2031-06-01").await, "");

    // A rollback is a new version with the old contents; editors may not roll back.
    let rollback = json!({"version": 2, "datasets": ["tax_rates"], "reason": "undo"}).to_string();
    let refused = send(
        Method::POST,
        &format!("{base}/v1/admin/rollback"),
        Some(EDITOR),
        None,
        Some(rollback.clone()),
    )
    .await;
    assert_eq!(refused.status, 403);
    let rolled = send(
        Method::POST,
        &format!("{base}/v1/admin/rollback"),
        Some(TOKEN),
        None,
        Some(rollback),
    )
    .await;
    assert_eq!(rolled.status, 200, "{}", rolled.body);
    assert_eq!(rolled.body["version"], 5);
    assert_eq!(standard_rate(address, "DE", "2031-06-01").await, "21");

    // The audit log: who, when, what, why, for every version.
    let audit = send(
        Method::GET,
        &format!("{base}/v1/admin/audit"),
        Some(READER),
        None,
        None,
    )
    .await;
    let items = audit.body["items"].as_array().unwrap();
    let actions: Vec<&str> = items
        .iter()
        .map(|i| i["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "seed",
            "tax-rates.create",
            "tax-rates.replace",
            "tax-rates.retire",
            "rollback"
        ]
    );
    assert_eq!(items[1]["author"], "ed");
    assert_eq!(items[1]["reason"], "test");
    assert_eq!(items[4]["author"], "admin-token");
    assert!(items[1]["detail"]["closed"][0]["valid_to"] == "2030-12-31");
    let changes = send(
        Method::GET,
        &format!("{base}/v1/changes?since=3"),
        None,
        None,
        None,
    )
    .await;
    assert_eq!(changes.body["version"], 5);
    assert_eq!(changes.body["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn countries_currencies_and_ecb_rates_are_edited() {
    let dir = tempfile::tempdir().unwrap();
    let address = start(&dir).await;
    let base = format!("http://{address}");
    let currency = json!({"code": "ZZB", "numeric": "990", "name": "Test Guilder",
        "minor_units": 2, "countries": ["CW", "SX"], "reason": "new currency"});
    let created = send(
        Method::POST,
        &format!("{base}/v1/admin/currencies"),
        Some(EDITOR),
        None,
        Some(currency.to_string()),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let read = send(
        Method::GET,
        &format!("{base}/v1/currencies/ZZB"),
        None,
        None,
        None,
    )
    .await;
    assert_eq!(read.body["name"], "Test Guilder");

    let mut curacao = send(
        Method::GET,
        &format!("{base}/v1/countries/CW"),
        None,
        None,
        None,
    )
    .await
    .body;
    curacao["currencies"] = json!(["ZZB"]);
    curacao["reason"] = json!("ZZB is the new tender");
    let replaced = send(
        Method::PUT,
        &format!("{base}/v1/admin/countries/CW"),
        Some(EDITOR),
        None,
        Some(curacao.to_string()),
    )
    .await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    let read = send(
        Method::GET,
        &format!("{base}/v1/countries/CW"),
        None,
        None,
        None,
    )
    .await;
    assert_eq!(read.body["currencies"], json!(["ZZB"]));

    let retired = send(
        Method::DELETE,
        &format!("{base}/v1/admin/currencies/ZZB"),
        Some(EDITOR),
        None,
        Some(json!({"reason": "test", "withdrawn": "2030-01"}).to_string()),
    )
    .await;
    assert_eq!(retired.status, 200, "{}", retired.body);
    let read = send(
        Method::GET,
        &format!("{base}/v1/currencies/ZZB"),
        None,
        None,
        None,
    )
    .await;
    assert_eq!(read.body["historic"], true);
    assert_eq!(read.body["withdrawn"], "2030-01");
    let read = send(
        Method::GET,
        &format!("{base}/v1/countries/CW"),
        None,
        None,
        None,
    )
    .await;
    assert_eq!(read.body["currencies"], json!([]));

    // Retiring a country takes its subdivisions and its place in currencies with it.
    let retired = send(
        Method::DELETE,
        &format!("{base}/v1/admin/countries/AD"),
        Some(EDITOR),
        None,
        Some(json!({"reason": "test"}).to_string()),
    )
    .await;
    assert_eq!(retired.status, 200, "{}", retired.body);
    let gone = send(
        Method::GET,
        &format!("{base}/v1/countries/AD"),
        None,
        None,
        None,
    )
    .await;
    assert_eq!(gone.status, 404);
    let euro = send(
        Method::GET,
        &format!("{base}/v1/currencies/EUR"),
        None,
        None,
        None,
    )
    .await;
    assert!(!euro.body["countries"]
        .as_array()
        .unwrap()
        .contains(&json!("AD")));
    let dataset = send(
        Method::GET,
        &format!("{base}/v1/datasets/subdivisions"),
        None,
        None,
        None,
    )
    .await;
    assert!(!dataset.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["country"] == "AD"));

    // A day of ECB rates as XML, then the same day corrected as CSV.
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
<Cube><Cube time="2026-11-02"><Cube currency="USD" rate="1.1500"/><Cube currency="JPY" rate="170.00"/></Cube></Cube>
</gesmes:Envelope>"#;
    let imported = send(
        Method::POST,
        &format!("{base}/v1/admin/exchange-rates?reason=daily"),
        Some(EDITOR),
        None,
        Some(xml.into()),
    )
    .await;
    assert_eq!(imported.status, 200, "{}", imported.body);
    let rates = send(
        Method::GET,
        &format!("{base}/v1/exchange-rates?date=2026-11-02&symbols=USD,JPY"),
        None,
        None,
        None,
    )
    .await;
    assert_eq!(rates.body["date"], "2026-11-02");
    assert_eq!(rates.body["rates"], json!({"JPY": "170", "USD": "1.15"}));
    let csv = "Date, USD, \n02 November 2026, 1.1510, \n";
    let corrected = send(
        Method::POST,
        &format!("{base}/v1/admin/exchange-rates"),
        Some(EDITOR),
        None,
        Some(csv.into()),
    )
    .await;
    assert_eq!(corrected.status, 200, "{}", corrected.body);
    let rates = send(
        Method::GET,
        &format!("{base}/v1/exchange-rates?date=2026-11-02&symbols=USD,JPY"),
        None,
        None,
        None,
    )
    .await;
    assert_eq!(rates.body["rates"], json!({"JPY": "170", "USD": "1.151"}));
    let again = send(
        Method::POST,
        &format!("{base}/v1/admin/exchange-rates"),
        Some(EDITOR),
        None,
        Some(csv.into()),
    )
    .await;
    assert_eq!(
        again.body["changed"], false,
        "the same rates make no new version"
    );
}

#[tokio::test]
async fn subdivisions_are_created_replaced_and_retired() {
    let dir = tempfile::tempdir().unwrap();
    let address = start(&dir).await;
    let base = format!("http://{address}");
    let listed = |code: &'static str| {
        let url = format!("{base}/v1/countries/{}/subdivisions", &code[..2]);
        async move {
            let page = send(Method::GET, &url, None, None, None).await.body;
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["code"] == code)
                .cloned()
        }
    };
    let created = send(
        Method::POST,
        &format!("{base}/v1/admin/subdivisions"),
        Some(EDITOR),
        Some("\"1\""),
        Some(
            json!({"code": "FR-ZZ1", "name": "Test Region", "type": "Region",
                   "parent": null, "reason": "new region"})
            .to_string(),
        ),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["version"], 2);
    assert_eq!(
        listed("FR-ZZ1").await,
        Some(
            json!({"code": "FR-ZZ1", "country": "FR", "name": "Test Region",
                    "type": "Region", "parent": null})
        )
    );
    // A child of it, and a tax rate of it (a new subdivision can carry rates at once).
    let child = send(
        Method::POST,
        &format!("{base}/v1/admin/subdivisions"),
        Some(EDITOR),
        None,
        Some(
            json!({"code": "FR-ZZ2", "country": "FR", "name": "Test District",
                   "type": "District", "parent": "FR-ZZ1", "reason": "new district"})
            .to_string(),
        ),
    )
    .await;
    assert_eq!(child.status, 201, "{}", child.body);
    let rate = send(
        Method::POST,
        &format!("{base}/v1/admin/tax-rates"),
        Some(EDITOR),
        None,
        Some(
            json!({"country": "FR", "subdivision": "FR-ZZ1", "type": "standard", "rate": "2",
                   "valid_from": "2031-01-01", "valid_to": null, "source": "arrêté",
                   "reason": "regional surcharge"})
            .to_string(),
        ),
    )
    .await;
    assert_eq!(rate.status, 201, "{}", rate.body);
    let rate_id = rate.body["id"].as_u64().unwrap();

    // Bad changes are refused with every violation, and change nothing.
    let version = served_version(address).await;
    let bad: [(Method, &str, Value, u16, &[&str]); 6] = [
        (
            Method::POST,
            "/v1/admin/subdivisions",
            json!({"code": "fr-1", "country": "DEU", "name": "", "type": 3, "reason": "r",
                   "extra": true}),
            422,
            &["code", "country", "name", "type", "extra"],
        ),
        (
            Method::POST,
            "/v1/admin/subdivisions",
            json!({"code": "ZZ-1", "name": "N", "type": "T", "parent": "ZZ-2", "reason": "r"}),
            422,
            &["code"],
        ),
        (
            Method::POST,
            "/v1/admin/subdivisions",
            json!({"code": "FR-ZZ3", "country": "DE", "name": "N", "type": "T",
                   "parent": "DE-BY", "reason": "r"}),
            422,
            &["country", "parent"],
        ),
        (
            Method::PUT,
            "/v1/admin/subdivisions/FR-ZZ1",
            json!({"code": "FR-ZZ1", "name": "Test Region", "type": "Region",
                   "parent": "FR-ZZ2", "reason": "a cycle"}),
            422,
            &["parent"],
        ),
        (
            Method::PUT,
            "/v1/admin/subdivisions/FR-ZZ9",
            json!({"code": "FR-ZZ9", "name": "N", "type": "T", "reason": "r"}),
            404,
            &[],
        ),
        (
            Method::DELETE,
            "/v1/admin/subdivisions/FR-ZZ1",
            json!({"reason": "r"}),
            422,
            &[""],
        ),
    ];
    for (method, path, body, status, fields) in bad {
        let response = send(
            method.clone(),
            &format!("{base}{path}"),
            Some(EDITOR),
            None,
            Some(body.to_string()),
        )
        .await;
        assert_eq!(
            response.status, status,
            "{method} {path}: {}",
            response.body
        );
        let reported: Vec<&str> = response.body["violations"]
            .as_array()
            .map(|v| v.iter().map(|v| v["field"].as_str().unwrap()).collect())
            .unwrap_or_default();
        for field in fields {
            assert!(
                reported.contains(field),
                "{method} {path}: {field} in {reported:?}"
            );
        }
    }
    assert_eq!(served_version(address).await, version, "nothing changed");

    let renamed = send(
        Method::PUT,
        &format!("{base}/v1/admin/subdivisions/FR-ZZ2"),
        Some(EDITOR),
        Some(&format!("\"{version}\"")),
        Some(
            json!({"code": "FR-ZZ2", "name": "Renamed District", "type": "District",
                   "parent": null, "reason": "renamed"})
            .to_string(),
        ),
    )
    .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    let read = listed("FR-ZZ2").await.unwrap();
    assert_eq!(read["name"], "Renamed District");
    assert_eq!(read["parent"], Value::Null);

    // Retired once nothing refers to it; earlier versions keep it.
    let retired = send(
        Method::DELETE,
        &format!("{base}/v1/admin/tax-rates/{rate_id}"),
        Some(EDITOR),
        None,
        Some(json!({"reason": "withdrawn"}).to_string()),
    )
    .await;
    assert_eq!(retired.status, 200, "{}", retired.body);
    let retired = send(
        Method::DELETE,
        &format!("{base}/v1/admin/subdivisions/FR-ZZ1"),
        Some(EDITOR),
        None,
        Some(json!({"reason": "merged"}).to_string()),
    )
    .await;
    assert_eq!(retired.status, 200, "{}", retired.body);
    assert_eq!(listed("FR-ZZ1").await, None);
    assert!(listed("FR-ZZ2").await.is_some());
    let old = send(
        Method::GET,
        &format!("{base}/v1/datasets/subdivisions?version=2"),
        None,
        None,
        None,
    )
    .await;
    assert!(old.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["code"] == "FR-ZZ1"));
    let audit = send(
        Method::GET,
        &format!("{base}/v1/admin/audit?since=1"),
        Some(READER),
        None,
        None,
    )
    .await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "subdivisions.upsert",
            "subdivisions.upsert",
            "tax-rates.create",
            "subdivisions.replace",
            "tax-rates.retire",
            "subdivisions.retire"
        ]
    );
}

/// Method, path, If-Match, body, expected status, fields the violations must name.
type Case<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    String,
    u16,
    &'a [&'a str],
);

#[tokio::test]
async fn bad_admin_input_gets_the_right_4xx_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let address = start(&dir).await;
    let base = format!("http://{address}");
    let overlap = tax("DE", "18", "2020-01-01", Some("2020-03-31"));
    let cases: Vec<Case> = vec![
        (
            "POST",
            "/v1/admin/tax-rates",
            None,
            overlap,
            422,
            &["valid_from"],
        ),
        (
            "POST",
            "/v1/admin/tax-rates",
            None,
            tax("DEU", "19", "2031-01-01", None),
            422,
            &["country"],
        ),
        (
            "POST",
            "/v1/admin/tax-rates",
            None,
            tax("XX", "19", "2031-01-01", None),
            422,
            &["country"],
        ),
        (
            "POST",
            "/v1/admin/tax-rates",
            None,
            tax("DE", "-1", "2031-01-01", None),
            422,
            &["rate"],
        ),
        (
            "POST",
            "/v1/admin/tax-rates",
            None,
            tax("DE", "101", "2031-01-01", None),
            422,
            &["rate"],
        ),
        (
            "POST",
            "/v1/admin/tax-rates",
            None,
            tax("DE", "1e3", "2031-01-01", None),
            422,
            &["rate"],
        ),
        (
            "POST",
            "/v1/admin/tax-rates",
            None,
            tax("DE", "19", "2031-02-30", None),
            422,
            &["valid_from"],
        ),
        (
            "POST",
            "/v1/admin/tax-rates",
            None,
            tax("DE", "19", "2031-01-01", Some("2030-01-01")),
            422,
            &["valid_to"],
        ),
        (
            "POST",
            "/v1/admin/tax-rates",
            None,
            json!({"country": "de", "subdivision": "FR-ZZZ", "type": "vat", "rate": 5,
                   "valid_from": "2031-01-01", "source": "", "reason": "r", "note": 1})
            .to_string(),
            422,
            &["country", "subdivision", "type", "source", "note"],
        ),
        (
            "POST",
            "/v1/admin/tax-rates",
            None,
            json!({"country": "DEU"}).to_string(),
            422,
            &["country", "type", "rate", "valid_from", "source", "reason"],
        ),
        (
            "POST",
            "/v1/admin/tax-rates",
            None,
            "{\"country\": ".into(),
            400,
            &[],
        ),
        (
            "POST",
            "/v1/admin/tax-rates",
            None,
            "[1, 2]".into(),
            400,
            &[],
        ),
        (
            "POST",
            "/v1/admin/tax-rates",
            None,
            format!("{{\"reason\": \"{}\"}}", "x".repeat(70_000)),
            413,
            &[],
        ),
        (
            "POST",
            "/v1/admin/tax-rates",
            Some("seven"),
            tax("DE", "21", "2031-01-01", None),
            400,
            &[],
        ),
        (
            "POST",
            "/v1/admin/tax-rates",
            Some("\"9\""),
            tax("DE", "21", "2031-01-01", None),
            412,
            &[],
        ),
        (
            "PUT",
            "/v1/admin/tax-rates/999999",
            None,
            tax("DE", "21", "2031-01-01", None),
            404,
            &[],
        ),
        (
            "DELETE",
            "/v1/admin/tax-rates/1",
            None,
            "{}".into(),
            422,
            &["reason"],
        ),
        (
            "POST",
            "/v1/admin/currencies",
            None,
            json!({"code": "usd", "numeric": "84", "name": "", "minor_units": 7,
                   "countries": ["ZZ"], "reason": "r"})
            .to_string(),
            422,
            &["code", "numeric", "name", "minor_units", "countries"],
        ),
        (
            "PUT",
            "/v1/admin/countries/DE",
            None,
            json!({"alpha2": "FR", "alpha3": "USA", "numeric": "840", "name": "X",
                   "currencies": ["EUR", "ABC"], "reason": "r"})
            .to_string(),
            422,
            &["alpha2", "alpha3", "numeric", "currencies"],
        ),
        (
            "DELETE",
            "/v1/admin/countries/DE",
            None,
            json!({"reason": "r"}).to_string(),
            422,
            &[""],
        ),
        (
            "POST",
            "/v1/admin/exchange-rates",
            None,
            "<Cube><Cube time=\"2026-11-02\">".into(),
            422,
            &["body"],
        ),
        (
            "POST",
            "/v1/admin/exchange-rates",
            None,
            "not a rate file".into(),
            422,
            &["body"],
        ),
        (
            "POST",
            "/v1/admin/exchange-rates?reason=%20%20",
            None,
            "Date,USD\n2026-11-02,1.1\n".into(),
            400,
            &[],
        ),
        (
            "DELETE",
            "/v1/admin/currencies/EUR",
            None,
            json!({"reason": "r", "withdrawn": "soon"}).to_string(),
            422,
            &["withdrawn"],
        ),
        (
            "DELETE",
            "/v1/admin/countries/AD",
            None,
            json!({"reason": "r", "withdrawn": "2030-01"}).to_string(),
            422,
            &["withdrawn"],
        ),
        (
            "POST",
            "/v1/admin/exchange-rates",
            None,
            "Date,USD,ABC\n2026-11-02,1.1,2\n2099-01-01,1.1,2\n".into(),
            422,
            &["currency", "time"],
        ),
        (
            "POST",
            "/v1/admin/rollback",
            None,
            json!({"version": 99, "reason": "r"}).to_string(),
            403,
            &[],
        ),
    ];
    for (method, path, if_match, body, status, fields) in cases {
        let method: Method = method.parse().unwrap();
        let response = send(
            method.clone(),
            &format!("{base}{path}"),
            Some(EDITOR),
            if_match,
            Some(body),
        )
        .await;
        assert_eq!(
            response.status, status,
            "{method} {path}: {}",
            response.body
        );
        assert_eq!(
            response.header("content-type"),
            "application/problem+json",
            "{path}"
        );
        let reported: Vec<&str> = response.body["violations"]
            .as_array()
            .map(|v| v.iter().map(|v| v["field"].as_str().unwrap()).collect())
            .unwrap_or_default();
        for field in fields {
            assert!(
                reported.contains(field),
                "{method} {path}: {field} in {reported:?}"
            );
        }
    }
    assert_eq!(served_version(address).await, 1, "nothing changed");
    let audit = send(
        Method::GET,
        &format!("{base}/v1/admin/audit"),
        Some(READER),
        None,
        None,
    )
    .await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1);
}

/// Every admin route, and `/metrics` (and, for the token checks, what is not a route).
const ROUTES: [(&str, &str, &str); 22] = [
    ("GET", "/v1/admin/nothing-here", "reader"),
    ("GET", "/v1/admin/countries", "reader"),
    ("PATCH", "/v1/admin/tax-rates/1", "reader"),
    ("GET", "/metrics", "reader"),
    ("GET", "/v1/admin/audit", "reader"),
    ("GET", "/v1/admin/tax-rates", "reader"),
    ("POST", "/v1/admin/tax-rates", "editor"),
    ("PUT", "/v1/admin/tax-rates/1", "editor"),
    ("DELETE", "/v1/admin/tax-rates/1", "editor"),
    ("POST", "/v1/admin/countries", "editor"),
    ("PUT", "/v1/admin/countries/DE", "editor"),
    ("DELETE", "/v1/admin/countries/DE", "editor"),
    ("POST", "/v1/admin/subdivisions", "editor"),
    ("PUT", "/v1/admin/subdivisions/US-CA", "editor"),
    ("DELETE", "/v1/admin/subdivisions/US-CA", "editor"),
    ("POST", "/v1/admin/currencies", "editor"),
    ("PUT", "/v1/admin/currencies/EUR", "editor"),
    ("DELETE", "/v1/admin/currencies/EUR", "editor"),
    ("POST", "/v1/admin/exchange-rates", "editor"),
    ("POST", "/v1/admin/rollback", "admin"),
    ("GET", "/v1/admin/audit?since=0", "reader"),
    ("GET", "/v1/admin/tax-rates?country=DE", "reader"),
];

/// Whether `path` (query ignored) is an instance of the OpenAPI path `template`.
fn instance_of(path: &str, template: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default();
    let (a, b): (Vec<&str>, Vec<&str>) = (path.split('/').collect(), template.split('/').collect());
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(segment, pattern)| pattern.starts_with('{') || segment == pattern)
}

#[test]
fn the_token_checks_cover_every_admin_operation_of_the_contract() {
    let document = refdata::app::openapi::document();
    let mut operations = 0;
    for (template, item) in document["paths"].as_object().unwrap() {
        if !template.starts_with("/v1/admin") && template != "/metrics" {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            operations += 1;
            assert!(
                ROUTES
                    .iter()
                    .any(|(m, path, _)| m.eq_ignore_ascii_case(method)
                        && instance_of(path, template)),
                "{method} {template} is not in ROUTES"
            );
        }
    }
    assert_eq!(operations, 17);
}

#[tokio::test]
async fn every_admin_route_refuses_missing_malformed_wrong_and_small_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let address = start(&dir).await;
    for (method, path, needs) in ROUTES {
        let method: Method = method.parse().unwrap();
        let url = format!("http://{address}{path}");
        let headers: [(&str, Option<&str>); 5] = [
            ("missing", None),
            ("malformed", Some("Basic dXNlcjpwYXNz")),
            ("empty", Some("Bearer ")),
            ("wrong", Some("Bearer not-a-valid-token-0123")),
            ("almost", Some("Bearer editor-token-012345678")),
        ];
        for (case, header) in headers {
            let mut request = reqwest::Client::new()
                .request(method.clone(), &url)
                .body("{\"reason\": \"r\"}");
            if let Some(header) = header {
                request = request.header("authorization", header);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 401, "{case} {method} {path}");
            assert_eq!(
                response.headers()["www-authenticate"],
                "Bearer realm=\"refdata\""
            );
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json"
            );
        }
        let too_small: &[&str] = match needs {
            "reader" => &[],
            "editor" => &[READER],
            _ => &[READER, EDITOR],
        };
        for token in too_small {
            let response = send(method.clone(), &url, Some(token), None, Some("{}".into())).await;
            assert_eq!(response.status, 403, "{method} {path} with {token}");
            assert_eq!(response.body["type"], "urn:refdata:problem:forbidden");
        }
    }
    assert_eq!(served_version(address).await, 1);
}

#[tokio::test]
async fn two_editors_with_the_same_if_match_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let address = start(&dir).await;
    let url = format!("http://{address}/v1/admin/tax-rates");
    for round in 0..5u64 {
        let version = served_version(address).await;
        let if_match = format!("\"{version}\"");
        let (a, b) = tokio::join!(
            send(
                Method::POST,
                &url,
                Some(EDITOR),
                Some(&if_match),
                Some(tax("FR", "21", &format!("{}-01-01", 2031 + round), None))
            ),
            send(
                Method::POST,
                &url,
                Some(EDITOR),
                Some(&if_match),
                Some(tax("IT", "23", &format!("{}-01-01", 2031 + round), None))
            ),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [201, 412],
            "round {round}: {} / {}",
            a.body,
            b.body
        );
        assert_eq!(served_version(address).await, version + 1);
    }
}

#[tokio::test]
async fn the_change_stream_announces_new_versions_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let address = start(&dir).await;
    let mut stream = reqwest::get(format!("http://{address}/v1/changes/stream"))
        .await
        .unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let mut seen = String::new();
    while !seen.contains("event: version") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("id: 1"), "{seen}");
    let created = send(
        Method::POST,
        &format!("http://{address}/v1/admin/tax-rates"),
        Some(EDITOR),
        None,
        Some(tax("DE", "21", "2031-01-01", None)),
    )
    .await;
    assert_eq!(created.status, 201);
    let started = Instant::now();
    while !seen.contains("event: change") {
        let chunk = tokio::time::timeout(Duration::from_secs(1), stream.chunk())
            .await
            .expect("a change event within a second")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(
        seen.contains("id: 2") && seen.contains("\"datasets\":[\"tax_rates\"]"),
        "{seen}"
    );

    // A reconnecting client names the last version it saw and gets what it missed.
    let mut resumed = reqwest::Client::new()
        .get(format!("http://{address}/v1/changes/stream"))
        .header("last-event-id", "1")
        .send()
        .await
        .unwrap();
    let mut replay = String::new();
    while !replay.contains("event: change") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), resumed.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        replay.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(replay.contains("id: 2"), "{replay}");
}

/// Two stores on one SQLite file stand for two processes (the service and
/// `refdata import --into`): their writes interleave, none fails, and versions stay gapless.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_writing_one_sqlite_file_both_succeed() {
    use refdata::storage::{edit, Store};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("refdata.db").display());
    let first = Store::open(&url).await.unwrap();
    let second = Store::open(&url).await.unwrap();
    let writes = |store: Store, country: &'static str| async move {
        for year in 2031..2036 {
            let body = tax(
                if country == "a" { "FR" } else { "IT" },
                "21",
                &format!("{year}-01-01"),
                None,
            );
            let written = store
                .write(
                    None,
                    country,
                    "tax-rates.create",
                    "test",
                    &|contents| {
                        let mut fields = edit::Fields::parse(body.as_bytes())
                            .map_err(|v| refdata::storage::WriteError::Invalid(vec![v]))?;
                        let rate = edit::tax_rate_input(&mut fields, contents)?;
                        edit::create_tax_rate(contents, rate)
                    },
                    None,
                )
                .await;
            assert!(written.is_ok(), "{:?}", written.err());
        }
        store
    };
    let (first, second) = tokio::join!(
        tokio::spawn(writes(first, "a")),
        tokio::spawn(writes(second, "b"))
    );
    let (first, _second) = (first.unwrap(), second.unwrap());
    assert_eq!(first.head().await.unwrap(), 11);
    let versions: Vec<u64> = first
        .versions(0, 100)
        .await
        .unwrap()
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(versions, (1..=11).collect::<Vec<_>>());
}

/// A change with a future `valid_from` takes effect on that date, not at the deploy: the
/// service's answers for "today" switch at midnight, and are cached only until then.
#[tokio::test]
async fn a_scheduled_change_takes_effect_on_its_date() {
    let dir = tempfile::tempdir().unwrap();
    let clock = refdata::clock::ManualClock::at("2031-03-31T12:00:00Z").unwrap();
    let config = ServiceConfig {
        clock: Arc::new(clock.clone()),
        ..common::config()
    };
    let url = format!("sqlite://{}", dir.path().join("refdata.db").display());
    let (address, _) = start_store(&url, config).await;
    let base = format!("http://{address}");
    let created = send(
        Method::POST,
        &format!("{base}/v1/admin/tax-rates"),
        Some(TOKEN),
        None,
        Some(tax("DE", "21", "2031-04-01", None)),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let today = format!("{base}/v1/tax-rates?country=DE&type=standard");
    let before = send(Method::GET, &today, None, None, None).await;
    assert_eq!(before.body[0]["rate"], "19");
    let max_age: u64 = before
        .header("cache-control")
        .split(',')
        .find_map(|d| d.trim().strip_prefix("max-age=")?.parse().ok())
        .unwrap();
    assert!(
        max_age <= 12 * 3600,
        "cached only until the change: {max_age}"
    );
    clock.advance(Duration::from_secs(12 * 3600 + 1));
    let after = send(Method::GET, &today, None, None, None).await;
    assert_eq!(after.body[0]["rate"], "21");
}

/// Change streams never end by themselves; a graceful shutdown ends them so it can finish.
#[tokio::test]
async fn shutdown_ends_the_change_streams() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = refdata::app::AppState::loading_with(common::config());
    let ready = state.clone();
    let server = tokio::spawn(refdata::server::serve(
        listener,
        state,
        Arc::new(refdata::store::EmbeddedSource),
        async move {
            let _ = stopped.await;
        },
    ));
    while !ready.is_ready() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut stream = reqwest::get(format!("http://{address}/v1/changes/stream"))
        .await
        .unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), stream.chunk())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&first).contains("event: version"));
    stop.send(()).unwrap();
    let finished = tokio::time::timeout(Duration::from_secs(5), server).await;
    assert!(finished.is_ok(), "the server drained within 5 s");
    let rest = tokio::time::timeout(Duration::from_secs(5), stream.chunk()).await;
    assert!(
        matches!(rest, Ok(Ok(None)) | Ok(Err(_))),
        "the stream ended"
    );
}
