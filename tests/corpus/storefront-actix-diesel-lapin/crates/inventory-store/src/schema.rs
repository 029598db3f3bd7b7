// @generated automatically by Diesel CLI.

diesel::table! {
    idempotency_keys (key) {
        key -> Text,
        request_hash -> Text,
        response_body -> Jsonb,
        status_code -> Int2,
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
    reservations (id) {
        id -> Uuid,
        order_id -> Uuid,
        sku -> Text,
        quantity -> Int4,
        status -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    stock_items (sku) {
        sku -> Text,
        warehouse -> Text,
        on_hand -> Int4,
        available -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(reservations -> stock_items (sku));

diesel::allow_tables_to_appear_in_same_query!(
    idempotency_keys,
    processed_messages,
    reservations,
    stock_items,
);
