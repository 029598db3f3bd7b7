// @generated automatically by Diesel CLI.

diesel::table! {
    daily_sales (day, currency) {
        day -> Date,
        currency -> Bpchar,
        orders -> Int4,
        total_minor -> Int8,
    }
}

diesel::table! {
    orders (id) {
        id -> Uuid,
        customer_id -> Uuid,
        status -> Text,
        currency -> Bpchar,
        ship_to_country -> Bpchar,
        total_minor -> Int8,
        created_at -> Timestamptz,
    }
}
