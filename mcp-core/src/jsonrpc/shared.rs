//! [`SharedText`]: the buffer that the payloads read from one message share (its params, and
//! the members read from them), used again for the thread's next message once the last of
//! them goes.

use std::cell::Cell;
use std::sync::Arc;

thread_local! {
    /// The buffer of the last message whose payloads this thread dropped, kept for the next.
    static SPARE: Cell<Option<Arc<String>>> = const { Cell::new(None) };
}

/// The most a buffer holds to be kept as the thread's spare: a larger one (a rare large
/// message) is freed rather than kept.
const KEEP: usize = 4 * 1024;

/// Text that payloads share: a copy of a message's params, in this thread's spare buffer
/// when it has one (no allocation), otherwise in one of its own. When the last payload holding
/// it is dropped, the buffer becomes the spare of the thread that dropped it.
pub(super) struct SharedText(Option<Arc<String>>);

impl SharedText {
    /// A copy of `text`.
    pub(super) fn of(text: &str) -> Self {
        // (No spare while the thread's locals are being torn down.)
        if let Some(mut spare) = SPARE.try_with(Cell::take).ok().flatten()
            && let Some(buf) = Arc::get_mut(&mut spare)
        {
            buf.clear();
            buf.push_str(text);
            return SharedText(Some(spare));
        }
        SharedText(Some(Arc::new(String::from(text))))
    }

    /// The text.
    pub(super) fn get(&self) -> &str {
        self.0.as_deref().map_or("", String::as_str)
    }
}

impl Clone for SharedText {
    fn clone(&self) -> Self {
        SharedText(self.0.clone())
    }
}

impl Drop for SharedText {
    fn drop(&mut self) {
        if let Some(mut buf) = self.0.take()
            && Arc::get_mut(&mut buf).is_some_and(|text| text.capacity() <= KEEP)
        {
            let _ = SPARE.try_with(|spare| spare.set(Some(buf)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &SharedText) -> *const String {
        Arc::as_ptr(text.0.as_ref().unwrap())
    }

    /// The last holder's drop makes the buffer the thread's spare, which the next text is
    /// copied into; a buffer still held, or too large, is not kept.
    #[test]
    fn the_last_holder_leaves_the_buffer_to_the_next_text() {
        let first = SharedText::of(r#"{"a":1}"#);
        let copy = first.clone();
        let buf = at(&first);
        drop(first);
        assert_eq!(copy.get(), r#"{"a":1}"#, "still held: untouched");
        drop(copy);
        let second = SharedText::of(r#"{"name":"é"}"#);
        assert_eq!(at(&second), buf, "the spare is used");
        assert_eq!(second.get(), r#"{"name":"é"}"#);
        // Taken: the next text gets a buffer of its own.
        let third = SharedText::of("{}");
        assert_ne!(at(&third), buf);
        assert_eq!(third.get(), "{}");
        drop(third);
        drop(second);
        let has_spare = || {
            let spare = SPARE.take();
            let has = spare.is_some();
            SPARE.set(spare);
            has
        };
        assert!(has_spare());
        // Grown past what is kept: freed, not kept.
        drop(SharedText::of(&"x".repeat(KEEP + 1)));
        assert!(!has_spare());
    }
}
