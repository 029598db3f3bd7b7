//! The warm cache: the facts extracted from each file, kept between runs under the linted
//! workspace's target directory (`target/archlint/`, or `$CARGO_TARGET_DIR/archlint/`), so
//! that an unchanged workspace is checked without parsing anything and a change re-extracts
//! only the files it touched. The model is built and the rules run on every run, from the
//! cached facts and the fresh ones alike.
//!
//! Each file's entry is found by the file's path and trusted only when all of these are what
//! they were when it was written:
//!
//! - the file's text (its SHA-256; never its modification time);
//! - the tool: archlint's version, [`FORMAT`] and the running executable's size and
//!   modification time, so any rebuild of archlint starts afresh;
//! - the configuration file's path and text;
//! - the workspace: its root, its members (id, name, directory, dialect, targets,
//!   Dockerfile) and, for a file of a crate, everything about that crate's manifest;
//! - everything else its extraction read or asked of the file system ([`deps`]): the text of
//!   `include_str!` targets, query files and the files a compose file names, whether a
//!   Dockerfile or directory is there, what a directory holds.
//!
//! Anything else is a miss: the file is extracted again and its entry rewritten. An entry
//! that cannot be read, does not parse, or comes from another format version is a miss too,
//! never an error.
//!
//! The entries live in one file, `facts` ([`Pack`]), read once at the start of a run. When a
//! run extracted anything, or found entries of files that are no longer in the workspace, it
//! writes a new `facts` with the entries of this run's files only (the unchanged ones copied
//! as they were read) to a temporary file and renames it over the old one: concurrent runs
//! and interrupted writes never leave a half-written `facts`, and the cache never grows past
//! the workspace. (One file rather than one per source file: creating and deleting a file per
//! entry costs more than the parse it saves on some file systems, and a warm run opens one
//! file instead of one per source file.)
//!
//! One more thing is kept: whether `cargo metadata` agreed with the members read from the
//! manifests. While every manifest read is byte-identical (and the tool is the same), a warm
//! run does not start `cargo metadata` again.

pub mod deps;

use std::cell::Cell;
use std::io::Write;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use camino::{Utf8Path, Utf8PathBuf};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::extract::Facts;
use crate::model::{Crate, CrateId, FileId};
use crate::read::FileClass;

pub use deps::Dep;

/// The version of what entries hold. Bump it when [`Facts`] or anything it holds changes
/// shape, and when an extractor starts to depend on something the key does not cover.
pub const FORMAT: u32 = 1;

/// Stands in for archlint's version in the key (tests use it to play a new release).
pub const TOOL_VERSION_VAR: &str = "ARCHLINT_CACHE_TOOL_VERSION";

/// The name of the record of what `cargo metadata` said last.
const CARGO_RECORD: &str = "cargo-metadata";

/// The name of the file holding the entries.
const PACK: &str = "facts";

/// What the entries file starts with; another format's file is not read at all.
fn pack_magic() -> String {
    format!("archlint facts {FORMAT}\n")
}

/// What one run did with the cache.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Where the entries are.
    pub dir: Utf8PathBuf,
    /// Files read for extraction.
    pub files: usize,
    /// Of them, taken from the cache.
    pub from_cache: usize,
    /// Entries that could not be written (the run is not affected).
    pub unwritten: usize,
    /// Entries of files no longer in the workspace, deleted.
    pub pruned: usize,
    /// `cargo metadata` was not run: it agreed last time, on the same manifests.
    pub cargo_skipped: bool,
}

