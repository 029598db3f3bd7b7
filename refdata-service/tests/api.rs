//! End-to-end tests of the HTTP API against the real server on a free port.

mod common;

use common::{get, get_ok, get_problem};
use serde_json::{json, Value};

#[tokio::test]
async fn every_country_resolves_by_alpha2_alpha3_and_numeric() {
    let page = get_ok("/v1/countries?limit=1000").await;
    let countries = page["items"].as_array().unwrap();
    assert_eq!(countries.len(), 249);
    assert_eq!(page["total"], 249);
    for country in countries {
        let alpha2 = country["alpha2"].as_str().unwrap();
        let alpha3 = country["alpha3"].as_str().unwrap().to_lowercase();
        let numeric = country["numeric"].as_str().unwrap();
        assert_eq!(numeric.len(), 3, "{country}");
        for code in [alpha2.to_owned(), alpha3, numeric.to_owned()] {
            let found = get_ok(&format!("/v1/countries/{code}")).await;
            assert_eq!(&found, country, "lookup by {code}");
        }
    }
}

#[tokio::test]
async fn country_contract_matches_exactly() {
    let germany = get_ok("/v1/countries/DE").await;
    assert_eq!(
        germany,
        json!({"alpha2":"DE","alpha3":"DEU","numeric":"276","name":"Germany",
            "official_name":"Federal Republic of Germany","common_name":null,"flag":"🇩🇪",
            "currencies":["EUR"],"region":"Europe","subregion":"Western Europe"})
    );
    let trimmed = get_ok("/v1/countries/deu?fields=alpha2,currencies").await;
    assert_eq!(trimmed, json!({"alpha2":"DE","currencies":["EUR"]}));
}

#[tokio::test]
async fn currencies_have_iso_4217_minor_units() {
    for (code, minor_units) in [
        ("JPY", json!(0)),
        ("KWD", json!(3)),
        ("CLF", json!(4)),
        ("EUR", json!(2)),
        ("XAU", Value::Null),
    ] {
        let currency = get_ok(&format!("/v1/currencies/{code}")).await;
        assert_eq!(currency["minor_units"], minor_units, "{code}");
    }
    let yen = get_ok("/v1/currencies/jpy").await;
    assert_eq!(
        yen,
        json!({"code":"JPY","numeric":"392","name":"Yen","minor_units":0,"countries":["JP"],
            "historic":false,"fund":false,"metal":false,"withdrawn":null})
    );
    assert_eq!(get_ok("/v1/currencies/978").await["code"], "EUR");
    assert_eq!(get_ok("/v1/currencies/XAU").await["metal"], true);
    assert_eq!(get_ok("/v1/currencies/CLF").await["fund"], true);
}

#[tokio::test]
async fn currency_filters() {
    let historic = get_ok("/v1/currencies?historic=true").await;
    let codes: Vec<&str> = historic["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    for code in [
        "CYP", "EEK", "LTL", "LVL", "MTL", "SIT", "SKK", "HRK", "ROL", "TRL",
    ] {
        assert!(codes.contains(&code), "{code} in {codes:?}");
    }
    assert!(!codes.contains(&"EUR"));
    let metals = get_ok("/v1/currencies?metal=true").await;
    assert_eq!(metals["total"], 4);
    let swiss = get_ok("/v1/currencies?country=CH&fund=false").await;
    assert_eq!(swiss["items"][0]["code"], "CHF");
    assert_eq!(swiss["total"], 1);
    get_problem("/v1/currencies?historic=yes", 400, "invalid-parameter").await;
}

#[tokio::test]
async fn known_ecb_rate_on_a_known_date() {
    let rates = get_ok("/v1/exchange-rates?date=2024-01-02&symbols=USD,JPY").await;
    assert_eq!(
        rates,
        json!({"base":"EUR","date":"2024-01-02","rates":{"JPY":"155.68","USD":"1.0956"}})
    );
    let by_path = get_ok("/v1/exchange-rates/2024-01-02").await;
    assert_eq!(by_path["rates"]["USD"], "1.0956");
    assert_eq!(by_path["rates"]["GBP"], "0.86645");
    assert!(by_path["rates"].get("CYP").is_none(), "not quoted in 2024");
    let first = get_ok("/v1/exchange-rates/1999-01-04?symbols=USD,CYP").await;
    assert_eq!(first["rates"], json!({"CYP":"0.58231","USD":"1.1789"}));
}

