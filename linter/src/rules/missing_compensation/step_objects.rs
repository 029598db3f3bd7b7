//! Step objects: `execute`/`compensate` pairs of a step trait.

use super::*;

impl MissingCompensation {
    // -----------------------------------------------------------------------------------------
    // Step objects.

    pub(super) fn step_object(
        &self,
        cx: &RuleContext<'_>,
        behaviour: &Behaviour<'_>,
        lexicon: &Lexicon<'_>,
        g: usize,
        out: &mut Vec<Finding>,
    ) {
        let undo = behaviour.function(g);
        if !undo.trivial_body || undo.impl_trait.is_none() || undo.impl_type.is_none() {
            return;
        }
        let forward_names: Vec<&str> = STEP_METHODS
            .iter()
            .filter(|(_, back)| *back == undo.name)
            .map(|(forward, _)| *forward)
            .collect();
        if forward_names.is_empty() {
            return;
        }
        let forward = cx.model.functions.iter().enumerate().find(|(_, h)| {
            h.crate_id == undo.crate_id
                && h.body.file == undo.body.file
                && h.impl_type == undo.impl_type
                && h.impl_trait == undo.impl_trait
                && forward_names.contains(&h.name.as_str())
        });
        let Some((h, forward)) = forward else {
            return;
        };
        // Database writes made in a transaction the step is given are undone by its rollback.
        let in_transaction = forward
            .param_types
            .iter()
            .any(|t| t.ends_with("Transaction") || t == "Tx");
        let Some(change) = first_change_where(behaviour, lexicon, h, false).or_else(|| {
            (!in_transaction)
                .then(|| first_change(behaviour, lexicon, h))
                .flatten()
        }) else {
            return;
        };
        let ty = undo.impl_type.as_deref().unwrap_or_default();
        let message = format!(
            "`{ty}::{}` does nothing, but `{ty}::{}` ({} step) changes another system ({change}): \
             when a later step fails, it stays done",
            undo.name,
            forward.name,
            undo.impl_trait.as_deref().unwrap_or_default(),
        );
        out.push(Finding {
            confidence: Confidence::High,
            rule: self.id(),
            level: self.default_level(),
            message,
            span: undo.span,
            label: "empty compensation".into(),
            help: HELP.into(),
            related: vec![Related {
                span: forward.span,
                label: "the forward action it should undo".into(),
            }],
            services: service_names(cx, behaviour.services_of(g)),
            table: None,
            database: None,
        });
    }
}
