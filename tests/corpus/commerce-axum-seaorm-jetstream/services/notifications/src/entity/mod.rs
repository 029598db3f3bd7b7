pub mod notification_log;
pub mod order_view;
