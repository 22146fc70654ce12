//! The state one `LuaRuntime` shares with the Lua objects it hands out: the runtime behind a
//! re-entrant lock, and the table of Lua values Python objects refer to.
//!
//! Locking rules (no deadlock with the GIL): the runtime lock is only ever *waited for* with
//! the GIL released. A thread that holds the lock may take the GIL (for Python callbacks and
//! conversions); a thread waiting for the lock never holds the GIL. Python callbacks called
//! from Lua run on the thread holding the lock; when they call back into the same runtime,
//! they reuse the `Lua` lent to them by the host-function trampoline (`lend`).
//!
//! Python references held by the Lua side (`pyrefs`, the overflow handler, the options) are
//! only touched with the GIL held and never while Python code runs, so the runtime core can
//! report them to Python's garbage collector (`traverse`) without taking any lock that could
//! be held by a thread waiting for the GIL.

use std::cell::{Cell, UnsafeCell};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use std::rc::Rc;

use interp::limits::Limits;
use interp::{Context, Lua, NativeCall, StashedValue};
use pyo3::prelude::*;
use pyo3::{ffi, PyTraverseError, PyVisit};

use crate::dropq::DropQueue;
use crate::errors;
use crate::pyrefs::PyRefs;
use crate::runtime_core::RuntimeCore;

/// Runtimes alive in this process (`_live_runtimes()`, for tests).
pub(crate) static LIVE: AtomicUsize = AtomicUsize::new(0);

/// This thread, as an id that is unique among live threads: the address of a thread-local
/// (cheaper than `std::thread::current().id()`, which clones the thread's handle).
type ThreadId = usize;

fn current_thread() -> ThreadId {
    thread_local! {
        static MARK: u8 = const { 0 };
    }
    MARK.with(|m| m as *const u8 as usize)
}

/// Who holds the runtime lock, and how many times.
#[derive(Default)]
struct Owner {
    thread: Option<ThreadId>,
    depth: usize,
    /// Threads waiting for the lock.
    waiting: usize,
    /// Waiters take the lock in turn (a thread that releases and takes the lock again in a
    /// loop does not starve the others): the next ticket to hand out, and the one served.
    next_ticket: u64,
    serving: u64,
}

/// Lua values referred to by Python objects, by slot number.
#[derive(Default)]
pub(crate) struct Refs {
    slots: Vec<Option<StashedValue>>,
    free: Vec<u32>,
}

impl Refs {
    /// Stores a rooted value; returns its slot.
    pub(crate) fn insert(&mut self, v: StashedValue) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(v);
                i
            }
            None => {
                self.slots.push(Some(v));
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// The value in slot `i`.
    pub(crate) fn get(&self, i: u32) -> &StashedValue {
        match self.slots.get(i as usize) {
            Some(Some(v)) => v,
            // A slot is freed only when its last Python object is gone, so this is a bug.
            _ => panic!("lupa_rs: reference slot {i} is not live"),
        }
    }

    fn remove(&mut self, i: u32) {
        if let Some(s) = self.slots.get_mut(i as usize) {
            if s.take().is_some() {
                self.free.push(i);
            }
        }
    }
}

/// Compiled chunks by (chunk name, source).
/// (A template closure of the chunk, rooted.)
pub(crate) type ChunkCache = std::collections::HashMap<(String, Vec<u8>), StashedValue>;

/// Options fixed when the runtime is created.
pub(crate) struct Config {
    /// Encoding of Python strings in Lua (`None`: Lua strings come back as bytes).
    pub encoding: Option<String>,
    /// Encoding of Lua source code given as `str`, and of attribute names Lua gives as
    /// bytes (`source_encoding`, else `encoding`, else UTF-8).
    pub source_encoding: String,
    /// The encoding is UTF-8 (Lua strings decode without a codec lookup).
    pub utf8: bool,
    /// Whether tuples returned by Python functions become several Lua values.
    pub unpack_returned_tuples: bool,
    /// `attribute_filter(obj, name, is_setting)`.
    pub attribute_filter: Option<Py<PyAny>>,
    /// `(getter, setter)` for attribute access.
    pub attribute_handlers: (Option<Py<PyAny>>, Option<Py<PyAny>>),
    /// Lua may reach only public attributes (names not starting with `_`) of Python objects.
    pub public_only: bool,
    /// The sandbox preset (`LuaRuntime(sandbox=True)`).
    pub sandbox: bool,
}

