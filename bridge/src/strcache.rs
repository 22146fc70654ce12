//! Python strings of short Lua strings, decoded once: attribute names and table keys cross
//! from Lua to Python over and over (`obj.attr` in a loop). A hit skips the UTF-8 decoding,
//! and the cached strings are interned, so Python's attribute and dict lookups find them by
//! identity with their hash already known.

use std::cell::UnsafeCell;

use pyo3::prelude::*;
use pyo3::types::PyString;

/// Strings up to this many bytes are cached.
const MAX_LEN: usize = 32;
/// Entries (a power of two): the cache is direct-mapped by the Lua string's hash.
const SLOTS: usize = 64;

/// A direct-mapped cache of decoded short strings, touched only with the GIL held.
pub(crate) struct StrCache {
    slots: UnsafeCell<[Option<Py<PyString>>; SLOTS]>,
}

impl Default for StrCache {
    fn default() -> Self {
        StrCache {
            slots: UnsafeCell::new(std::array::from_fn(|_| None)),
        }
    }
}

impl StrCache {
    /// The Python string of the UTF-8 Lua string `bytes` (whose Lua hash is `hash`), or
    /// `None` when it is not short valid UTF-8 (the caller decodes it as usual).
    pub fn get(&self, py: Python<'_>, hash: u64, bytes: &[u8]) -> Option<Py<PyAny>> {
        if bytes.len() > MAX_LEN {
            return None;
        }
        // SAFETY: only touched with the GIL held (we have `py`), and never re-entered: no
        // Python code runs while the slot is borrowed (creating and interning a string
        // calls no Python code).
        let slots = unsafe { &mut *self.slots.get() };
        let slot = &mut slots[hash as usize & (SLOTS - 1)];
        if let Some(s) = slot {
            // The content decides a hit: different strings may share a slot.
            if crate::capi::utf8(s.bind(py)).is_ok_and(|t| t.as_bytes() == bytes) {
                return Some(s.clone_ref(py).into_any());
            }
        }
        let text = std::str::from_utf8(bytes).ok()?;
        let s = PyString::intern(py, text).unbind();
        *slot = Some(s.clone_ref(py));
        Some(s.into_any())
    }
}

// SAFETY: the slots are only touched with the GIL held (see `get`), which serializes all
// access; `Py` itself is `Send` and `Sync`.
unsafe impl Sync for StrCache {}
