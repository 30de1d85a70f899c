//! A progress report: what each yielded item of a tool becomes.

/// One progress report. Every field is optional: a bare message counts one step.
///
/// ```
/// use mcp_core::Progress;
/// let p = Progress::from("loading data");
/// let q = Progress::new().at(3.0).of(10.0).message("3 of 10");
/// assert_eq!(q.total, Some(10.0));
/// # let _ = p;
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    /// The progress value; when absent, the previous value plus one.
    pub progress: Option<f64>,
    /// The total; when absent, the total set by the last report or by
    /// [`Context::set_total`](crate::Context::set_total).
    pub total: Option<f64>,
    /// The message shown to the user.
    pub message: Option<String>,
}

impl Progress {
    /// An empty report: one more step.
    pub fn new() -> Self {
        Progress::default()
    }

    /// Sets the progress value.
    pub fn at(mut self, progress: f64) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Sets the total.
    pub fn of(mut self, total: f64) -> Self {
        self.total = Some(total);
        self
    }

    /// Sets the message.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Step `step` of `total`, with a message.
    pub fn step(step: u64, total: u64, message: impl Into<String>) -> Self {
        Progress::new()
            .at(step as f64)
            .of(total as f64)
            .message(message)
    }
}

impl From<String> for Progress {
    fn from(message: String) -> Self {
        Progress::new().message(message)
    }
}

impl From<&str> for Progress {
    fn from(message: &str) -> Self {
        Progress::new().message(message)
    }
}

impl From<&String> for Progress {
    fn from(message: &String) -> Self {
        Progress::new().message(message.clone())
    }
}

impl From<f64> for Progress {
    fn from(progress: f64) -> Self {
        Progress::new().at(progress)
    }
}
