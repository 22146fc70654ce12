//! The collector's state and the parts of a collection cycle that are Lua's, not
//! gc-arena's: weak tables (ephemerons, weak values, cleared keys), finalizers (`__gc`:
//! objects registered, separated when unreachable, queued and run between steps, and all of
//! them when the state closes), pacing between steps and full collections (C Lua's
//! `lgc.c`, over gc-arena's incremental mark and sweep).

use std::cell::Cell;

use gc_arena::{
    arena::CollectionPhase, lock::RefLock, Collect, Finalization, Gc, GcWeak, Mutation,
};

use crate::memory::AccountGuard;
use crate::runtime::{Context, FinalizerRunner, Lua};
use crate::value::{Table, TableCell, Value, WEAK_KEYS, WEAK_VALUES};
use crate::vm::{self, Metamethod};

/// The collector's tuning parameters, as `collectgarbage` sets and reports them (C Lua's
/// `gcpause`, `gcstepmul`, `gcstepsize`, `genminormul` and `genmajormul`, with its
/// defaults). Percentages, except `stepsize` (log2 of bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GcParams {
    /// Incremental mode: how long the collector waits between cycles.
    pub pause: i32,
    /// Incremental mode: the speed of the collector relative to allocation.
    pub stepmul: i32,
    /// Incremental mode: the size of a step, log2 of bytes.
    pub stepsize: i32,
    /// Generational mode: growth that triggers a minor collection.
    pub minormul: i32,
    /// Generational mode: growth that triggers a major collection.
    pub majormul: i32,
}

impl Default for GcParams {
    fn default() -> GcParams {
        GcParams {
            pause: 200,
            stepmul: 100,
            stepsize: 13,
            minormul: 20,
            majormul: 100,
        }
    }
}

/// The collector's state (part of the arena's root): what Lua asked of it, the objects it
/// treats specially (weak tables, objects with finalizers), and the finalizers due.
#[derive(Collect)]
#[collect(no_drop)]
pub(crate) struct Collector<'gc> {
    /// Set by `collectgarbage()`: the driver runs a full collection before the next step.
    #[collect(require_static)]
    pub(crate) requested: Cell<bool>,
    /// A collection requested inside a nested call, waiting for the nested call to end.
    #[collect(require_static)]
    pub(crate) deferred: Cell<bool>,
    /// Set when a step ended past the memory limit for a full collection (C Lua's emergency
    /// collection); cleared once usage is back under the limit.
    #[collect(require_static)]
    pub(crate) emergency: Cell<bool>,
    /// Set when `NativeCall::reserve` refused an allocation (the function may be called
    /// again after a full collection).
    #[collect(require_static)]
    pub(crate) native_retry: Cell<bool>,
    /// True while `__gc` metamethods run (the collector is not reentrant there).
    #[collect(require_static)]
    in_finalizer: Cell<bool>,
    /// Set while the state is being closed: new objects get no finalizer.
    #[collect(require_static)]
    closing: Cell<bool>,
    /// False after `collectgarbage("stop")`.
    #[collect(require_static)]
    running: Cell<bool>,
    /// True in generational mode (reported only; the collector is incremental).
    #[collect(require_static)]
    generational: Cell<bool>,
    /// The collector's parameters as `collectgarbage` last set them.
    #[collect(require_static)]
    params: Cell<GcParams>,
    /// Tables with weak keys or values, cleared after each marking phase.
    weak_tables: Gc<'gc, RefLock<Vec<GcWeak<'gc, TableCell<'gc>>>>>,
    /// Objects with a `__gc` metamethod, held weakly until they become unreachable.
    finalizable: Gc<'gc, RefLock<Vec<WeakObject<'gc>>>>,
    /// Unreachable objects whose `__gc` metamethods are due, in call order.
    to_finalize: Gc<'gc, RefLock<Vec<Value<'gc>>>>,
}

impl<'gc> Collector<'gc> {
    /// A running collector with C Lua's default parameters and nothing registered.
    pub(crate) fn new(mc: &Mutation<'gc>) -> Self {
        Collector {
            requested: Cell::new(false),
            deferred: Cell::new(false),
            emergency: Cell::new(false),
            native_retry: Cell::new(false),
            in_finalizer: Cell::new(false),
            closing: Cell::new(false),
            running: Cell::new(true),
            generational: Cell::new(false),
            params: Cell::new(GcParams::default()),
            weak_tables: Gc::new(mc, RefLock::new(Vec::new())),
            finalizable: Gc::new(mc, RefLock::new(Vec::new())),
            to_finalize: Gc::new(mc, RefLock::new(Vec::new())),
        }
    }

