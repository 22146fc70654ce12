//! The Python objects the Lua side holds (wrapped as userdata), in one table owned by the
//! runtime. The table is only touched with the GIL held, and never while Python code runs, so
//! Python's garbage collector can read it (as the runtime core's references) at any time.
//!
//! A userdata holds a slot number (`PyBox`). When Lua's collector frees the userdata, possibly
//! in a thread running Lua without the GIL, the slot number is queued (`DropQueue`); the
//! slot is emptied later, with the GIL held. `clear` (the core's `__clear__`) empties every slot
//! but keeps it reserved until its userdata is freed, so a slot never names another object.

use pyo3::prelude::*;
use pyo3::{PyTraverseError, PyVisit};

/// Python objects referred to by Lua userdata, by slot number.
#[derive(Default)]
pub(crate) struct PyRefs {
    /// `None`: a free slot, or one emptied by `clear` whose userdata still exists.
    slots: Vec<Option<Py<PyAny>>>,
    free: Vec<u32>,
}

impl PyRefs {
    /// Stores `obj`; returns its slot.
    pub fn insert(&mut self, obj: Py<PyAny>) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(obj);
                i
            }
            None => {
                self.slots.push(Some(obj));
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// A new reference to the object in slot `i` (`None` once cleared).
    pub fn get(&self, py: Python<'_>, i: u32) -> Option<Py<PyAny>> {
        match self.slots.get(i as usize) {
            Some(Some(o)) => Some(o.clone_ref(py)),
            _ => None,
        }
    }

    /// Whether slot `i` holds the object at address `ptr` (not emptied by `clear`).
    pub fn holds(&self, i: u32, ptr: *mut pyo3::ffi::PyObject) -> bool {
        matches!(self.slots.get(i as usize), Some(Some(o)) if o.as_ptr() == ptr)
    }

    /// Frees the slots `ids` (their userdata are gone), moving their objects into `out` so the
    /// caller drops them after letting go of the table (dropping may run Python code).
    pub fn release(&mut self, ids: &[u32], out: &mut Vec<Py<PyAny>>) {
        for &i in ids {
            if let Some(s) = self.slots.get_mut(i as usize) {
                out.extend(s.take());
                self.free.push(i);
            }
        }
    }

    /// Empties every slot (keeping them reserved); returns the objects for the caller to drop.
    pub fn clear(&mut self) -> Vec<Py<PyAny>> {
        self.slots.iter_mut().filter_map(Option::take).collect()
    }

    /// Reports every held object to Python's collector.
    pub fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        for o in self.slots.iter().flatten() {
            visit.call(o)?;
        }
        Ok(())
    }
}