/// One runtime and what its Python objects share.
///
/// Field order matters: `lua` is dropped before `dropped` and `pyrefs`, which the userdata
/// inside it refer to while they are dropped.
pub(crate) struct Shared {
    owner: Mutex<Owner>,
    released: Condvar,
    lua: UnsafeCell<Lua>,
    /// Python objects held by Lua userdata (touched only with the GIL held).
    pyrefs: UnsafeCell<PyRefs>,
    /// The `_RuntimeCore` object (borrowed; null once it is gone; touched with the GIL held).
    core: Cell<*mut ffi::PyObject>,
    /// The `Lua` lent to a Python callback on the owning thread (null when none).
    lent: Cell<*mut Lua>,
    /// The inline native whose Python code runs now (see `run_inline_python`), through which
    /// that code calls back into Lua; null when none.
    inline_call: Cell<*mut NativeCall<'static, 'static>>,
    /// The inline native whose conversions run now (see `converting_in`): a Lua overflow
    /// handler they call runs nested through it; null when none.
    conv_call: Cell<*mut NativeCall<'static, 'static>>,
    refs: UnsafeCell<Refs>,
    /// Compiled chunks of `eval`/`execute`, by chunk name and source (cleared when large).
    chunks: UnsafeCell<ChunkCache>,
    /// What died since the last entry; freed at the next one.
    dropped: DropQueue,
    /// Options.
    pub config: Config,
    /// Slot of the metatable given to wrapped Python objects.
    pub py_metatable: Cell<u32>,
    /// Slot of `python.none`.
    pub none_value: Cell<u32>,
    /// Slot of the identity map: a weak-valued Lua table from (object address, protocol) to
    /// the userdata wrapping that object, so each Python object is one Lua value.
    pub identity_map: Cell<u32>,
    /// Slot of the step function of `python.iter` loops.
    pub iter_step: Cell<u32>,
    /// Slots of Lua helper functions (see `runtime::HELPERS`).
    pub helpers: Cell<[u32; 4]>,
    /// `overflow_handler(int)`, settable from Python and Lua.
    overflow_handler: Mutex<Option<Py<PyAny>>>,
    /// Decoded short strings (with a UTF-8 encoding).
    pub strings: crate::strcache::StrCache,
    /// Polls Python's signal handlers while Lua runs long (shared with the runtime's
    /// limits, which poll it inside long library calls).
    pub signals: Arc<Mutex<crate::limits::SignalPoll>>,
    /// The Python exception that stops the running call, if one does.
    pub stop_exception: Arc<crate::limits::StopException>,
}

// SAFETY: `lua`, `lent`, `refs`, `py_metatable` and `none_value` are only touched by the thread
// that holds the lock (`owner`), so moving and sharing `Shared` between threads never lets two
// threads use them at once. The `Rc`s inside `Lua` and `StashedValue` are only cloned or
// dropped under that lock. `pyrefs` and `core` are only touched with the GIL held (the module
// declares `gil_used`, so there is a GIL even on free-threaded builds).
unsafe impl Send for Shared {}
// SAFETY: see above.
unsafe impl Sync for Shared {}

/// Access to a locked runtime.
pub(crate) struct Locked<'a> {
    /// The runtime.
    pub lua: LuaAccess<'a>,
    /// The shared state.
    pub shared: &'a Arc<Shared>,
}

/// The runtime, as a locked one is reached: between steps (the `Lua` itself), or from
/// Python code that a library function runs inside a step (an inline native: its call,
/// through which calls into Lua run nested on the calling Lua thread's stack).
pub(crate) enum LuaAccess<'a> {
    /// The runtime between steps.
    Owned(&'a mut Lua),
    /// Inside a step: the inline native's call (valid for `'a`, used only through this).
    Inline(
        *mut NativeCall<'static, 'static>,
        std::marker::PhantomData<&'a mut ()>,
    ),
}

