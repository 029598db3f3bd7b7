//! Migration directories (sqlx, diesel, refinery, sea-orm, plain `*.sql`): which tables a
//! crate's migrations create, alter and drop.

use camino::Utf8Path;

use crate::extract::{CrateContext, Facts};
use crate::model::{MigrationTool, Model, Span};

/// Reads one migrations directory (relative to the workspace root) belonging to `cx.krate`,
/// registers its files in `model`, and returns the migration set it defines.
pub fn extract_dir(
    _model: &mut Model,
    _cx: &CrateContext<'_>,
    _dir: &Utf8Path,
    _tool_hint: Option<MigrationTool>,
    _run_at: Option<Span>,
) -> Facts {
    Facts::default()
}
