//! Typed, caching client for the refdata service.