    /// True if some finalizer is due.
    fn finalizers_due(&self) -> bool {
        !self.to_finalize.borrow().is_empty()
    }

    /// Removes and returns the next object whose finalizer is due.
    fn next_due(&self, mc: &Mutation<'gc>) -> Option<Value<'gc>> {
        let mut q = self.to_finalize.borrow_mut(mc);
        (!q.is_empty()).then(|| q.remove(0))
    }

    /// Registers `obj` (whose metatable has `__gc`) for finalization, unless the state is
    /// closing.
    fn register_finalizer(&self, mc: &Mutation<'gc>, obj: WeakObject<'gc>) {
        if !self.closing.get() {
            self.finalizable.borrow_mut(mc).push(obj);
        }
    }

    /// Queues every registered object's finalizer, newest first; no object gets a finalizer
    /// from now on.
    fn begin_close(&self, mc: &Mutation<'gc>) {
        if self.closing.replace(true) {
            return;
        }
        let all = std::mem::take(&mut *self.finalizable.borrow_mut(mc));
        let mut q = self.to_finalize.borrow_mut(mc);
        for w in all.iter().rev() {
            match *w {
                WeakObject::Table(t) => q.extend(t.upgrade(mc).map(|g| Value::Table(Table(g)))),
                WeakObject::UserData(u) => q.extend(
                    u.upgrade(mc)
                        .map(|g| Value::UserData(crate::userdata::UserData(g))),
                ),
            }
        }
    }
}

/// A weak reference to an object that can have a finalizer.
#[derive(Clone, Copy, Collect)]
#[collect(no_drop)]
pub(crate) enum WeakObject<'gc> {
    /// A table.
    Table(GcWeak<'gc, TableCell<'gc>>),
    /// A full userdata.
    UserData(GcWeak<'gc, crate::userdata::UserDataState<'gc>>),
}

/// True if `v` is a collectable object (not a string) that the current collection found
/// unreachable.
fn is_dead_value<'gc>(fc: &Finalization<'gc>, v: Value<'gc>) -> bool {
    match v {
        Value::Table(t) => Gc::is_dead(fc, t.0),
        Value::Closure(c) => Gc::is_dead(fc, c.0),
        Value::Native(f) => Gc::is_dead(fc, f.0),
        Value::Thread(t) => Gc::is_dead(fc, t.0),
        Value::UserData(u) => Gc::is_dead(fc, u.0),
        _ => false,
    }
}

impl<'gc> Collector<'gc> {
    /// One ephemeron convergence round (after marking): marks the values of weak-key tables
    /// whose keys are alive. Returns true if it marked anything (marking must then resume,
    /// and another round follow).
    fn converge_ephemerons(&self, fc: &Finalization<'gc>) -> bool {
        let weak = self.weak_tables.borrow();
        let mut marked = false;
        for w in weak.iter() {
            if w.is_dead(fc) {
                continue;
            }
            let Some(t) = w.upgrade(fc) else { continue };
            for v in Table(t)
                .state()
                .ephemeron_values_to_mark(|v| is_dead_value(fc, v))
            {
                resurrect_value(fc, v);
                marked = true;
            }
        }
        marked
    }

    /// Clears dead values from weak-value tables, then resurrects the unreachable objects
    /// that have a `__gc` finalizer (with everything they reach) and queues them; their
    /// finalizers run after the collection. Returns true if anything was resurrected.
    fn separate_finalizable(&self, fc: &Finalization<'gc>) -> bool {
        // Like C Lua's atomic phase: weak values are cleared before resurrection, so a
        // weak-value entry never shows an object that is being finalized.
        for w in self.weak_tables.borrow().iter() {
            if let Some(t) = w.upgrade(fc).filter(|_| !w.is_dead(fc)) {
                Table(t)
                    .state_mut(fc)
                    .clear_dead_values(|v| is_dead_value(fc, v));
            }
        }
        let mut fin = self.finalizable.borrow_mut(fc);
        let mut due = Vec::new();
        fin.retain(|w| {
            let dead = match *w {
                WeakObject::Table(t) => t.is_dead(fc),
                WeakObject::UserData(u) => u.is_dead(fc),
            };
            if dead {
                match *w {
                    WeakObject::Table(t) => {
                        if let Some(g) = t.resurrect(fc) {
                            due.push(Value::Table(Table(g)));
                        }
                    }
                    WeakObject::UserData(u) => {
                        if let Some(g) = u.resurrect(fc) {
                            due.push(Value::UserData(crate::userdata::UserData(g)));
                        }
                    }
                }
            }
            !dead
        });
        drop(fin);
        let resurrected = !due.is_empty();
        if resurrected {
            // C Lua calls finalizers in reverse order of marking.
            due.reverse();
            self.to_finalize.borrow_mut(fc).extend(due);
        }
        resurrected
    }

