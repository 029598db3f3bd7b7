use serde::de::DeserializeOwned;

/// Load `.env` (if present) then deserialize every variable starting with `prefix`.
///
/// `load::<DispatchConfig>("DISPATCH_")` reads `DISPATCH_DATABASE_URL` into
/// `database_url`, and so on.
pub fn load<T: DeserializeOwned>(prefix: &str) -> anyhow::Result<T> {
    let _ = dotenvy::dotenv();
    Ok(envy::prefixed(prefix).from_env::<T>()?)
}