impl Stats {
    /// The line `--verbose` prints: `archlint: 1,214 files, 1,213 from the cache (...)`.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "archlint: {} files, {} from the cache, {} extracted",
            thousands(self.files),
            thousands(self.from_cache),
            thousands(self.files - self.from_cache.min(self.files)),
        );
        if self.pruned > 0 {
            line.push_str(&format!(
                ", {} stale entries removed",
                thousands(self.pruned)
            ));
        }
        if self.unwritten > 0 {
            line.push_str(&format!(
                ", {} entries could not be written",
                thousands(self.unwritten)
            ));
        }
        if self.cargo_skipped {
            line.push_str("; manifests unchanged, cargo metadata not rerun");
        }
        line.push_str(&format!(" ({})", self.dir));
        line
    }
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The cache of one workspace for one run.
#[derive(Debug)]
pub struct Cache {
    dir: Utf8PathBuf,
    /// The tool, the configuration and the workspace's members.
    base: [u8; 32],
    /// Per crate: its manifest as the extractors see it.
    crate_keys: Vec<[u8; 32]>,
    /// The tool alone (for the `cargo metadata` record).
    tool: String,
    from_cache: AtomicUsize,
    files: AtomicUsize,
    unwritten: AtomicUsize,
    cargo_skipped: AtomicBool,
    /// The entries as this run found them.
    pack: Pack,
    /// This run's files, with the entries written for them (`None`: the one read is current).
    written: Mutex<FxHashMap<String, Option<Vec<u8>>>>,
}

/// Which file an entry is for and what it must have been written under.
#[derive(Debug, Clone)]
pub struct Slot {
    /// The file's workspace-relative path.
    path: String,
    key: String,
}

/// The entries file: after [`pack_magic`], one record per file, each its path, its
/// [`Header`] (JSON) and its facts (MessagePack), every part preceded by its length as four
/// little-endian bytes.
#[derive(Debug, Default)]
struct Pack {
    bytes: Vec<u8>,
    /// Per path: the whole record, the header and the facts, as ranges of `bytes`.
    records: FxHashMap<String, [Range<usize>; 3]>,
}

impl Pack {
    /// Reads the entries file; what cannot be read is left out (a missing, unreadable or
    /// other-format file has no entries, a damaged one keeps those before the damage).
    fn read(path: &Utf8Path) -> Pack {
        let Ok(bytes) = crate::read::read_bytes(path, FileClass::Cache) else {
            return Pack::default();
        };
        let magic = pack_magic();
        if !bytes.starts_with(magic.as_bytes()) {
            return Pack::default();
        }
        let mut records = FxHashMap::default();
        let mut at = magic.len();
        while at < bytes.len() {
            let start = at;
            let mut part = || {
                let length = bytes.get(at..at + 4)?;
                let length = u32::from_le_bytes(length.try_into().ok()?) as usize;
                let range = at + 4..(at + 4).checked_add(length)?;
                bytes.get(range.clone())?;
                at = range.end;
                Some(range)
            };
            let (Some(path), Some(header), Some(facts)) = (part(), part(), part()) else {
                break;
            };
            let Ok(path) = std::str::from_utf8(&bytes[path]) else {
                break;
            };
            records.insert(path.to_string(), [start..at, header, facts]);
        }
        Pack { bytes, records }
    }

    /// One record's bytes.
    fn record(path: &str, header: &[u8], facts: &[u8]) -> Vec<u8> {
        let mut record = Vec::with_capacity(12 + path.len() + header.len() + facts.len());
        for part in [path.as_bytes(), header, facts] {
            record.extend_from_slice(&(part.len() as u32).to_le_bytes());
            record.extend_from_slice(part);
        }
        record
    }
}

/// What an entry is checked against before its facts are read (JSON). The facts are
/// MessagePack, structs as arrays of every field ([`encode_entry`]); a self-describing format,
/// as some of the model's enums are tagged internally, which serde reads back only from one.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: u32,
    key: String,
    /// SHA-256 of the file's text.
    content: String,
    /// The file's id when the entry was written.
    file: u32,
    deps: Vec<Dep>,
}

