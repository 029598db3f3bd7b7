pub mod inventory {
    tonic::include_proto!("inventory.v1");
}