    /// The last step before sweeping: weak tables lose the entries whose weak parts died.
    fn clear_weak(&self, fc: &Finalization<'gc>) {
        let mut weak = self.weak_tables.borrow_mut(fc);
        weak.retain(|w| !w.is_dead(fc));
        for w in weak.iter() {
            if let Some(t) = w.upgrade(fc) {
                Table(t).state_mut(fc).clear_dead(|v| is_dead_value(fc, v));
                // As C Lua's `clearbykeys` marks the string keys it keeps: those of an
                // all-weak table's entries that survived (the others are dead keys).
                for s in Table(t).state().live_string_keys() {
                    if Gc::is_dead(fc, s.0) {
                        Gc::resurrect(fc, s.0);
                    }
                }
            }
        }
    }
}

/// Marks `v` (and what it reaches) as reachable for this cycle.
fn resurrect_value<'gc>(fc: &Finalization<'gc>, v: Value<'gc>) {
    match v {
        Value::Table(t) => Gc::resurrect(fc, t.0),
        Value::Closure(c) => Gc::resurrect(fc, c.0),
        Value::Native(f) => Gc::resurrect(fc, f.0),
        Value::Thread(t) => Gc::resurrect(fc, t.0),
        Value::UserData(u) => Gc::resurrect(fc, u.0),
        _ => {}
    }
}

impl<'gc> Context<'gc> {
    /// Asks for a full garbage collection at the end of the current step.
    pub fn request_gc(self) {
        self.state().gc.requested.set(true);
    }

    /// True unless the collector was stopped with `collectgarbage("stop")`.
    pub fn gc_running(self) -> bool {
        self.state().gc.running.get()
    }

    /// Stops or restarts automatic collection.
    pub fn set_gc_running(self, on: bool) {
        self.state().gc.running.set(on);
    }

    /// Switches the reported GC mode; returns the previous mode's name.
    pub fn gc_mode(self, mode: &[u8]) -> &'static str {
        let prev = if self.state().gc.generational.get() {
            "generational"
        } else {
            "incremental"
        };
        self.state().gc.generational.set(mode == b"generational");
        prev
    }

    /// True in generational mode (`collectgarbage("generational")`).
    pub fn gc_generational(self) -> bool {
        self.state().gc.generational.get()
    }

    /// The collector's parameters as last set by [`Context::set_gc_params`].
    pub fn gc_params(self) -> GcParams {
        self.state().gc.params.get()
    }

    /// Sets the collector's parameters (what `collectgarbage` reports back; they do not
    /// change how gc-arena paces itself).
    pub fn set_gc_params(self, p: GcParams) {
        self.state().gc.params.set(p);
    }

    /// Sets the metatable of a table (as `setmetatable` does): notes `__mode` weakness and
    /// registers the table for finalization when the metatable has `__gc`.
    pub fn set_table_metatable(self, t: Table<'gc>, mt: Option<Table<'gc>>) {
        t.set_metatable(self.mutation(), mt);
        let mut weak = 0;
        if let Some(m) = mt {
            if let Value::String(mode) = m.get_str(self.tm_name(Metamethod::Mode)) {
                if mode.as_bytes().contains(&b'k') {
                    weak |= WEAK_KEYS;
                }
                if mode.as_bytes().contains(&b'v') {
                    weak |= WEAK_VALUES;
                }
            }
            if !m.get_str(self.tm_name(Metamethod::Gc)).is_nil() {
                let obj = WeakObject::Table(Gc::downgrade(t.0));
                self.state().gc.register_finalizer(self.mutation(), obj);
            }
        }
        let st = t.state();
        let was = st.weak.get();
        st.weak.set(weak);
        if weak != 0 && was == 0 {
            let weak_tables = &self.state().gc.weak_tables;
            weak_tables
                .borrow_mut(self.mutation())
                .push(Gc::downgrade(t.0));
        }
    }

    /// Sets the metatable of a userdata; registers it for finalization if it has `__gc`.
    pub fn set_userdata_metatable(self, u: crate::userdata::UserData<'gc>, mt: Option<Table<'gc>>) {
        u.set_metatable(self.mutation(), mt);
        if let Some(m) = mt {
            if !m.get_str(self.tm_name(Metamethod::Gc)).is_nil() {
                let obj = WeakObject::UserData(Gc::downgrade(u.0));
                self.state().gc.register_finalizer(self.mutation(), obj);
            }
        }
    }

    /// Whether a finalizer (`__gc`) is running: the collector is not reentrant then.
    pub fn in_finalizer(self) -> bool {
        self.state().gc.in_finalizer.get()
    }

    /// Marks that a finalizer runs (or no longer does); the previous mark.
    pub fn set_in_finalizer(self, running: bool) -> bool {
        self.state().gc.in_finalizer.replace(running)
    }

    /// Whether any object is registered for finalization or has its finalizer due (else
    /// closing the state runs nothing).
    pub fn has_finalizers(self) -> bool {
        let gc = &self.state().gc;
        !gc.finalizable.borrow().is_empty() || gc.finalizers_due()
    }

    /// Starts closing the state (C Lua's `lua_close`): every object still registered for
    /// finalization joins the queue of due finalizers, newest first, and objects get no new
    /// finalizers from now on. Take them with [`Context::next_to_finalize`].
    pub fn begin_close(self) {
        self.state().gc.begin_close(self.mutation());
    }

    /// Removes and returns the next object whose finalizer is due.
    pub fn next_to_finalize(self) -> Option<Value<'gc>> {
        self.state().gc.next_due(self.mutation())
    }
}