#[tokio::test]
async fn weekends_and_holidays_use_the_previous_publication() {
    let saturday = get_ok("/v1/exchange-rates?date=2024-01-06&symbols=USD").await;
    assert_eq!(saturday["date"], "2024-01-05");
    assert_eq!(saturday["rates"]["USD"], "1.0921");
    let sunday = get_ok("/v1/exchange-rates/2024-01-07?symbols=USD").await;
    assert_eq!(sunday["date"], "2024-01-05");
    let christmas = get_ok("/v1/exchange-rates/2024-12-26?symbols=USD").await;
    assert_eq!(christmas["date"], "2024-12-24");
    let latest = get_ok("/v1/exchange-rates?symbols=USD").await;
    assert_eq!(
        latest["date"],
        get_ok("/v1/exchange-rates/latest").await["date"]
    );
}

#[tokio::test]
async fn cross_rates_and_conversion_rounding() {
    // EUR/USD 1.0956 and EUR/JPY 155.68 on 2024-01-02.
    let usd = get_ok("/v1/exchange-rates?base=USD&date=2024-01-02&symbols=JPY,EUR").await;
    // 155.68 / 1.0956 = 142.09565534...; 1 / 1.0956 = 0.91274187...
    assert_eq!(usd["rates"], json!({"EUR":"0.912742","JPY":"142.096"}));
    // 12.34 * 155.68 / 1.0956 = 1753.4604 -> 1753 (JPY has no minor units)
    let converted = get_ok("/v1/convert?from=USD&to=JPY&amount=12.34&date=2024-01-02").await;
    assert_eq!(
        converted,
        json!({"from":"USD","to":"JPY","amount":"12.34","date":"2024-01-02",
            "rate":"142.096","result":"1753"})
    );
    // 1000 * 1.0956 / 155.68 = 7.03751... -> 7.04
    let back = get_ok("/v1/convert?from=jpy&to=usd&amount=1000&date=2024-01-02").await;
    assert_eq!(back["result"], "7.04");
    assert_eq!(back["rate"], "0.00703751");
    // Euro legs use the published figure; results keep the minor units: 10 * 1.0956 = 10.956
    let euro = get_ok("/v1/convert?from=EUR&to=USD&amount=10&date=2024-01-02").await;
    assert_eq!(euro["rate"], "1.0956");
    assert_eq!(euro["result"], "10.96");
    let whole = get_ok("/v1/convert?from=EUR&to=EUR&amount=3&date=2024-01-02").await;
    assert_eq!(whole["result"], "3.00");
    // A Saturday converts at Friday's rates and says so.
    let weekend = get_ok("/v1/convert?from=USD&to=EUR&amount=100&date=2024-01-06").await;
    assert_eq!(weekend["date"], "2024-01-05");
    // 100 / 1.0921 = 91.5667...
    assert_eq!(weekend["result"], "91.57");
}

