//! What died since a runtime was last entered: slots of Lua values whose Python objects died,
//! and slots of Python objects whose Lua userdata Lua's collector freed. Pushing never blocks
//! for long and needs neither the GIL nor the runtime lock, so it works from any thread; the
//! next entry into the runtime frees them. Checking for work is one atomic load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Slot numbers to free.
#[derive(Default)]
pub(crate) struct Dropped {
    /// Slots of `Shared::refs` (Lua values) whose Python objects died.
    pub slots: Vec<u32>,
    /// Slots of `Shared::pyrefs` (Python objects) whose userdata are gone.
    pub pyrefs: Vec<u32>,
}

/// The queue of slots to free.
#[derive(Default)]
pub(crate) struct DropQueue {
    items: Mutex<Dropped>,
    /// Set when `items` is not empty (written under the mutex).
    pending: AtomicBool,
}

impl DropQueue {
    fn push(&self, f: impl FnOnce(&mut Dropped)) {
        let mut d = self.items.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut d);
        self.pending.store(true, Ordering::Release);
    }

    /// Queues slot `i` of the Lua values.
    pub fn push_slot(&self, i: u32) {
        self.push(|d| d.slots.push(i));
    }

    /// Queues slot `i` of the Python objects.
    pub fn push_pyref(&self, i: u32) {
        self.push(|d| d.pyrefs.push(i));
    }

    /// Whether anything is queued (items pushed meanwhile may be missed: they wait for the
    /// next check).
    #[inline]
    pub fn is_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Takes everything queued.
    pub fn take(&self) -> Dropped {
        if !self.is_pending() {
            return Dropped::default();
        }
        let mut d = self.items.lock().unwrap_or_else(|e| e.into_inner());
        self.pending.store(false, Ordering::Release);
        std::mem::take(&mut *d)
    }

    /// Takes the queued Python-object slots only.
    pub fn take_pyrefs(&self) -> Vec<u32> {
        if !self.is_pending() {
            return Vec::new();
        }
        let mut d = self.items.lock().unwrap_or_else(|e| e.into_inner());
        self.pending.store(!d.slots.is_empty(), Ordering::Release);
        std::mem::take(&mut d.pyrefs)
    }
}