/// Bytes of big allocations (strings, table parts) that count as one object's allocation
/// in the collector's pacing, which counts objects: about a small object's size, so that a
/// program building big strings is collected as often as C Lua's byte-paced collector does
/// (with 4 KiB, `s = s .. x` in a loop kept hundreds of MB of dead strings).
const BYTES_PER_OBJECT_DEBT: f64 = 256.0;

impl Lua {
    /// C Lua's emergency collection, for hosts about to allocate: if usage is past the
    /// limit, runs a full collection (and due finalizers). True if usage is still past it.
    pub fn collect_if_over_limit(&mut self) -> bool {
        if !self.memory.exceeded() {
            return false;
        }
        self.enter(vm::shrink_idle_main_thread);
        self.collect_all();
        self.run_finalizers();
        self.memory.exceeded()
    }

    /// Does a bounded amount of garbage collection work (called between steps).
    pub fn collect_step(&mut self) {
        let _g = AccountGuard::enter(&self.memory);
        // The collector paces itself by object count; big strings and tables also count by
        // size (see `BYTES_PER_OBJECT_DEBT`).
        let bytes = self.memory.take_unreported();
        if bytes >= 1024 {
            self.arena
                .metrics()
                .adjust_debt(bytes as f64 / BYTES_PER_OBJECT_DEBT);
        }
        if self.arena.collection_phase() == CollectionPhase::Sweeping {
            self.arena.cycle_debt();
            if self.arena.collection_phase() == CollectionPhase::Sleeping {
                self.sleep_for_live_bytes();
            }
            return;
        }
        if self.arena.mark_debt().is_some() {
            self.atomic();
        }
    }

    /// At the end of a cycle, lengthens the sleep by the live bytes that the live object
    /// count does not show (C Lua's pause is relative to the bytes in use): gc-arena sleeps
    /// for as many allocations as objects were kept, so a heap of a few big tables (a
    /// 1e6-entry table is one object) was traced again every few hundred allocations.
    fn sleep_for_live_bytes(&mut self) {
        let metrics = self.arena.metrics();
        let by_bytes = self.memory.used() as f64 / BYTES_PER_OBJECT_DEBT;
        let by_count = metrics.total_gc_count() as f64;
        if by_bytes > by_count {
            metrics.adjust_debt(-(by_bytes - by_count));
        }
    }

