//! Configuration files.
pub(crate) fn extract(_cx: &super::Context<'_>, _out: &mut crate::extract::Facts) {}