#[tokio::test]
async fn time_series_lists_each_publication_in_range() {
    let series =
        get_ok("/v1/exchange-rates?start=2024-01-04&end=2024-01-08&symbols=USD&base=EUR").await;
    assert_eq!(
        series,
        json!({"base":"EUR","start_date":"2024-01-04","end_date":"2024-01-08","rates":{
            "2024-01-04":{"USD":"1.0953"},"2024-01-05":{"USD":"1.0921"},
            "2024-01-08":{"USD":"1.0946"}}})
    );
    let in_usd =
        get_ok("/v1/exchange-rates?start=2024-01-02&end=2024-01-03&base=USD&symbols=EUR").await;
    assert_eq!(in_usd["rates"]["2024-01-02"]["EUR"], "0.912742");
    let open_ended = get_ok("/v1/exchange-rates?start=2026-10-01&symbols=USD").await;
    assert!(open_ended["rates"].as_object().unwrap().len() >= 20);
    // Bulgaria adopted the euro on 2026-01-01: BGN is in the series until it left the list.
    let lev = get_ok("/v1/exchange-rates?start=2025-12-30&end=2026-01-05&symbols=BGN,USD").await;
    let days = lev["rates"].as_object().unwrap();
    assert_eq!(days["2025-12-31"]["BGN"], "1.9558");
    assert!(days["2026-01-02"].get("BGN").is_none());
    assert!(days["2026-01-02"].get("USD").is_some());
    get_problem(
        "/v1/exchange-rates?start=2026-01-01&end=2026-01-31&symbols=BGN",
        422,
        "currency-not-quoted",
    )
    .await;
    get_problem(
        "/v1/exchange-rates?start=2024-01-08&end=2024-01-04",
        422,
        "invalid-range",
    )
    .await;
    get_problem(
        "/v1/exchange-rates?start=2024-01-04&date=2024-01-05",
        400,
        "invalid-parameter",
    )
    .await;
    get_problem(
        "/v1/exchange-rates?end=2024-01-04",
        400,
        "invalid-parameter",
    )
    .await;
}

