//! Every file archlint opens is read here: regular files only, and no more than the cap of
//! its kind.
//!
//! A workspace may hold anything: a FIFO named `.env` (reading it waits forever for a
//! writer), a `diesel.toml` linked to `/dev/zero` (reading it never ends), a generated file
//! of hundreds of megabytes. Each kind of file has a cap well above what real projects hold
//! ([`FileClass::cap`], listed in the README); a file over it, or one that is not a regular
//! file, is refused with a [`ReadError`] that the caller turns into a note naming it.

use std::io::Read;
use std::path::Path;

use camino::{Utf8Path, Utf8PathBuf};

use crate::cache::deps::{self, Dep, Probe};

/// What a file is read as; decides its size cap.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum FileClass {
    /// A `.rs` file of a member.
    Rust,
    /// A migration, an init script, or a file `include_str!` brings into code.
    Sql,
    /// A docker-compose file, a Kubernetes manifest, or a Dockerfile.
    Deployment,
    /// `.env`, `config/*.toml|yaml`, `diesel.toml`.
    Settings,
    /// A `Cargo.toml` or `archlint.toml`.
    Manifest,
    /// A baseline written by `--write-baseline`.
    Baseline,
    /// An entry of the warm cache (`target/archlint/`).
    Cache,
}

impl FileClass {
    /// The largest file of this kind that is read, in bytes.
    pub const fn cap(self) -> u64 {
        const MIB: u64 = 1 << 20;
        match self {
            FileClass::Rust => 16 * MIB,
            FileClass::Sql => 16 * MIB,
            FileClass::Deployment => 8 * MIB,
            FileClass::Settings => MIB,
            FileClass::Manifest => MIB,
            FileClass::Baseline => 32 * MIB,
            FileClass::Cache => 512 * MIB,
        }
    }

    /// How the cap is named in messages.
    pub const fn describe(self) -> &'static str {
        match self {
            FileClass::Rust => "Rust source",
            FileClass::Sql => "SQL",
            FileClass::Deployment => "deployment files",
            FileClass::Settings => "settings files",
            FileClass::Manifest => "manifests",
            FileClass::Baseline => "baselines",
            FileClass::Cache => "cache entries",
        }
    }

    /// Every class, for the documentation test.
    pub const ALL: [FileClass; 7] = [
        FileClass::Rust,
        FileClass::Sql,
        FileClass::Deployment,
        FileClass::Settings,
        FileClass::Manifest,
        FileClass::Baseline,
        FileClass::Cache,
    ];
}

/// Why a file was not read. Displayed after the file's path.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("does not exist")]
    Missing,
    #[error("is {0}, not a regular file; skipped")]
    NotRegular(&'static str),
    #[error("is {size} bytes, over the {} MiB cap for {}; skipped", class.cap() >> 20, class.describe())]
    TooLarge { size: u64, class: FileClass },
    #[error("cannot be read ({0}); skipped")]
    Io(std::io::Error),
    #[error("is not valid UTF-8; skipped")]
    NotUtf8,
}

impl ReadError {
    /// A file that is simply not there: callers probing for optional files stay silent.
    pub fn is_missing(&self) -> bool {
        matches!(self, ReadError::Missing)
    }

    /// A file too large for its class (the note kind differs from an unreadable file).
    pub fn is_too_large(&self) -> bool {
        matches!(self, ReadError::TooLarge { .. })
    }
}

/// Reads a UTF-8 file of the given class. While an extraction is recorded for the cache
/// ([`crate::cache::deps::recording`]), the read and its outcome are recorded.
pub fn read_text(path: impl AsRef<Path>, class: FileClass) -> Result<String, ReadError> {
    let path = path.as_ref();
    let result = read_text_unrecorded(path, class);
    deps::record(|| Dep::Read {
        path: utf8(path),
        class,
        outcome: deps::read_outcome(&result),
    });
    result
}

/// [`read_text`] without recording it.
pub fn read_text_unrecorded(path: impl AsRef<Path>, class: FileClass) -> Result<String, ReadError> {
    let bytes = read_bytes(path, class)?;
    String::from_utf8(bytes).map_err(|_| ReadError::NotUtf8)
}

