//! Bearer tokens of the admin API and `/metrics`.
//!
//! Tokens are configured as SHA-256 hashes (a tokens file) or given once in the environment
//! (`REFDATA_ADMIN_TOKEN`, hashed at start-up); the process never keeps a token in clear.
//! A presented token is hashed and compared with every configured hash in constant time, so
//! neither the comparison nor the position of a match leaks through timing. Tokens are
//! random secrets, not passwords, so a fast hash is enough.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use thiserror::Error;

/// What a token may do; each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// `/metrics`, the audit log and the admin listings.
    Reader,
    /// Changes to countries, currencies, tax rates and exchange rates.
    Editor,
    /// Rollbacks.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "reader" => Ok(Role::Reader),
            "editor" => Ok(Role::Editor),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role {other:?}; expected reader, editor or admin"
            )),
        }
    }
}

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

#[derive(Debug, Clone)]
struct Entry {
    hash: [u8; 32],
    name: String,
    role: Role,
}

/// The configured tokens.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    entries: Vec<Entry>,
}

#[derive(Debug, Error)]
pub enum TokensError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} line {line}: {message}")]
    Invalid {
        path: String,
        line: usize,
        message: String,
    },
}

/// `sha256:` and the hex digest of `token`, as written in a tokens file.
pub fn hash_token(token: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(token.as_bytes())))
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No `Authorization` header.
    Missing,
    /// Not `Bearer <token>`.
    Malformed,
    /// No such token.
    Unknown,
    /// A valid token whose role is too small.
    Forbidden { has: Role, needs: Role },
}

impl Tokens {
    /// The one admin token of `REFDATA_ADMIN_TOKEN`.
    pub fn admin(token: &str) -> Self {
        let mut tokens = Self::default();
        tokens.add(
            "admin-token",
            Role::Admin,
            Sha256::digest(token.as_bytes()).into(),
        );
        tokens
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn add(&mut self, name: &str, role: Role, hash: [u8; 32]) {
        self.entries.push(Entry {
            hash,
            name: name.to_owned(),
            role,
        });
    }

    /// Adds the tokens of `other`.
    pub fn merge(&mut self, other: Tokens) {
        self.entries.extend(other.entries);
    }

    /// Reads a tokens file: one token per line, `NAME ROLE sha256:HEX`; `#` starts a comment.
    pub fn from_file(path: &Path) -> Result<Self, TokensError> {
        let text = std::fs::read_to_string(path).map_err(|source| TokensError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text).map_err(|(line, message)| TokensError::Invalid {
            path: path.display().to_string(),
            line,
            message,
        })
    }

    pub fn parse(text: &str) -> Result<Self, (usize, String)> {
        let mut tokens = Self::default();
        for (index, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let bad = |message: String| (index + 1, message);
            let parts: Vec<&str> = line.split_whitespace().collect();
            let [name, role, hash] = parts[..] else {
                return Err(bad("expected `NAME ROLE sha256:HEX`".into()));
            };
            let role: Role = role.parse().map_err(bad)?;
            let digest = hash
                .strip_prefix("sha256:")
                .and_then(|hex_digest| hex::decode(hex_digest).ok())
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .ok_or_else(|| {
                    bad(
                        "the hash must be `sha256:` and 64 hex digits (see `refdata hash-token`)"
                            .into(),
                    )
                })?;
            tokens.add(name, role, digest);
        }
        Ok(tokens)
    }

    /// The caller presenting `authorization` (the header's value), if it has at least `needs`.
    pub fn check(&self, authorization: Option<&[u8]>, needs: Role) -> Result<Caller, Refusal> {
        let header = authorization.ok_or(Refusal::Missing)?;
        let token = header
            .strip_prefix(b"Bearer ")
            .or_else(|| header.strip_prefix(b"bearer "))
            .filter(|t| !t.is_empty() && t.iter().all(|b| b.is_ascii_graphic()))
            .ok_or(Refusal::Malformed)?;
        let presented: [u8; 32] = Sha256::digest(token).into();
        let mut found: Option<&Entry> = None;
        for entry in &self.entries {
            // Every entry is compared, whatever matched before.
            if bool::from(entry.hash.ct_eq(&presented)) {
                found = Some(entry);
            }
        }
        let entry = found.ok_or(Refusal::Unknown)?;
        if entry.role < needs {
            return Err(Refusal::Forbidden {
                has: entry.role,
                needs,
            });
        }
        Ok(Caller {
            name: entry.name.clone(),
            role: entry.role,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked_by_hash_and_role() {
        let file = format!(
            "# comment\nci editor {}\nops reader {} # trailing\n",
            hash_token("editor-secret"),
            hash_token("reader-secret")
        );
        let mut tokens = Tokens::parse(&file).unwrap();
        tokens.merge(Tokens::admin("root-secret"));
        let check = |header: &str, needs| tokens.check(Some(header.as_bytes()), needs);
        assert_eq!(
            check("Bearer editor-secret", Role::Editor).unwrap().name,
            "ci"
        );
        assert_eq!(
            check("Bearer root-secret", Role::Admin).unwrap().role,
            Role::Admin
        );
        assert_eq!(
            check("Bearer reader-secret", Role::Editor),
            Err(Refusal::Forbidden {
                has: Role::Reader,
                needs: Role::Editor
            })
        );
        assert_eq!(check("Bearer wrong", Role::Reader), Err(Refusal::Unknown));
        assert_eq!(check("Basic abc", Role::Reader), Err(Refusal::Malformed));
        assert_eq!(check("Bearer ", Role::Reader), Err(Refusal::Malformed));
        assert_eq!(tokens.check(None, Role::Reader), Err(Refusal::Missing));
    }

    #[test]
    fn bad_token_files_name_the_line() {
        assert_eq!(Tokens::parse("a admin sha256:00\n").unwrap_err().0, 1);
        assert_eq!(Tokens::parse("\n\na owner sha256:00\n").unwrap_err().0, 3);
        assert!(Tokens::parse("a admin\n").is_err());
    }
}
