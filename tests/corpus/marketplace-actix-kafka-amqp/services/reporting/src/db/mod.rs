pub mod schema;

use diesel::{pg::PgConnection, r2d2::{ConnectionManager, Pool}};

pub type PgPool = Pool<ConnectionManager<PgConnection>>;

pub fn pool(url: &str) -> PgPool {
    Pool::builder().max_size(4).build(ConnectionManager::new(url)).expect("r2d2 pool")
}
