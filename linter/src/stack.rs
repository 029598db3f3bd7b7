//! Threads with stacks deep enough for any file archlint agrees to read.
//!
//! syn parses recursively, and the extractor, the SQL analysis and dropping a syntax tree
//! recurse with it: generated code (long builders, string concatenations, state machines as
//! `else if` chains) goes thousands of levels deep, and rayon's default 2 MiB stacks overflow
//! at a few hundred nested blocks, aborting the process with no output. Every analysis runs on
//! a pool whose threads have [`STACK_SIZE`] bytes of stack (address space only: pages are
//! touched as deep files need them), and a file nested deeper than that stack is known to
//! hold ([`max_nesting`], measured by [`crate::extract::rust::depth`]) is skipped with a note.

use std::sync::OnceLock;

/// Stack of each analysis thread.
pub const STACK_SIZE: usize = 1 << 30;

/// Stack allowed per nesting unit of [`crate::extract::rust::depth::nesting`]. Measured in an
/// unoptimised build, the costliest shapes take about 800 bytes per unit (a method chain
/// through syn's parser, the visitors and the drop of the tree; a nested block, 30 units, about
/// 22 KiB); optimised builds take less. Five times that leaves room for what the measure
/// underestimates.
const BYTES_PER_UNIT: usize = 4096;

/// Stacks tried, largest first, where address space is short.
const STACK_SIZES: [usize; 3] = [STACK_SIZE, 256 << 20, 64 << 20];

/// What the current thread is assumed to have when no pool could be started.
const FALLBACK_STACK: usize = 2 << 20;

struct Pool {
    pool: Option<rayon::ThreadPool>,
    stack: usize,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        for stack in STACK_SIZES {
            let built = rayon::ThreadPoolBuilder::new()
                .stack_size(stack)
                .thread_name(|i| format!("archlint-{i}"))
                .build();
            if let Ok(pool) = built {
                return Pool {
                    pool: Some(pool),
                    stack,
                };
            }
        }
        Pool {
            pool: None,
            stack: FALLBACK_STACK,
        }
    })
}

/// Runs `work` on the deep-stacked pool (its parallel iterators too). If no pool can be
/// started, runs it here, with a nesting bound to match.
pub fn with_deep_stacks<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    match &pool().pool {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

/// The deepest nesting a file may have to be parsed on the threads of
/// [`with_deep_stacks`].
pub fn max_nesting() -> usize {
    pool().stack / BYTES_PER_UNIT
}