impl Cache {
    /// The cache of the workspace at `root` (absolute), for this tool and configuration.
    /// `None` when the running executable cannot be identified, so that an entry written by
    /// another build is never taken for this one's.
    /// `explicit` is the configuration file named on the command line, if any.
    pub fn open(root: &Utf8Path, explicit: Option<&Utf8Path>, config: &Config) -> Option<Cache> {
        let tool = tool_id()?;
        let dir = dir_for(root);
        let mut hasher = Sha256::new();
        for part in [
            tool.as_str(),
            &config_key(root, explicit, config),
            root.as_str(),
            &crate::stack::max_nesting().to_string(),
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        Some(Cache {
            base: hasher.finalize().into(),
            crate_keys: Vec::new(),
            tool,
            from_cache: AtomicUsize::new(0),
            files: AtomicUsize::new(0),
            unwritten: AtomicUsize::new(0),
            cargo_skipped: AtomicBool::new(false),
            pack: Pack::read(&dir.join(PACK)),
            written: Mutex::new(FxHashMap::default()),
            dir,
        })
    }

    /// Adds the workspace's members to the key: every entry depends on the list of members,
    /// a file of a crate on its crate's manifest too.
    pub fn set_crates(&mut self, crates: &[Crate]) {
        let members: Vec<_> = crates
            .iter()
            .map(|c| {
                (
                    c.id,
                    &c.name,
                    &c.dir,
                    c.dialect,
                    c.has_bin,
                    c.has_lib,
                    &c.dockerfile,
                )
            })
            .collect();
        let mut hasher = Sha256::new();
        hasher.update(self.base);
        hasher.update(serde_json::to_vec(&members).unwrap_or_default());
        self.base = hasher.finalize().into();
        self.crate_keys = crates
            .iter()
            .map(|c| sha256(&serde_json::to_vec(c).unwrap_or_default()))
            .collect();
    }

    /// Where the entries file is.
    pub fn dir(&self) -> &Utf8Path {
        &self.dir
    }

    /// The slot of a file (workspace-relative `path`) extracted as `kind` for `krate`.
    pub fn slot(&self, path: &Utf8Path, kind: &str, krate: Option<CrateId>) -> Slot {
        let mut hasher = Sha256::new();
        hasher.update(self.base);
        match krate.and_then(|id| self.crate_keys.get(id.0 as usize)) {
            Some(key) => hasher.update(key),
            None => hasher.update([0; 32]),
        }
        hasher.update(path.as_str().as_bytes());
        hasher.update([0]);
        hasher.update(kind.as_bytes());
        let path = path.as_str().to_string();
        if let Ok(mut written) = self.written.lock() {
            written.insert(path.clone(), None);
        }
        Slot {
            path,
            key: hex(&hasher.finalize()),
        }
    }

    /// The cached facts of a file whose text hashes to `content`, with `file` as its id;
    /// `None` unless the entry is there, intact, and written under the same key from the
    /// same text with the same answers from the file system.
    pub fn load(&self, slot: &Slot, content: &str, file: FileId) -> Option<Facts> {
        self.files.fetch_add(1, Ordering::Relaxed);
        let facts = self.read_entry(slot, content, file)?;
        self.from_cache.fetch_add(1, Ordering::Relaxed);
        Some(facts)
    }

    fn read_entry(&self, slot: &Slot, content: &str, file: FileId) -> Option<Facts> {
        let [_, header, facts] = self.pack.records.get(&slot.path)?;
        let header: Header = serde_json::from_slice(&self.pack.bytes[header.clone()]).ok()?;
        let current =
            header.format == FORMAT && header.key == slot.key && header.content == content;
        if !current || !header.deps.iter().all(Dep::holds) {
            return None;
        }
        with_file_id(header.file, file.0, || {
            rmp_serde::from_slice(&self.pack.bytes[facts.clone()]).ok()
        })
    }

    /// Keeps a file's new entry, written out by [`Cache::finish`].
    pub fn store(&self, slot: &Slot, content: &str, file: FileId, deps: Vec<Dep>, facts: &Facts) {
        let header = Header {
            format: FORMAT,
            key: slot.key.clone(),
            content: content.to_string(),
            file: file.0,
            deps,
        };
        let encoded = serde_json::to_vec(&header)
            .ok()
            .zip(encode_entry(facts).ok());
        let Some((header, facts)) = encoded else {
            self.unwritten.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if let Ok(mut written) = self.written.lock() {
            written.insert(
                slot.path.clone(),
                Some(Pack::record(&slot.path, &header, &facts)),
            );
        }
    }

    /// Writes the entries of this run's files, when anything changed, and says what the run
    /// did with the cache.
    pub fn finish(&self) -> Stats {
        let written = self
            .written
            .lock()
            .map(|mut written| std::mem::take(&mut *written))
            .unwrap_or_default();
        let pruned = self
            .pack
            .records
            .keys()
            .filter(|path| !written.contains_key(*path))
            .count();
        let new = written.values().filter(|entry| entry.is_some()).count();
        if (new > 0 || pruned > 0) && !self.write_pack(written) {
            self.unwritten.fetch_add(new, Ordering::Relaxed);
        }
        Stats {
            dir: self.dir.clone(),
            files: self.files.load(Ordering::Relaxed),
            from_cache: self.from_cache.load(Ordering::Relaxed),
            unwritten: self.unwritten.load(Ordering::Relaxed),
            pruned,
            cargo_skipped: self.cargo_skipped.load(Ordering::Relaxed),
        }
    }

    /// Writes `facts` anew: the new entries, and the entries read that are still current.
    fn write_pack(&self, written: FxHashMap<String, Option<Vec<u8>>>) -> bool {
        let mut paths: Vec<&String> = written.keys().collect();
        paths.sort();
        let write = |out: &mut dyn Write| {
            out.write_all(pack_magic().as_bytes())?;
            for path in paths {
                let record = match &written[path] {
                    Some(record) => record.as_slice(),
                    None => match self.pack.records.get(path) {
                        Some([record, _, _]) => &self.pack.bytes[record.clone()],
                        None => continue,
                    },
                };
                out.write_all(record)?;
            }
            Ok(())
        };
        let written =
            std::fs::create_dir_all(&self.dir).is_ok() && write_atomically(&self.dir, PACK, write);
        remove_leftovers(&self.dir);
        written
    }

    /// The key under which `cargo metadata`'s agreement with members read from manifests is
    /// remembered: the tool, the members as read, and every manifest read for them.
    pub fn cargo_key(&self, guess: &crate::discover::Workspace, reads: &[Dep]) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.tool.as_bytes());
        hasher.update(format!("{guess:?}").as_bytes());
        hasher.update(serde_json::to_vec(reads).unwrap_or_default());
        hex(&hasher.finalize())
    }

