// @generated automatically by Diesel CLI.

diesel::table! {
    currencies (code) {
        #[max_length = 3]
        code -> Bpchar,
        name -> Text,
        minor_units -> Int2,
    }
}

diesel::table! {
    idempotency_keys (key) {
        key -> Text,
        order_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    order_lines (order_id, line_no) {
        order_id -> Uuid,
        line_no -> Int4,
        sku -> Text,
        quantity -> Int4,
        unit_price_cents -> Int8,
    }
}

diesel::table! {
    orders (id) {
        id -> Uuid,
        customer_id -> Uuid,
        status -> Text,
        total_cents -> Int8,
        #[max_length = 3]
        currency -> Bpchar,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    outbox (id) {
        id -> Int8,
        exchange -> Text,
        routing_key -> Text,
        payload -> Jsonb,
        created_at -> Timestamptz,
        published_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(order_lines -> orders (order_id));
diesel::joinable!(orders -> currencies (currency));

diesel::allow_tables_to_appear_in_same_query!(currencies, idempotency_keys, order_lines, orders, outbox,);