#[tokio::test]
async fn german_vat_around_the_2020_cut() {
    let rate = |date: &'static str, kind: &'static str| async move {
        let rates = get_ok(&format!("/v1/tax-rates?country=DE&date={date}&type={kind}")).await;
        let rates = rates.as_array().unwrap().clone();
        rates
            .iter()
            .map(|r| r["rate"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(rate("2020-07-01", "standard").await, ["16"]);
    assert_eq!(rate("2020-08-01", "standard").await, ["16"]);
    assert_eq!(rate("2020-12-31", "standard").await, ["16"]);
    assert_eq!(rate("2021-01-01", "standard").await, ["19"]);
    assert_eq!(rate("2020-08-01", "reduced").await, ["5"]);
    assert_eq!(rate("2021-01-01", "reduced").await, ["7"]);
    let all = get_ok("/v1/tax-rates?country=deu&date=2021-01-01").await;
    let first = &all.as_array().unwrap()[0];
    assert_eq!(first["country"], "DE");
    assert_eq!(first["subdivision"], Value::Null);
    assert!(first["source"].as_str().is_some_and(|s| !s.is_empty()));
    let history = get_ok("/v1/tax-rates/DE").await;
    let standard: Vec<&str> = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "standard")
        .map(|r| r["rate"].as_str().unwrap())
        .collect();
    assert!(
        standard.windows(2).any(|w| w == ["19", "16"]),
        "{standard:?}"
    );
    assert!(history["current"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["type"] == "standard" && r["rate"] == "19"));
}

#[tokio::test]
async fn estonia_and_finland_rate_changes() {
    let standard = |country: &'static str, date: &'static str| async move {
        get_ok(&format!(
            "/v1/tax-rates?country={country}&date={date}&type=standard"
        ))
        .await[0]["rate"]
            .clone()
    };
    assert_eq!(standard("EE", "2024-06-01").await, "22");
    assert_eq!(standard("EE", "2025-07-01").await, "24");
    assert_eq!(standard("FI", "2024-08-31").await, "24");
    assert_eq!(standard("FI", "2024-09-01").await, "25.5");
}

#[tokio::test]
async fn tax_rate_errors() {
    get_problem("/v1/tax-rates?date=2021-01-01", 400, "invalid-parameter").await;
    get_problem("/v1/tax-rates?country=XX", 422, "unknown-code").await;
    get_problem(
        "/v1/tax-rates?country=DE&subdivision=US-CA",
        422,
        "unknown-code",
    )
    .await;
    get_problem(
        "/v1/tax-rates?country=DE&type=vat",
        400,
        "invalid-parameter",
    )
    .await;
    get_problem("/v1/tax-rates?country=DE&date=2021-02-30", 400, "bad-date").await;
    get_problem("/v1/tax-rates/XX", 404, "not-found").await;
}

#[tokio::test]
async fn bad_input_is_problem_json() {
    let bad_date = get_problem("/v1/exchange-rates?date=2024-13-01", 400, "bad-date").await;
    assert!(bad_date["detail"].as_str().unwrap().contains("2024-13-01"));
    get_problem("/v1/exchange-rates/yesterday", 400, "bad-date").await;
    let early = get_problem(
        "/v1/exchange-rates?date=1998-12-31",
        422,
        "date-before-dataset-start",
    )
    .await;
    assert!(early["detail"].as_str().unwrap().contains("1999-01-04"));
    get_problem(
        "/v1/convert?from=USD&to=EUR&amount=5&date=1990-01-01",
        422,
        "date-before-dataset-start",
    )
    .await;
    let unknown = get_problem("/v1/countries/XX", 404, "not-found").await;
    assert!(unknown["detail"].as_str().unwrap().contains("XX"));
    get_problem("/v1/currencies/ABC", 404, "not-found").await;
    get_problem("/v1/exchange-rates?base=ABC", 422, "unknown-code").await;
    get_problem("/v1/exchange-rates?symbols=USD,QQQ", 422, "unknown-code").await;
    let not_quoted = get_problem("/v1/exchange-rates?base=XAU", 422, "currency-not-quoted").await;
    assert!(not_quoted["detail"].as_str().unwrap().contains("XAU"));
    get_problem(
        "/v1/exchange-rates?date=2024-01-02&symbols=CYP",
        422,
        "currency-not-quoted",
    )
    .await;
    let param = get_problem("/v1/countries?colour=red", 400, "invalid-parameter").await;
    assert!(param["detail"].as_str().unwrap().contains("colour"));
    get_problem(
        "/v1/exchange-rates?date=2024-01-02&bas=USD",
        400,
        "invalid-parameter",
    )
    .await;
    get_problem("/v1/currencies/EUR?x=1", 400, "invalid-parameter").await;
    get_problem("/v1/convert?from=USD&to=EUR&amount=12,5", 400, "bad-amount").await;
    get_problem("/v1/convert?from=USD&to=EUR&amount=NaN", 400, "bad-amount").await;
    get_problem("/v1/convert?from=USD&to=EUR", 400, "invalid-parameter").await;
    get_problem(
        "/v1/convert?from=USD&to=JPY&amount=79228162514264337593543950335",
        400,
        "bad-amount",
    )
    .await;
    get_problem("/v1/nothing-here", 404, "route-not-found").await;
    get_problem("/v1/countries?limit=0", 400, "invalid-parameter").await;
    get_problem("/v1/countries?limit=5&page=2", 400, "invalid-parameter").await;
    get_problem("/v1/countries?currency=ZZZ", 422, "unknown-code").await;
}

#[tokio::test]
async fn dates_and_amounts_follow_the_documented_grammar() {
    // The same date is refused alike in the path and in the query.
    get_problem("/v1/exchange-rates/+10000-01-01", 400, "bad-date").await;
    get_problem("/v1/exchange-rates?date=%2B10000-01-01", 400, "bad-date").await;
    get_problem("/v1/exchange-rates/10000-01-01", 400, "bad-date").await;
    get_problem("/v1/tax-rates?country=DE&date=2020-8-01", 400, "bad-date").await;
    for amount in ["1_000", ".5", "5.", "1e3", "--1"] {
        get_problem(
            &format!("/v1/convert?from=USD&to=EUR&amount={amount}"),
            400,
            "bad-amount",
        )
        .await;
    }
    get_ok("/v1/convert?from=USD&to=EUR&amount=-1000.50&date=2024-01-02").await;
}

#[tokio::test]
async fn problems_do_not_echo_long_input_and_long_targets_get_a_414_problem() {
    let code = "Q".repeat(5000);
    let response = get(&format!("/v1/currencies/{code}")).await;
    assert_eq!(response.status, 404);
    let problem = response.body;
    assert!(problem["instance"].as_str().unwrap().len() < 300);
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.len() < 200, "{detail}");
    assert_eq!(detail.matches('Q').count(), 64, "{detail}");

    let long = format!("/v1/countries?q={}", "a".repeat(10_000));
    let response = get(&long).await;
    assert_eq!(response.status, 414);
    assert_eq!(response.header("content-type"), "application/problem+json");
    assert_eq!(response.body["type"], "urn:refdata:problem:uri-too-long");
    assert!(response.body["instance"].as_str().unwrap().len() < 300);
}

#[tokio::test]
async fn pagination_and_filters() {
    let first = get("/v1/countries?page=1&per_page=10").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("x-total-count"), "249");
    assert_eq!(first.body["items"].as_array().unwrap().len(), 10);
    assert_eq!(first.body["items"][0]["alpha2"], "AD");
    let link = first.header("link");
    assert!(
        link.contains("</v1/countries?page=2&per_page=10>; rel=\"next\""),
        "{link}"
    );
    assert!(
        link.contains("</v1/countries?page=25&per_page=10>; rel=\"last\""),
        "{link}"
    );
    assert!(!link.contains("rel=\"prev\""));
    let third = get_ok("/v1/countries?page=3&per_page=10").await;
    let offset = get_ok("/v1/countries?limit=10&offset=20").await;
    assert_eq!(third["items"], offset["items"]);
    let huge = get_ok(&format!("/v1/countries?limit=1000&offset={}", usize::MAX)).await;
    assert_eq!(huge["items"], json!([]));
    let beyond = get_ok("/v1/countries?limit=10&offset=1000").await;
    assert_eq!(beyond["items"], json!([]));
    assert_eq!(beyond["total"], 249);

    let europe = get_ok("/v1/countries?region=europe&currency=EUR&fields=alpha2,region").await;
    let codes: Vec<&str> = europe["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["region"], "Europe");
            assert_eq!(c.as_object().unwrap().len(), 2);
            c["alpha2"].as_str().unwrap()
        })
        .collect();
    assert!(codes.contains(&"DE") && codes.contains(&"FR") && !codes.contains(&"GB"));
    let by_numeric = get_ok("/v1/countries?currency=978&fields=alpha2").await;
    let by_code = get_ok("/v1/countries?currency=eur&fields=alpha2").await;
    assert_eq!(by_numeric, by_code);
    assert!(by_code["total"].as_u64().unwrap() > europe["total"].as_u64().unwrap());
    let search = get_ok("/v1/countries?q=COTE%20D").await;
    assert_eq!(search["items"][0]["alpha2"], "CI");
    let accented = get_ok("/v1/countries?q=r%C3%A9union").await;
    assert_eq!(accented["items"][0]["alpha2"], "RE");
    let official = get_ok("/v1/countries?q=federal%20republic%20of%20germany").await;
    assert_eq!(official["total"], 1);
    let subregion = get_ok("/v1/countries?subregion=Western%20Europe&fields=alpha2").await;
    assert!(subregion["items"]
        .as_array()
        .unwrap()
        .contains(&json!({"alpha2":"DE"})));
}