    /// True when `cargo metadata` agreed last time under this key, and every file read for
    /// it still reads the same.
    pub fn cargo_agreed(&self, key: &str) -> bool {
        let agreed = std::fs::read_to_string(self.dir.join(CARGO_RECORD))
            .is_ok_and(|recorded| recorded.trim() == key);
        self.cargo_skipped.store(agreed, Ordering::Relaxed);
        agreed
    }

    /// Remembers that `cargo metadata` agreed under this key.
    pub fn remember_cargo(&self, key: &str) {
        // Not written, the next run asks cargo again.
        let _ = std::fs::create_dir_all(&self.dir).is_ok()
            && write_atomically(&self.dir, CARGO_RECORD, |out| out.write_all(key.as_bytes()));
    }
}

/// The cache directory of the workspace at `root`: `archlint/<hash of the root>` under
/// `$CARGO_TARGET_DIR` when it is set (shared by every workspace built with it), else under
/// the workspace's `target/`.
pub fn dir_for(root: &Utf8Path) -> Utf8PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .ok()
        .filter(|dir| !dir.is_empty())
        .map(Utf8PathBuf::from)
        .map(|dir| match std::env::current_dir() {
            Ok(cwd) if dir.is_relative() => {
                Utf8PathBuf::from(cwd.to_string_lossy().into_owned()).join(dir)
            }
            _ => dir,
        })
        .unwrap_or_else(|| root.join("target"));
    let workspace = hex(&sha256(root.as_str().as_bytes()));
    target.join("archlint").join(&workspace[..16])
}

