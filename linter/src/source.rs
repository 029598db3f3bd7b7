//! Byte offsets to 1-based line/column positions.

use crate::model::{FileId, Span};

/// Line start offsets of one file, for turning byte ranges into [`Span`]s.
#[derive(Debug, Clone)]
pub struct LineIndex {
    line_starts: Vec<u32>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut line_starts = Vec::with_capacity(text.len() / 32 + 1);
        line_starts.push(0);
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i as u32 + 1));
        Self { line_starts }
    }

    /// 1-based line and column (in chars) of a byte offset.
    pub fn position(&self, text: &str, offset: usize) -> (u32, u32) {
        let offset = offset.min(text.len());
        let line = self.line_starts.partition_point(|&s| s as usize <= offset) - 1;
        let start = self.line_starts[line] as usize;
        let column = text
            .get(start..offset)
            .map_or(offset - start, |prefix| prefix.chars().count());
        (line as u32 + 1, column as u32 + 1)
    }

    /// Byte offset of a 1-based line and 0-based char column (as proc-macro2 reports them).
    pub fn offset(&self, text: &str, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return text.len();
        };
        let start = start as usize;
        let rest = &text[start..];
        // Source lines are nearly always ASCII, where a char column is a byte column.
        if rest.as_bytes().get(..column).is_some_and(<[u8]>::is_ascii) {
            return start + column;
        }
        rest.char_indices()
            .nth(column)
            .map_or(text.len().min(start + rest.len()), |(i, _)| start + i)
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
}
