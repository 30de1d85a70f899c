//! Locking shared by the crate.

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, ignoring poisoning.
///
/// Every mutex of this crate guards state that each critical section leaves whole (a value
/// replaced, an entry inserted or removed), so a holder that panicked left nothing half done,
/// and the server keeps serving after a handler panics.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
