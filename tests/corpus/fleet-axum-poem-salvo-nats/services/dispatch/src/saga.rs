//! Minimal saga runner: every successful step pushes its undo closure; on
//! failure the stack is unwound in reverse order.

use futures::future::BoxFuture;

type Undo = Box<dyn FnOnce() -> BoxFuture<'static, anyhow::Result<()>> + Send>;

#[derive(Default)]
pub struct UndoStack {
    steps: Vec<(&'static str, Undo)>,
}

impl UndoStack {
    pub fn push<F>(&mut self, name: &'static str, undo: F)
    where
        F: FnOnce() -> BoxFuture<'static, anyhow::Result<()>> + Send + 'static,
    {
        self.steps.push((name, Box::new(undo)));
    }

    pub async fn unwind(mut self) {
        while let Some((name, undo)) = self.steps.pop() {
            if let Err(err) = undo().await {
                tracing::error!(step = name, error = %err, "compensation failed; needs manual repair");
            }
        }
    }

    /// Forget the undo actions once the saga has committed.
    pub fn commit(mut self) {
        self.steps.clear();
    }
}
