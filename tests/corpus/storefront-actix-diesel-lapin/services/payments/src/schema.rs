// @generated automatically by Diesel CLI.

diesel::table! {
    currencies (code) {
        #[max_length = 3]
        code -> Bpchar,
        minor_units -> Int2,
        psp_supported -> Bool,
    }
}

diesel::table! {
    idempotency_keys (key) {
        key -> Text,
        payment_id -> Uuid,
        created_at -> Timestamptz,
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

diesel::table! {
    payments (id) {
        id -> Uuid,
        order_id -> Uuid,
        amount_cents -> Int8,
        #[max_length = 3]
        currency -> Bpchar,
        psp_reference -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    processed_messages (message_id, consumer) {
        message_id -> Uuid,
        consumer -> Text,
        processed_at -> Timestamptz,
    }
}

diesel::table! {
    refunds (id) {
        id -> Uuid,
        payment_id -> Uuid,
        amount_cents -> Int8,
        reason -> Text,
        psp_reference -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    settlement_batches (id) {
        id -> Uuid,
        settled_on -> Date,
        total_cents -> Int8,
        status -> Text,
    }
}

diesel::joinable!(refunds -> payments (payment_id));

diesel::allow_tables_to_appear_in_same_query!(
    currencies,
    idempotency_keys,
    outbox,
    payments,
    processed_messages,
    refunds,
    settlement_batches,
);