impl LuaAccess<'_> {
    /// Runs `f` inside the arena.
    pub fn enter<R>(&self, f: impl for<'gc> FnOnce(Context<'gc>) -> R) -> R {
        match self {
            LuaAccess::Owned(lua) => lua.enter(f),
            // SAFETY: the pointer is the running inline native's call, live while Python code
            // it runs (this access) runs; `f` is generic over the brand, so nothing it makes
            // can outlive the arena or leave it with the wrong brand.
            LuaAccess::Inline(call, _) => f(unsafe { &**call }.ctx),
        }
    }

    /// The inline native's call (see [`LuaAccess::Inline`]).
    pub fn inline_call(&mut self) -> Option<&mut NativeCall<'static, 'static>> {
        match self {
            LuaAccess::Owned(_) => None,
            // SAFETY: as in `enter`; `&mut self` makes this the only use of it meanwhile.
            LuaAccess::Inline(call, _) => Some(unsafe { &mut **call }),
        }
    }

    /// The runtime itself, between steps.
    pub fn owned(&mut self) -> Option<&mut Lua> {
        match self {
            LuaAccess::Owned(lua) => Some(lua),
            LuaAccess::Inline(..) => None,
        }
    }

    /// The execution limits.
    pub fn limits(&self) -> Rc<Limits> {
        match self {
            LuaAccess::Owned(lua) => lua.limits().clone(),
            LuaAccess::Inline(..) => self.enter(|ctx| ctx.limits().clone()),
        }
    }

    /// Bytes in use.
    pub fn memory_used(&self) -> usize {
        self.enter(|ctx| ctx.memory().used())
    }

    /// The memory limit.
    pub fn memory_limit(&self) -> Option<usize> {
        self.enter(|ctx| ctx.memory().limit())
    }

    /// Sets the memory limit.
    pub fn set_memory_limit(&self, limit: Option<usize>) {
        self.enter(|ctx| ctx.memory().set_limit(limit))
    }

    /// A full collection (inside a step: asked for, it runs when the step ends).
    pub fn collect_all(&mut self) {
        match self {
            LuaAccess::Owned(lua) => lua.collect_all(),
            LuaAccess::Inline(..) => self.enter(|ctx| ctx.request_gc()),
        }
    }

    /// Whether usage is past the memory limit.
    pub fn memory_exceeded(&self) -> bool {
        self.enter(|ctx| ctx.memory().exceeded())
    }

    /// See [`Lua::collect_if_over_limit`] (inside a step, only the check).
    pub fn collect_if_over_limit(&mut self) -> bool {
        match self {
            LuaAccess::Owned(lua) => lua.collect_if_over_limit(),
            LuaAccess::Inline(..) => self.enter(|ctx| ctx.memory().exceeded()),
        }
    }
}

impl<'a> Locked<'a> {
    /// The cache of compiled chunks.
    #[allow(clippy::mut_from_ref)]
    pub fn chunks(&self) -> &'a mut ChunkCache {
        // SAFETY: as for `refs`: the lock is held by this thread, and the cache is only used
        // for one lookup or insertion at a time, never across running Lua.
        unsafe { &mut *self.shared.chunks.get() }
    }

    /// The referenced values, for one conversion.
    ///
    /// Callers keep the reference for one conversion scope, never across running Lua (inline
    /// natives reach the same table through `Shared::inline_refs` meanwhile).
    #[allow(clippy::mut_from_ref)]
    pub fn refs(&self) -> &'a mut Refs {
        // SAFETY: the lock is held by this thread for 'a; each reference lives for one
        // conversion scope, during which nothing else touches the table.
        unsafe { &mut *self.shared.refs.get() }
    }
}

impl Shared {
    /// A new runtime.
    pub fn new(lua: Lua, config: Config) -> Shared {
        LIVE.fetch_add(1, Ordering::Relaxed);
        Shared {
            owner: Mutex::new(Owner::default()),
            released: Condvar::new(),
            lua: UnsafeCell::new(lua),
            pyrefs: UnsafeCell::new(PyRefs::default()),
            core: Cell::new(std::ptr::null_mut()),
            lent: Cell::new(std::ptr::null_mut()),
            inline_call: Cell::new(std::ptr::null_mut()),
            conv_call: Cell::new(std::ptr::null_mut()),
            refs: UnsafeCell::new(Refs::default()),
            chunks: UnsafeCell::new(ChunkCache::default()),
            dropped: DropQueue::default(),
            config,
            py_metatable: Cell::new(u32::MAX),
            none_value: Cell::new(u32::MAX),
            identity_map: Cell::new(u32::MAX),
            iter_step: Cell::new(u32::MAX),
            helpers: Cell::new([u32::MAX; 4]),
            overflow_handler: Mutex::new(None),
            strings: Default::default(),
            signals: Arc::new(Mutex::new(crate::limits::SignalPoll::new())),
            stop_exception: Arc::default(),
        }
    }