#[tokio::test]
async fn subdivisions_of_a_country() {
    let us = get_ok("/v1/countries/USA/subdivisions").await;
    let items = us["items"].as_array().unwrap();
    let california = items.iter().find(|s| s["code"] == "US-CA").unwrap();
    assert_eq!(
        california,
        &json!({"code":"US-CA","country":"US","name":"California","type":"State","parent":null})
    );
    let states = get_ok("/v1/countries/US/subdivisions?type=state").await;
    assert_eq!(states["total"], 50);
    get_problem("/v1/countries/XX/subdivisions", 404, "not-found").await;
}

#[tokio::test]
async fn datasets_report_versions_and_hashes() {
    let body = get_ok("/v1/datasets").await;
    let datasets = body["datasets"].as_array().unwrap();
    let names: Vec<&str> = datasets
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "countries",
            "subdivisions",
            "currencies",
            "exchange_rates",
            "tax_rates"
        ]
    );
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let files = [
        "countries.json",
        "subdivisions.json",
        "currencies.json",
        "exchange-rates.csv",
        "sources/tax-rates.csv",
    ];
    for (dataset, file) in datasets.iter().zip(files) {
        use sha2::Digest;
        let bytes = std::fs::read(data.join(file)).unwrap();
        let expected = format!("sha256:{}", hex::encode(sha2::Sha256::digest(&bytes)));
        assert_eq!(dataset["content_hash"], expected, "{file}");
        assert!(dataset["version"].as_str().is_some_and(|v| !v.is_empty()));
    }
    assert_eq!(datasets[3]["version"], "1999-01-04..2026-10-30");
    assert_eq!(datasets[3]["updated"], "2026-10-30");
    assert_eq!(datasets[2]["updated"], "2026-01-01");
}

