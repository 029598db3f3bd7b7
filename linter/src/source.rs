//! Byte offsets to 1-based line/column positions.

use crate::model::{FileId, Span};

/// Line start offsets of one file, for turning byte ranges into [`Span`]s.
///
/// Columns count chars. On an ASCII line a char column is a byte column; a line with other
/// characters keeps the byte offset of every [`CHECKPOINT`]th char, so a column is found
/// without counting from the line's start: generated or minified files put thousands of
/// tokens on one line, and counting from its start for each of them is quadratic.
#[derive(Debug, Clone)]
pub struct LineIndex {
    line_starts: Vec<u32>,
    /// Lines holding a non-ASCII character, with the byte offset of every
    /// [`CHECKPOINT`]th char on them (the first is the line's start). Empty for ASCII text.
    wide_lines: rustc_hash::FxHashMap<u32, Vec<u32>>,
}

/// Chars between two remembered offsets of a non-ASCII line.
const CHECKPOINT: usize = 256;

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut line_starts = Vec::with_capacity(text.len() / 32 + 1);
        line_starts.push(0);
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i as u32 + 1));
        let mut wide_lines = rustc_hash::FxHashMap::default();
        if !text.is_ascii() {
            for (line, &start) in line_starts.iter().enumerate() {
                let end = line_starts
                    .get(line + 1)
                    .map_or(text.len(), |&next| next as usize);
                let Some(content) = text.get(start as usize..end) else {
                    continue;
                };
                if content.is_ascii() {
                    continue;
                }
                let checkpoints = content
                    .char_indices()
                    .step_by(CHECKPOINT)
                    .map(|(i, _)| start + i as u32)
                    .collect();
                wide_lines.insert(line as u32, checkpoints);
            }
        }
        Self {
            line_starts,
            wide_lines,
        }
    }

    /// 1-based line and column (in chars) of a byte offset.
    pub fn position(&self, text: &str, offset: usize) -> (u32, u32) {
        let offset = offset.min(text.len());
        let line = self.line_starts.partition_point(|&s| s as usize <= offset) - 1;
        let start = self.line_starts[line] as usize;
        let column = match self.wide_lines.get(&(line as u32)) {
            None => offset - start,
            Some(checkpoints) => {
                let passed = checkpoints
                    .partition_point(|&c| c as usize <= offset)
                    .max(1)
                    - 1;
                let from = checkpoints.get(passed).map_or(start, |&c| c as usize);
                text.get(from..offset).map_or(offset - start, |between| {
                    passed * CHECKPOINT + between.chars().count()
                })
            }
        };
        (line as u32 + 1, column as u32 + 1)
    }

    /// Byte offset of a 1-based line and 0-based char column (as proc-macro2 reports them).
    pub fn offset(&self, text: &str, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return text.len();
        };
        let start = start as usize;
        let (from, chars_left) = match self.wide_lines.get(&(line.saturating_sub(1) as u32)) {
            // Source lines are nearly always ASCII, where a char column is a byte column.
            None => return (start + column).min(text.len()),
            Some(checkpoints) => {
                let passed = (column / CHECKPOINT).min(checkpoints.len().saturating_sub(1));
                let from = checkpoints.get(passed).map_or(start, |&c| c as usize);
                (from, column - passed * CHECKPOINT)
            }
        };
        let rest = text.get(from..).unwrap_or("");
        rest.char_indices()
            .nth(chars_left)
            .map_or(text.len(), |(i, _)| from + i)
    }

    pub fn span(&self, file: FileId, text: &str, start: usize, end: usize) -> Span {
        let (line, column) = self.position(text, start);
        Span {
            file,
            start: start as u32,
            end: end.max(start) as u32,
            line,
            column,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let text = "ab\ncdé\nf";
        let index = LineIndex::new(text);
        assert_eq!(index.position(text, 0), (1, 1));
        assert_eq!(index.position(text, 3), (2, 1));
        assert_eq!(index.position(text, 8), (3, 1));
        assert_eq!(index.offset(text, 2, 2), 5);
        assert_eq!(index.offset(text, 3, 0), 8);
        assert_eq!(index.offset(text, 2, 3), 7);
        assert_eq!(index.offset(text, 3, 1), 9);
        assert_eq!(index.offset(text, 3, 5), text.len());
    }

    /// Property: on any text, every char boundary maps to a (line, column) that maps back
    /// to it. Deterministic pseudo-random texts mixing ASCII, multi-byte chars and newlines,
    /// with lines longer than a checkpoint.
    #[test]
    fn positions_and_offsets_round_trip_on_random_text() {
        const PIECES: &[&str] = &["a", "bc", " ", "\n", "é", "🚐", "\r\n", "\t", "ß"];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as usize
        };
        for _ in 0..200 {
            let len = next() % 2000;
            let text: String = (0..len)
                .map(|_| {
                    // Mostly letters, so lines grow past a checkpoint.
                    if next() % 20 == 0 {
                        PIECES[next() % PIECES.len()]
                    } else {
                        PIECES[next() % 2]
                    }
                })
                .collect();
            let index = LineIndex::new(&text);
            for (offset, _) in text.char_indices() {
                let (line, column) = index.position(&text, offset);
                assert_eq!(
                    index.offset(&text, line as usize, column as usize - 1),
                    offset,
                    "{text:?} at {offset}"
                );
            }
        }
    }

    #[test]
    fn long_lines_agree_with_counting_from_the_start() {
        let text = format!("x\n{}\n", "aé🚐b".repeat(1000));
        let index = LineIndex::new(&text);
        for (column, (offset, _)) in text[2..].char_indices().enumerate() {
            let offset = offset + 2;
            assert_eq!(index.position(&text, offset), (2, column as u32 + 1));
            assert_eq!(index.offset(&text, 2, column), offset);
        }
        let ascii = "a".repeat(5000);
        let index = LineIndex::new(&ascii);
        assert_eq!(index.position(&ascii, 4321), (1, 4322));
        assert_eq!(index.offset(&ascii, 1, 4321), 4321);
    }
}
