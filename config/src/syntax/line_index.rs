//! Byte offset → 1-based line and character column.

/// Start offsets of every line of a source, for fast position lookup.
#[derive(Debug)]
pub(crate) struct LineIndex<'s> {
    source: &'s str,
    starts: Vec<usize>,
}

impl<'s> LineIndex<'s> {
    pub(crate) fn new(source: &'s str) -> Self {
        let mut starts = vec![0];
        starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        Self { source, starts }
    }

    /// 1-based line and column (in characters) of a byte offset; offsets past the end
    /// or inside a character are clamped to a valid position.
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.source.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let mut end = offset;
        while !self.source.is_char_boundary(end) {
            end -= 1;
        }
        let column = self.source[start..end].chars().count() + 1;
        (line + 1, column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_first_column() {
        assert_eq!(LineIndex::new("abc").line_col(0), (1, 1));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let idx = LineIndex::new("a = \"é\"\nb = 1\n");
        assert_eq!(idx.line_col(7), (1, 7));
        assert_eq!(idx.line_col(9), (2, 1));
        assert_eq!(idx.line_col(13), (2, 5));
    }

    #[test]
    fn offsets_past_the_end_are_clamped() {
        assert_eq!(LineIndex::new("ab\n").line_col(99), (2, 1));
    }
}
