// @generated automatically by Diesel CLI.

diesel::table! {
    shipments (id) {
        id -> Uuid,
        order_id -> Uuid,
        recipient -> Nullable<Text>,
        line1 -> Nullable<Text>,
        city -> Nullable<Text>,
        postal_code -> Nullable<Text>,
        #[max_length = 2]
        country -> Nullable<Bpchar>,
        status -> Text,
        carrier -> Nullable<Text>,
        tracking_no -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}