    /// Runs `f` with the runtime locked. Waits for the lock with the GIL released.
    pub fn with<R>(
        self: &Arc<Self>,
        py: Python<'_>,
        f: impl FnOnce(Locked<'_>) -> PyResult<R>,
    ) -> PyResult<R> {
        let me = current_thread();
        // One look at the owner: re-entry, or (the common case) a free lock that nobody waits
        // for (waiters are served in turn: taking it past them would starve them) and nothing
        // to clean up, taken at once without releasing the GIL.
        let entry = {
            let mut o = self.owner.lock().unwrap_or_else(|e| e.into_inner());
            if o.thread == Some(me) {
                Entry::Reentrant
            } else if o.thread.is_none() && o.waiting == 0 && !self.dropped.is_pending() {
                o.thread = Some(me);
                o.depth += 1;
                Entry::Acquired
            } else {
                Entry::Later
            }
        };
        if let Entry::Reentrant = entry {
            let inline = self.inline_call.replace(std::ptr::null_mut());
            if !inline.is_null() {
                // Python code run by an inline native calls back in: through that call
                // (taken out of `inline_call` meanwhile, so this is its only user).
                let lua = LuaAccess::Inline(inline, std::marker::PhantomData);
                let r = self.converting_in(inline, || f(Locked { lua, shared: self }));
                self.inline_call.set(inline);
                return r;
            }
            let lent = self.lent.get();
            if lent.is_null() {
                return Err(errors::lua_error(
                    py,
                    "the Lua runtime is busy in this thread: Python code that converts a value \
                     for Lua (an overflow handler) cannot call into Lua",
                ));
            }
            self.lent.set(std::ptr::null_mut());
            // SAFETY: `lent` was set by `lend` from the `&mut Lua` the trampoline received,
            // which stays unused while the callback runs; taking it out of `lent` above
            // makes this the only way to it until we put it back below.
            let lua = LuaAccess::Owned(unsafe { &mut *lent });
            let r = f(Locked { lua, shared: self });
            self.lent.set(lent);
            return r;
        }
        let mut slots = Vec::new();
        if let Entry::Later = entry {
            let dropped = self.dropped.take();
            // Python objects Lua let go of are released before locking: dropping them may
            // run Python code that calls into this runtime.
            if !dropped.pyrefs.is_empty() {
                self.release_pyrefs(py, &dropped.pyrefs);
            }
            slots = dropped.slots;
            // Uncontended: take the lock without releasing the GIL (nothing to wait for, so
            // no deadlock is possible); otherwise wait with the GIL released.
            if !self.try_acquire(me) {
                py.detach(|| self.acquire(me));
            }
        }
        let _guard = Release(self);
        if !slots.is_empty() {
            // SAFETY: this thread holds the lock.
            let refs = unsafe { &mut *self.refs.get() };
            for i in slots {
                refs.remove(i);
            }
        }
        // SAFETY: this thread now holds the lock, so it is the only user of `lua`.
        let lua = LuaAccess::Owned(unsafe { &mut *self.lua.get() });
        f(Locked { lua, shared: self })
    }

    fn try_acquire(&self, me: ThreadId) -> bool {
        let mut o = self.owner.lock().unwrap_or_else(|e| e.into_inner());
        let free = o.thread.is_none() && o.waiting == 0;
        if o.thread != Some(me) && !free {
            return false;
        }
        o.thread = Some(me);
        o.depth += 1;
        true
    }

    fn acquire(&self, me: ThreadId) {
        let mut o = self.owner.lock().unwrap_or_else(|e| e.into_inner());
        if o.thread == Some(me) {
            o.depth += 1;
            return;
        }
        let ticket = o.next_ticket;
        o.next_ticket += 1;
        o.waiting += 1;
        while o.thread.is_some() || o.serving != ticket {
            o = self.released.wait(o).unwrap_or_else(|e| e.into_inner());
        }
        o.serving += 1;
        o.waiting -= 1;
        o.thread = Some(me);
        o.depth += 1;
    }

    fn release(&self) {
        let mut o = self.owner.lock().unwrap_or_else(|e| e.into_inner());
        o.depth -= 1;
        if o.depth == 0 {
            o.thread = None;
            let waiting = o.waiting > 0;
            drop(o);
            if waiting {
                // Wake them all: the one whose turn it is takes the lock.
                self.released.notify_all();
            }
        }
    }

    /// Runs `f` with the referenced values, from inside a step of this runtime (an inline
    /// native on the thread holding the lock). Calls back into the runtime fail meanwhile.
    pub fn inline_refs<R>(&self, f: impl FnOnce(&mut Refs) -> R) -> R {
        let lent = self.lent.replace(std::ptr::null_mut());
        let inline = self.inline_call.replace(std::ptr::null_mut());
        // SAFETY: inline natives run inside `Lua::enter` on the thread that holds the lock
        // (Lua only runs under it); `lent` and `inline_call` are null meanwhile, so no nested
        // `with` can reach `refs` (it fails with "busy" instead).
        let r = f(unsafe { &mut *self.refs.get() });
        self.inline_call.set(inline);
        self.lent.set(lent);
        r
    }

    /// Runs `f` (Python code of the inline native `call`, run inside a step) so that it may
    /// call back into the runtime: such calls run nested through `call`, on the calling Lua
    /// thread's stack, as C Lua's `lua_call` from a C function does. `call` must not be used
    /// otherwise until `f` returns (the caller holds no borrow of its arguments).
    pub fn run_inline_python<R>(&self, call: &mut NativeCall<'_, '_>, f: impl FnOnce() -> R) -> R {
        struct Restore<'s>(
            &'s Cell<*mut NativeCall<'static, 'static>>,
            *mut NativeCall<'static, 'static>,
        );
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                self.0.set(self.1);
            }
        }
        let ptr: *mut NativeCall<'static, 'static> = (call as *mut NativeCall<'_, '_>).cast();
        let _restore = Restore(&self.inline_call, self.inline_call.replace(ptr));
        f()
    }

    /// Runs `f`, conversions inside a step made for the inline native `call`: a Lua
    /// overflow handler they call cannot run on its own (the running thread is the native's)
    /// and runs nested through `call` ([`Shared::conv_call`]). `call` must not be used
    /// otherwise until `f` returns, except through that.
    pub fn converting_in<R>(
        &self,
        call: *mut NativeCall<'static, 'static>,
        f: impl FnOnce() -> R,
    ) -> R {
        struct Restore<'s>(
            &'s Cell<*mut NativeCall<'static, 'static>>,
            *mut NativeCall<'static, 'static>,
        );
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                self.0.set(self.1);
            }
        }
        let _restore = Restore(&self.conv_call, self.conv_call.replace(call));
        f()
    }

    /// The inline native that conversions made now run inside (see
    /// [`Shared::converting_in`]); null when they run between steps.
    pub fn conv_call(&self) -> *mut NativeCall<'static, 'static> {
        self.conv_call.get()
    }

    /// The overflow handler.
    pub fn overflow_handler(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        let h = self
            .overflow_handler
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        h.as_ref().map(|h| h.clone_ref(py))
    }

    /// Sets the overflow handler.
    pub fn set_overflow_handler(&self, h: Option<Py<PyAny>>) {
        let old = std::mem::replace(
            &mut *self
                .overflow_handler
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
            h,
        );
        // Dropped after unlocking: it may run Python code.
        drop(old);
    }

    /// Lends `lua` to Python code run by `f` (a callback) so it can call back into Lua.
    pub fn lend<R>(&self, lua: &mut Lua, f: impl FnOnce() -> R) -> R {
        let prev = self.lent.replace(lua as *mut Lua);
        let r = f();
        self.lent.set(prev);
        r
    }

    /// Forgets slot `i` (its Python object died). Never blocks on the runtime lock.
    pub fn drop_ref(&self, i: u32) {
        self.dropped.push_slot(i);
    }

    /// The queue `PyBox`es push their slot to when Lua frees them.
    pub fn dropped_queue(&self) -> &DropQueue {
        &self.dropped
    }

    /// Runs `f` on the Python objects held by Lua. `f` must not run Python code (no
    /// allocation of Python objects, no decref): Python's collector reads the table meanwhile.
    #[inline]
    pub fn pyrefs<R>(&self, _py: Python<'_>, f: impl FnOnce(&mut PyRefs) -> R) -> R {
        // SAFETY: the GIL is held (`_py`), and every user of `pyrefs` holds it and runs no
        // Python code while using it, so nothing else (another thread, or the collector's
        // `traverse` on this thread) uses the table until `f` returns.
        f(unsafe { &mut *self.pyrefs.get() })
    }

    /// Releases the Python objects of `pyrefs` slots whose userdata are gone.
    fn release_pyrefs(&self, py: Python<'_>, ids: &[u32]) {
        let mut out = Vec::with_capacity(ids.len());
        self.pyrefs(py, |p| p.release(ids, &mut out));
        drop(out);
    }

    /// Releases the Python objects Lua has let go of (after a Lua collection).
    pub fn release_dropped_pyrefs(&self, py: Python<'_>) {
        let ids = self.dropped.take_pyrefs();
        if !ids.is_empty() {
            self.release_pyrefs(py, &ids);
        }
    }

    /// Records the runtime's `_RuntimeCore` object (borrowed).
    pub fn set_core(&self, _py: Python<'_>, core: *mut ffi::PyObject) {
        self.core.set(core);
    }

    /// Forgets the core (it is being deallocated, with the GIL held).
    pub fn forget_core(&self) {
        self.core.set(std::ptr::null_mut());
    }

    /// A new reference to the runtime's core, for a new Lua object wrapper.
    #[inline]
    pub fn core(&self, py: Python<'_>) -> PyResult<Py<RuntimeCore>> {
        let p = self.core.get();
        if p.is_null() {
            return Err(errors::lua_error(py, "the Lua runtime is gone"));
        }
        // SAFETY: `core` is set to the live `_RuntimeCore` object by `set_core` and reset to
        // null when it is deallocated (both with the GIL held, as is this read), so `p` points
        // to a live `RuntimeCore`; the borrowed pointer becomes a new owned reference.
        Ok(unsafe {
            Bound::from_borrowed_ptr(py, p)
                .cast_into_unchecked::<RuntimeCore>()
                .unbind()
        })
    }

    /// Reports the Python objects the runtime holds to Python's collector (the core's
    /// `__traverse__`): each once, and the same set for the whole collection.
    pub fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        // SAFETY: the collector runs with the GIL held and `pyrefs` is only changed with the
        // GIL held and never while Python code (such as a collection) runs, so no `&mut` to
        // it exists now.
        unsafe { &*self.pyrefs.get() }.traverse(visit)?;
        visit.call(&self.config.attribute_filter)?;
        visit.call(&self.config.attribute_handlers.0)?;
        visit.call(&self.config.attribute_handlers.1)?;
        // Held only with the GIL and without running Python code, so it is never locked
        // while the collector runs; if it were, skipping it only hides an edge (safe).
        if let Ok(h) = self.overflow_handler.try_lock() {
            visit.call(&*h)?;
        }
        Ok(())
    }

    /// Drops the Python objects the runtime holds (the core's `__clear__`), breaking cycles
    /// through Lua. Lua userdata whose object is gone then read as `None`.
    pub fn clear_python_refs(&self, py: Python<'_>) {
        let objects = self.pyrefs(py, PyRefs::clear);
        let handler = self
            .overflow_handler
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(objects);
        drop(handler);
    }
}

/// How `with` enters the runtime.
enum Entry {
    /// This thread holds the lock already (a callback calling back).
    Reentrant,
    /// The lock was free and is now taken.
    Acquired,
    /// Clean up first, then take the lock (possibly waiting for it).
    Later,
}

/// Releases the lock when dropped (also on panic).
struct Release<'a>(&'a Shared);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.release();
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Roots must go before the arena that holds them.
        self.refs.get_mut().slots.clear();
        self.chunks.get_mut().clear();
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Whether the interpreter is finalized (late in its shutdown, when module globals go): a
/// thread that lets go of the GIL then cannot take it back.
pub(crate) fn interpreter_finalized() -> bool {
    // SAFETY: `Py_IsInitialized` may be called at any time, with or without the GIL.
    unsafe { ffi::Py_IsInitialized() == 0 }
}

/// Runs `f` attached to Python (as `Python::attach`), unless this thread cannot attach:
/// the interpreter is finalized (late in its shutdown, when module globals go) and this
/// thread is not attached already. Then `None`. (A finalized interpreter still runs Python
/// code on the thread that holds the GIL, as lupa's callbacks run then.)
pub(crate) fn attach_if_alive<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> Option<R> {
    Python::try_attach(f)
}