    /// The atomic part of a cycle, once marking is done (C Lua's `atomic`): ephemeron
    /// convergence, separation of objects to finalize, convergence again, clearing of weak
    /// entries; then sweeping starts.
    fn atomic(&mut self) {
        let mut finalizers_separated = false;
        loop {
            let Some(marked) = self.arena.finish_marking() else {
                return;
            };
            if marked.finalize(|fc, st| st.gc.converge_ephemerons(fc)) {
                continue;
            }
            if !finalizers_separated {
                finalizers_separated = true;
                let Some(marked) = self.arena.finish_marking() else {
                    return;
                };
                marked.finalize(|fc, st| st.gc.separate_finalizable(fc));
                continue;
            }
            let Some(marked) = self.arena.finish_marking() else {
                return;
            };
            marked.finalize(|fc, st| {
                st.gc.clear_weak(fc);
                st.interner.borrow_mut(fc).prune(fc);
            });
            // Clearing went through write barriers: finish marking before sweeping.
            if let Some(marked) = self.arena.finish_marking() {
                marked.start_sweeping();
            }
            return;
        }
    }

    /// Garbage collection between steps: a full cycle if Lua asked for one, else a bounded
    /// amount of work (none while the collector is stopped); then due finalizers run.
    pub(crate) fn after_step(&mut self) {
        let (requested, running, finalizers) = self.enter(|ctx| {
            let st = ctx.state();
            (
                st.gc.requested.replace(false),
                st.gc.running.get(),
                st.gc.finalizers_due(),
            )
        });
        let mut collected = requested;
        if requested {
            self.collect_all();
            if !self.memory.exceeded() {
                self.enter(|ctx| ctx.state().gc.emergency.set(false));
            }
            // A full collection asked for by Lua (`collectgarbage`) costs fuel in proportion
            // to its work: one unit per live object traced.
            self.limits
                .charge(self.arena.metrics().total_gc_count() as i64);
        } else if running
            && (self.arena.metrics().allocation_debt() > 0.0 || self.memory.unreported() >= 1024)
        {
            self.collect_step();
            collected = true;
        }
        if collected || finalizers {
            self.run_finalizers();
        }
    }

    /// Makes `runner` run due finalizers from now on (see [`FinalizerRunner`]); `None`: they
    /// run as they are.
    pub fn set_finalizer_runner(&mut self, runner: Option<FinalizerRunner>) {
        self.finalizer_runner = runner;
    }

    /// Calls the `__gc` metamethods of objects found unreachable, through the host's
    /// [`FinalizerRunner`] if it set one. Errors become warnings; once the running call is
    /// stopped, the rest wait.
    pub fn run_finalizers(&mut self) {
        let due = self.enter(|ctx| ctx.state().gc.finalizers_due());
        if !due {
            return;
        }
        match self.finalizer_runner.clone() {
            Some(runner) => runner(&mut || self.run_due_finalizers()),
            None => self.run_due_finalizers(),
        }
    }

    fn run_due_finalizers(&mut self) {
        self.enter(|ctx| loop {
            // A stopped call runs no more finalizers (they wait for the next call).
            if ctx.state().limits.stopped().is_some() {
                break;
            }
            let Some(next) = ctx.state().gc.next_due(ctx.mutation()) else {
                break;
            };
            let mm = vm::metamethod(ctx, next, Metamethod::Gc);
            if mm.is_function() {
                ctx.state().gc.in_finalizer.set(true);
                let r = vm::call_finalizer(ctx, mm, &[next]);
                ctx.state().gc.in_finalizer.set(false);
                // A stop is no error of the finalizer's: it goes on with the call.
                if let Some(e) = r.err().filter(|e| e.is_catchable()) {
                    ctx.warn_error("__gc", e.value);
                }
            }
        });
    }

    /// Runs a full collection: finishes the cycle in progress, then runs a complete one, so
    /// everything unreachable now is freed (and due finalizers are queued).
    pub fn collect_all(&mut self) {
        let _g = AccountGuard::enter(&self.memory);
        // A cycle in progress may have marked what is garbage now: it is finished first,
        // then a whole cycle runs (one, from a sleeping collector: C Lua's `fullinc`).
        let cycles = match self.arena.collection_phase() {
            CollectionPhase::Sleeping => 1,
            _ => 2,
        };
        for _ in 0..cycles {
            if self.arena.collection_phase() == CollectionPhase::Sweeping {
                self.arena.finish_cycle();
                continue;
            }
            if self.arena.finish_marking().is_some() {
                self.atomic();
            }
            self.arena.finish_cycle();
        }
        self.sleep_for_live_bytes();
    }

    /// Number of live GC objects.
    pub fn gc_object_count(&self) -> usize {
        self.arena.metrics().total_gc_count()
    }
}