/// True when `path` is a regular file (after following links); recorded like a read.
pub fn is_file(path: &Utf8Path) -> bool {
    probe(Probe::IsFile, path)
}

/// True when `path` is a directory (after following links); recorded like a read.
pub fn is_dir(path: &Utf8Path) -> bool {
    probe(Probe::IsDir, path)
}

/// True when anything is at `path` (after following links); recorded like a read.
pub fn exists(path: &Utf8Path) -> bool {
    probe(Probe::Exists, path)
}

fn probe(probe: Probe, path: &Utf8Path) -> bool {
    let answer = probe.ask(path);
    deps::record(|| Dep::Probe {
        probe,
        path: path.to_owned(),
        answer,
    });
    answer
}

/// The entries of a directory, sorted by name (empty when it cannot be listed); recorded
/// like a read.
pub fn list_dir(path: &Utf8Path) -> Vec<Utf8PathBuf> {
    let names = deps::list_names(path);
    let entries = names.iter().flatten().map(|name| path.join(name)).collect();
    deps::record(|| Dep::List {
        path: path.to_owned(),
        names,
    });
    entries
}

fn utf8(path: &Path) -> Utf8PathBuf {
    Utf8PathBuf::from(path.to_string_lossy().into_owned())
}

/// Reads a file of the given class: follows symbolic links, then refuses anything that is
/// not a regular file before opening it (opening a FIFO blocks), and never reads past the cap
/// (a file may grow between the check and the read).
pub fn read_bytes(path: impl AsRef<Path>, class: FileClass) -> Result<Vec<u8>, ReadError> {
    let path = path.as_ref();
    let metadata = std::fs::metadata(path).map_err(io_error)?;
    check_metadata(&metadata, class)?;
    let file = std::fs::File::open(path).map_err(io_error)?;
    // The path may have been swapped for something else since it was looked at.
    check_metadata(&file.metadata().map_err(io_error)?, class)?;
    let cap = class.cap();
    let mut bytes = Vec::with_capacity(metadata.len().min(cap) as usize);
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > cap {
        return Err(ReadError::TooLarge {
            size: bytes.len() as u64,
            class,
        });
    }
    Ok(bytes)
}

/// True when `path` is a regular file (after following links), as [`read_bytes`] requires.
pub fn is_regular_file(path: impl AsRef<Path>) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

fn check_metadata(metadata: &std::fs::Metadata, class: FileClass) -> Result<(), ReadError> {
    if !metadata.is_file() {
        return Err(ReadError::NotRegular(describe_type(metadata.file_type())));
    }
    if metadata.len() > class.cap() {
        return Err(ReadError::TooLarge {
            size: metadata.len(),
            class,
        });
    }
    Ok(())
}

fn io_error(error: std::io::Error) -> ReadError {
    match error.kind() {
        std::io::ErrorKind::NotFound => ReadError::Missing,
        _ => ReadError::Io(error),
    }
}

fn describe_type(file_type: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_devices_directories_and_oversized_files() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            read_text(dir.path(), FileClass::Settings),
            Err(ReadError::NotRegular("a directory"))
        ));
        assert!(read_text(dir.path().join("absent"), FileClass::Settings)
            .is_err_and(|e| e.is_missing()));
        #[cfg(unix)]
        assert!(matches!(
            read_text("/dev/zero", FileClass::Settings),
            Err(ReadError::NotRegular("a character device"))
        ));
        let big = dir.path().join("big.env");
        std::fs::write(&big, vec![b'a'; (FileClass::Settings.cap() + 1) as usize])
            .unwrap_or_else(|e| panic!("{e}"));
        let error = read_text(&big, FileClass::Settings).map(|_| ());
        assert!(
            error.as_ref().is_err_and(ReadError::is_too_large),
            "{error:?}"
        );
        let small = dir.path().join("small.env");
        std::fs::write(&small, "A=1\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            read_text(&small, FileClass::Settings).ok().as_deref(),
            Some("A=1\n")
        );
    }
}
