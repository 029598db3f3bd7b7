//! Start-up and look-up costs of the embedded snapshot. Target: loading everything (parse,
//! index, hash) well under a second.

use std::hint::black_box;
use std::str::FromStr;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};
use refdata::store::{CountryFilter, EmbeddedSource, SnapshotSource};
use rust_decimal::Decimal;

fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("snapshot");
    group.sample_size(20);
    group.bench_function("load_embedded", |b| {
        b.iter(|| black_box(EmbeddedSource.load().expect("snapshot loads")))
    });
    group.finish();
}

fn lookups(c: &mut Criterion) {
    let snapshot = EmbeddedSource.load().expect("snapshot loads");
    let date = NaiveDate::from_ymd_opt(2024, 1, 6).expect("valid date");
    let amount = Decimal::from_str("12.34").expect("valid amount");
    c.bench_function("country_by_alpha3", |b| {
        b.iter(|| black_box(snapshot.country(black_box("deu"))))
    });
    c.bench_function("country_search", |b| {
        let filter = CountryFilter {
            query: Some("republic".into()),
            ..Default::default()
        };
        b.iter(|| black_box(snapshot.find_countries(&filter)))
    });
    c.bench_function("quote_all_in_usd", |b| {
        b.iter(|| black_box(snapshot.exchange_rates().quote("USD", date, &[])))
    });
    c.bench_function("convert_usd_jpy", |b| {
        b.iter(|| {
            black_box(
                snapshot
                    .exchange_rates()
                    .convert("USD", "JPY", amount, date, Some(0)),
            )
        })
    });
    c.bench_function("series_full_history_usd", |b| {
        let start = NaiveDate::from_ymd_opt(1999, 1, 1).expect("valid date");
        let end = NaiveDate::from_ymd_opt(2030, 1, 1).expect("valid date");
        b.iter(|| {
            black_box(
                snapshot
                    .exchange_rates()
                    .series("EUR", start, end, &["USD".into()]),
            )
        })
    });
}

criterion_group!(benches, load, lookups);
criterion_main!(benches);