/// archlint's version (or [`TOOL_VERSION_VAR`]), [`FORMAT`], and the running executable's
/// size and modification time.
fn tool_id() -> Option<String> {
    let version =
        std::env::var(TOOL_VERSION_VAR).unwrap_or_else(|_| env!("CARGO_PKG_VERSION").to_string());
    let exe = std::env::current_exe().ok()?;
    let metadata = std::fs::metadata(exe).ok()?;
    let modified = metadata
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!(
        "archlint {version} format {FORMAT} executable {} bytes modified {}.{:09}",
        metadata.len(),
        modified.as_secs(),
        modified.subsec_nanos()
    ))
}

/// The configuration as written: the file it came from and its text (the presets are part
/// of the tool). Extraction reads no configuration today; keying by it anyway means an
/// extractor that starts to can never be handed facts found under another configuration.
fn config_key(root: &Utf8Path, explicit: Option<&Utf8Path>, config: &Config) -> String {
    // An explicit file is read as given; the others are found in the workspace's root.
    let path = explicit
        .map(Utf8Path::to_owned)
        .or_else(|| config.source.as_ref().map(|source| root.join(source)));
    match path {
        Some(path) => {
            let text = crate::read::read_text_unrecorded(&path, FileClass::Manifest)
                .map(|text| hex(&sha256(text.as_bytes())))
                .unwrap_or_else(|error| error.to_string());
            format!("{path}\0{text}")
        }
        None => "defaults".to_string(),
    }
}

/// Deletes the temporary files of runs that stopped before renaming them (an hour old: a
/// younger one may be another run's, still being written).
fn remove_leftovers(dir: &Utf8Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age.as_secs() > 3600);
        if old && entry.file_name().to_string_lossy().starts_with(".tmp-") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes `dir/name` through a temporary file renamed over it.
fn write_atomically(
    dir: &Utf8Path,
    name: &str,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> bool {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let temporary = dir.join(format!(
        ".tmp-{}-{}-{name}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let written = std::fs::File::create(&temporary)
        .and_then(|file| {
            let mut out = std::io::BufWriter::new(file);
            write(&mut out)?;
            out.flush()
        })
        .and_then(|()| std::fs::rename(&temporary, dir.join(name)))
        .is_ok();
    if !written {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The SHA-256 of a file's text, as entries hold it.
pub fn content_hash(text: &str) -> String {
    hex(&sha256(text.as_bytes()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 15)] as char);
    }
    out
}

thread_local! {
    /// While an entry's facts are written.
    static WRITING: Cell<bool> = const { Cell::new(false) };
}

/// The facts of an entry in MessagePack, structs as arrays: every field is written (see
/// [`writing_entries`]), so none needs its name.
fn encode_entry(facts: &Facts) -> Result<Vec<u8>, rmp_serde::encode::Error> {
    WRITING.with(|writing| writing.set(true));
    let encoded = rmp_serde::to_vec(facts);
    WRITING.with(|writing| writing.set(false));
    encoded
}

/// True while this thread writes a cache entry: fields that JSON leaves out when empty are
/// written all the same, as the entries read fields by position.
pub fn writing_entries() -> bool {
    WRITING.with(Cell::get)
}

thread_local! {
    /// While an entry is read back: the id its file had when it was written, and has now.
    static FILE_IDS: Cell<Option<(u32, u32)>> = const { Cell::new(None) };
}

fn with_file_id<R>(stored: u32, current: u32, read: impl FnOnce() -> R) -> R {
    let outer = FILE_IDS.with(|ids| ids.replace(Some((stored, current))));
    let result = read();
    FILE_IDS.with(|ids| ids.set(outer));
    result
}

/// The id a file id read back means in this run: an entry's facts point into its own file
/// only, whose id may have changed since; any other id makes the entry unusable (`None`).
/// Outside a cache read, ids are taken as they are.
pub fn file_id(stored: u32) -> Option<FileId> {
    match FILE_IDS.with(Cell::get) {
        Some((from, to)) => (stored == from).then_some(FileId(to)),
        None => Some(FileId(stored)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_with_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_214), "1,214");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
