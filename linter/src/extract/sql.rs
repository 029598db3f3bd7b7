//! SQL text (sqlparser): statements and the tables they read, write, create, alter, drop.

use std::ops::Range;

use crate::model::{Access, Certainty, SqlDialect, TableName};

/// A table found in SQL text, with the byte range of its name inside that text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlTable {
    pub table: TableName,
    pub access: Access,
    pub range: Range<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct SqlAnalysis {
    pub tables: Vec<SqlTable>,
    /// Leading keyword(s) of each statement, upper case.
    pub statements: Vec<String>,
    /// Set when sqlparser rejected the text and tables came from a keyword scan.
    pub parse_error: Option<String>,
}

impl SqlAnalysis {
    pub fn certainty(&self) -> Certainty {
        if self.parse_error.is_some() {
            Certainty::Unknown
        } else {
            Certainty::Exact
        }
    }
}

/// Analyses SQL text in the given dialect.
pub fn analyze(_sql: &str, _dialect: SqlDialect) -> SqlAnalysis {
    SqlAnalysis::default()
}