#[tokio::test]
async fn health_readiness_metrics_and_openapi() {
    assert_eq!(get_ok("/healthz").await, json!({"status":"ok"}));
    assert_eq!(get_ok("/readyz").await, json!({"status":"ready"}));
    let closed = get("/metrics").await;
    assert_eq!(closed.status, 401);
    assert_eq!(closed.header("content-type"), "application/problem+json");
    let text = &common::get_authorized(&format!("http://{}/metrics", common::server())).await;
    assert!(text.contains("refdata_ready 1"));
    assert!(text.contains("refdata_dataset_records{dataset=\"countries\"} 249"));
    let openapi = get_ok("/openapi.json").await;
    assert!(openapi["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/v1/countries",
        "/v1/countries/{code}",
        "/v1/countries/{code}/subdivisions",
        "/v1/currencies",
        "/v1/currencies/{code}",
        "/v1/exchange-rates",
        "/v1/exchange-rates/{date}",
        "/v1/convert",
        "/v1/tax-rates",
        "/v1/tax-rates/{country}",
        "/v1/datasets",
    ] {
        assert!(openapi["paths"].get(path).is_some(), "{path} documented");
    }
    let description = openapi["info"]["description"].as_str().unwrap();
    assert!(description.contains("half-to-even"));
}

#[tokio::test]
async fn the_openapi_document_types_parameters_and_documents_every_status() {
    let document = get_ok("/openapi.json").await;
    assert_eq!(document["openapi"], "3.1.0");
    let mut ids = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for operation in item.as_object().unwrap().values() {
            ids.push(operation["operationId"].as_str().unwrap().to_owned());
        }
        if path.starts_with("/v1/admin") {
            for operation in item.as_object().unwrap().values() {
                let responses = operation["responses"].as_object().unwrap();
                assert!(responses.contains_key("401"), "{path}");
                assert_eq!(operation["security"][0]["bearer"], json!([]), "{path}");
            }
        }
        let Some(operation) = item.get("get") else {
            continue;
        };
        let responses = operation["responses"].as_object().unwrap();
        assert!(responses.contains_key("414"), "{path}");
        let cacheable = !path.starts_with("/v1/admin") && !path.starts_with("/v1/changes");
        if path.starts_with("/v1/") && cacheable {
            for status in ["304", "406", "412", "503"] {
                assert!(responses.contains_key(status), "{path} {status}");
            }
        }
    }
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "operationIds are unique");

    let convert = &document["paths"]["/v1/convert"]["get"]["parameters"];
    let amount = convert
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "amount")
        .unwrap();
    assert!(amount["schema"]["pattern"].is_string());
    let series = &document["paths"]["/v1/exchange-rates"]["get"];
    let query = &series["parameters"][0];
    assert_eq!(query["name"], "query");
    assert_eq!(query["schema"]["anyOf"].as_array().unwrap().len(), 2);
    assert!(
        series["responses"]["200"]["content"]["application/json"]["schema"]["anyOf"]
            .to_string()
            .contains("SeriesResponse")
    );
    assert!(document["components"]["schemas"]["CountryProjection"].is_object());
}
