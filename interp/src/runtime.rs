//! The runtime: the arena, its root state, the context handed to code running inside it, and
//! the host-facing driver that runs Lua in fuel-limited steps with garbage collection between.

use std::rc::Rc;

use gc_arena::{
    arena::CollectionPhase, lock::RefLock, Arena, Collect, DynamicRoot, DynamicRootSet,
    Finalization, Gc, GcWeak, Mutation, Rootable,
};

use crate::closure::{Closure, FunctionProto, NativeFunction, Upvalue, UpvalueState};
use crate::compiler::{self, SyntaxError};
use crate::memory::{AccountGuard, MemoryAccount};
use crate::thread::{Thread, ThreadStatus};
use crate::value::{
    LuaString, StringInterner, Table, TableCell, Value, ValueType, WEAK_KEYS, WEAK_VALUES,
};
use crate::vm::{self, Error, ErrorKind, Metamethod, NativeFn, METAMETHOD_NAMES};

/// Number of metamethod names cached in [`State`].
const NUM_TM: usize = METAMETHOD_NAMES.len();

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

/// The root of the arena: everything reachable from here survives collection.
#[derive(Collect)]
#[collect(no_drop)]
pub(crate) struct State<'gc> {
    /// The global table (`_G`).
    pub(crate) globals: Table<'gc>,
    /// The registry (`debug.getregistry`).
    pub(crate) registry: Table<'gc>,
    /// The main thread.
    pub(crate) main_thread: Thread<'gc>,
    /// Interned short strings.
    pub(crate) interner: Gc<'gc, RefLock<StringInterner<'gc>>>,
    /// Metatables of the non-table types, indexed by [`ValueType`] number.
    pub(crate) type_metatables: Gc<'gc, RefLock<[Option<Table<'gc>>; 9]>>,
    /// Interned metamethod names, indexed by [`Metamethod`].
    pub(crate) tm_names: [LuaString<'gc>; NUM_TM],
    /// Roots held by the host (stashed values).
    pub(crate) roots: DynamicRootSet<'gc>,
    /// The chain of running threads: the executing one last.
    pub(crate) running: Gc<'gc, RefLock<Vec<Thread<'gc>>>>,
    /// Depth of nested calls made by native functions (C Lua's C stack).
    #[collect(require_static)]
    pub(crate) nested: std::cell::Cell<u32>,
    /// Set by `collectgarbage()`: the driver runs a full collection before the next step.
    #[collect(require_static)]
    pub(crate) gc_requested: std::cell::Cell<bool>,
    /// Set when a step ended past the memory limit for a full collection (C Lua's emergency
    /// collection); cleared once usage is back under the limit.
    #[collect(require_static)]
    pub(crate) emergency_gc: std::cell::Cell<bool>,
    /// Set when `NativeCall::reserve` refused an allocation (the function may be called
    /// again after a full collection).
    #[collect(require_static)]
    pub(crate) native_retry: std::cell::Cell<bool>,
    /// A collection requested inside a nested call, waiting for the nested call to end.
    #[collect(require_static)]
    pub(crate) gc_deferred: std::cell::Cell<bool>,
    /// Fuel charged by library functions for work proportional to their data (a big
    /// `string.rep`, `table.concat`, ...), taken from the step's fuel at the next reload.
    pub(crate) charged: std::cell::Cell<i64>,
    /// Fuel [`Context::tick`] may charge before it next looks at the host's limits.
    pub(crate) tick_left: std::cell::Cell<i64>,
    /// True while `__gc` metamethods run (the collector is not reentrant there).
    #[collect(require_static)]
    pub(crate) in_finalizer: std::cell::Cell<bool>,
    /// The host's warning function (`lua_setwarnf`); none: warnings are dropped.
    #[collect(require_static)]
    pub(crate) warn: std::cell::RefCell<Option<WarnFunction>>,
    /// Set while the state is being closed: new objects get no finalizer.
    pub(crate) closing: std::cell::Cell<bool>,
    /// False after `collectgarbage("stop")`.
    #[collect(require_static)]
    pub(crate) gc_running: std::cell::Cell<bool>,
    /// True in generational mode (reported only; the collector is incremental).
    #[collect(require_static)]
    pub(crate) gc_generational: std::cell::Cell<bool>,
    /// The collector's parameters as `collectgarbage` last set them.
    #[collect(require_static)]
    pub(crate) gc_params: std::cell::Cell<GcParams>,
    /// Lua 5.3's `__le` fallback (`a <= b` as `not (b < a)`), C Lua's LUA_COMPAT_LT_LE.
    #[collect(require_static)]
    pub(crate) compat_lt_le: std::cell::Cell<bool>,
    /// Tables with weak keys or values, cleared after each marking phase.
    pub(crate) weak_tables: Gc<'gc, RefLock<Vec<GcWeak<'gc, TableCell<'gc>>>>>,
    /// Objects with a `__gc` metamethod, held weakly until they become unreachable.
    pub(crate) finalizable: Gc<'gc, RefLock<Vec<WeakObject<'gc>>>>,
    /// Unreachable objects whose `__gc` metamethods are due, in call order.
    pub(crate) to_finalize: Gc<'gc, RefLock<Vec<Value<'gc>>>>,
    /// The runtime's memory account.
    #[collect(require_static)]
    pub(crate) memory: Rc<MemoryAccount>,
    /// Running chains of calls the host made while another call was in progress
    /// (host -> Lua -> host -> Lua nesting), outermost first.
    pub(crate) outer_chains: Gc<'gc, RefLock<Vec<Vec<Thread<'gc>>>>>,
    /// An error a host function returned, to be raised in the waiting thread.
    pub(crate) host_error: Gc<'gc, RefLock<Option<Error<'gc>>>>,
    /// The host's execution limits (shared with [`Lua`]).
    #[collect(require_static)]
    pub(crate) limits: Rc<crate::limits::Limits>,
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

impl<'gc> State<'gc> {
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

    /// The last step before sweeping: weak tables lose the entries whose weak parts died,
    /// and the string interner forgets dead strings.
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
        drop(weak);
        self.interner.borrow_mut(fc).prune(fc);
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

/// What code running inside the arena gets: the mutation context and the root state.
#[derive(Clone, Copy)]
pub struct Context<'gc> {
    mc: &'gc Mutation<'gc>,
    state: &'gc State<'gc>,
}

impl<'gc> Context<'gc> {
    /// Builds a context (used by the arena driver).
    pub(crate) fn new(mc: &'gc Mutation<'gc>, state: &'gc State<'gc>) -> Self {
        Context { mc, state }
    }

    /// The mutation context, for allocating and writing GC objects.
    #[inline(always)]
    pub fn mutation(self) -> &'gc Mutation<'gc> {
        self.mc
    }

    /// The root state.
    #[inline(always)]
    pub(crate) fn state(self) -> &'gc State<'gc> {
        self.state
    }

    /// The global table.
    #[inline]
    pub fn globals(self) -> Table<'gc> {
        self.state.globals
    }

    /// The registry table.
    pub fn registry(self) -> Table<'gc> {
        self.state.registry
    }

    /// Interns (or creates) a Lua string.
    #[inline]
    pub fn intern(self, bytes: &[u8]) -> LuaString<'gc> {
        self.state
            .interner
            .borrow_mut(self.mc)
            .intern(self.mc, bytes)
    }

    /// Interns a `'static` literal (a name): a new string borrows the literal's bytes.
    #[inline]
    pub fn intern_static(self, bytes: &'static [u8]) -> LuaString<'gc> {
        self.state
            .interner
            .borrow_mut(self.mc)
            .intern_static(self.mc, bytes)
    }

    /// A Lua string value.
    #[inline]
    pub fn str(self, s: &str) -> Value<'gc> {
        Value::String(self.intern(s.as_bytes()))
    }

    /// A new empty table.
    pub fn new_table(self) -> Table<'gc> {
        Table::new(self.mc)
    }

    /// A native function value.
    pub fn native(self, name: &'static str, f: NativeFn) -> Value<'gc> {
        Value::Native(NativeFunction::new(self.mc, name, f))
    }

    /// The interned name of a metamethod.
    #[inline(always)]
    pub fn tm_name(self, tm: Metamethod) -> LuaString<'gc> {
        self.state.tm_names[tm as usize]
    }

    /// The metatable of any value.
    #[inline]
    pub fn metatable(self, v: Value<'gc>) -> Option<Table<'gc>> {
        match v {
            Value::Table(t) => t.metatable(),
            Value::UserData(u) => u.metatable(),
            other => self.state.type_metatables.borrow()[other.type_of() as usize],
        }
    }

    /// Sets the metatable shared by all values of a non-table type (e.g. strings).
    pub fn set_type_metatable(self, ty: ValueType, mt: Option<Table<'gc>>) {
        self.state.type_metatables.borrow_mut(self.mc)[ty as usize] = mt;
    }

    /// Charges `units` of fuel for library work done so far and, every few thousand units,
    /// looks at the host's limits ([`crate::Limits::check_inside`]): an `Err` is the uncatchable
    /// error that stops the call, to return at once. Cheap enough for every step of a loop.
    #[inline]
    pub fn tick(self, units: usize) -> Result<(), crate::vm::Error<'gc>> {
        let st = self.state;
        let units = units.min(i64::MAX as usize / 2) as i64;
        // Charged as `NativeCall::charge` does: the fuel of the step (or of the chunk of a
        // nested call) that runs next pays it, and a big charge ends that step.
        st.charged
            .set(st.charged.get().saturating_add(units).min(MAX_CHARGED));
        let left = st.tick_left.get() - units;
        st.tick_left.set(left);
        if left > 0 {
            return Ok(());
        }
        self.tick_check()
    }

    #[cold]
    #[inline(never)]
    fn tick_check(self) -> Result<(), crate::vm::Error<'gc>> {
        let st = self.state;
        st.tick_left.set(crate::limits::TICK_CHECK);
        match st.limits.check_inside(st.charged.get().max(0) as u64) {
            None => Ok(()),
            Some(reason) => Err(crate::vm::hooks::limit_error(self, reason)),
        }
    }

    /// The uncatchable error of the host's limit that stopped the running call, if one did
    /// (after [`Context::tick`] failed, say).
    pub fn stop_error(self) -> Option<crate::vm::Error<'gc>> {
        let reason = self.state.limits.stopped()?;
        Some(crate::vm::hooks::limit_error(self, reason))
    }

    /// Asks for a full garbage collection at the end of the current step.
    pub fn request_gc(self) {
        self.state.gc_requested.set(true);
    }

    /// True unless the collector was stopped with `collectgarbage("stop")`.
    pub fn gc_running(self) -> bool {
        self.state.gc_running.get()
    }

    /// Stops or restarts automatic collection.
    pub fn set_gc_running(self, on: bool) {
        self.state.gc_running.set(on);
    }

    /// Switches the reported GC mode; returns the previous mode's name.
    pub fn gc_mode(self, mode: &[u8]) -> &'static str {
        let prev = if self.state.gc_generational.get() {
            "generational"
        } else {
            "incremental"
        };
        self.state.gc_generational.set(mode == b"generational");
        prev
    }

    /// True in generational mode (`collectgarbage("generational")`).
    pub fn gc_generational(self) -> bool {
        self.state.gc_generational.get()
    }

    /// The collector's parameters as last set by [`Context::set_gc_params`].
    pub fn gc_params(self) -> GcParams {
        self.state.gc_params.get()
    }

    /// Sets the collector's parameters (what `collectgarbage` reports back; they do not
    /// change how gc-arena paces itself).
    pub fn set_gc_params(self, p: GcParams) {
        self.state.gc_params.set(p);
    }

    /// True if a missing `__le` falls back to `__lt` (see [`Context::set_compat_lt_le`]).
    pub fn compat_lt_le(self) -> bool {
        self.state.compat_lt_le.get()
    }

    /// With `on`, `a <= b` on values without `__le` uses `not (b < a)` through `__lt`, as
    /// Lua 5.3 did and C Lua 5.4 built with LUA_COMPAT_5_3 (the stock `lua` command) does.
    pub fn set_compat_lt_le(self, on: bool) {
        self.state.compat_lt_le.set(on);
    }

    /// An estimate of the bytes in use by the arena.
    pub fn memory_estimate(self) -> usize {
        self.state.memory.used()
    }

    /// Sets the metatable of a table (as `setmetatable` does): notes `__mode` weakness and
    /// registers the table for finalization when the metatable has `__gc`.
    pub fn set_table_metatable(self, t: Table<'gc>, mt: Option<Table<'gc>>) {
        t.set_metatable(self.mc, mt);
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
            if !m.get_str(self.tm_name(Metamethod::Gc)).is_nil() && !self.state.closing.get() {
                self.state
                    .finalizable
                    .borrow_mut(self.mc)
                    .push(WeakObject::Table(Gc::downgrade(t.0)));
            }
        }
        let st = t.state();
        let was = st.weak.get();
        st.weak.set(weak);
        if weak != 0 && was == 0 {
            self.state
                .weak_tables
                .borrow_mut(self.mc)
                .push(Gc::downgrade(t.0));
        }
    }

    /// Sets the metatable of a userdata; registers it for finalization if it has `__gc`.
    pub fn set_userdata_metatable(self, u: crate::userdata::UserData<'gc>, mt: Option<Table<'gc>>) {
        u.set_metatable(self.mc, mt);
        if let Some(m) = mt {
            if !m.get_str(self.tm_name(Metamethod::Gc)).is_nil() && !self.state.closing.get() {
                self.state
                    .finalizable
                    .borrow_mut(self.mc)
                    .push(WeakObject::UserData(Gc::downgrade(u.0)));
            }
        }
    }

    /// The execution limits of this runtime (the same as [`Lua::limits`]).
    pub fn limits(self) -> &'gc Rc<crate::limits::Limits> {
        &self.state.limits
    }

    /// The memory account of this runtime: bytes in use, the limit.
    pub fn memory(self) -> &'gc MemoryAccount {
        &self.state.memory
    }

    /// Sets the warning function (`lua_setwarnf`); `None` drops warnings.
    pub fn set_warn_function(self, f: Option<WarnFunction>) {
        *self.state.warn.borrow_mut() = f;
    }

    /// Emits a piece of a warning (`lua_warning`): `to_continue` says more pieces follow.
    pub fn warn(self, piece: &[u8], to_continue: bool) {
        // Called out of the cell: the function may set another one.
        let f = self.state.warn.borrow().clone();
        if let Some(f) = f {
            f(piece, to_continue);
        }
    }

    /// Warns of an error in a finalizer or closing method (`luaE_warnerror`):
    /// `error in __gc (message)`.
    pub fn warn_error(self, what: &str, err: Value<'gc>) {
        let msg = match err {
            Value::String(s) => s.as_bytes(),
            _ => b"error object is not a string",
        };
        self.warn(b"error in ", true);
        self.warn(what.as_bytes(), true);
        self.warn(b" (", true);
        self.warn(msg, true);
        self.warn(b")", false);
    }

    /// Whether a finalizer (`__gc`) is running: the collector is not reentrant then.
    pub fn in_finalizer(self) -> bool {
        self.state.in_finalizer.get()
    }

    /// Marks that a finalizer runs (or no longer does); the previous mark.
    pub fn set_in_finalizer(self, running: bool) -> bool {
        self.state.in_finalizer.replace(running)
    }

    /// A new coroutine that will run `f` (`coroutine.create`), counted against the host's
    /// limit on live coroutines until it dies or is collected; `None` when that limit is
    /// reached.
    pub fn new_coroutine(self, f: Value<'gc>) -> Option<Thread<'gc>> {
        let token = self.state.limits.new_coroutine()?;
        Some(Thread::new_coroutine(self.mc, f, token))
    }

    /// Whether any object is registered for finalization or has its finalizer due (else
    /// closing the state runs nothing).
    pub fn has_finalizers(self) -> bool {
        !self.state.finalizable.borrow().is_empty() || !self.state.to_finalize.borrow().is_empty()
    }

    /// Starts closing the state (C Lua's `lua_close`): every object still registered for
    /// finalization joins the queue of due finalizers, newest first, and objects get no new
    /// finalizers from now on. Take them with [`Context::next_to_finalize`].
    pub fn begin_close(self) {
        if self.state.closing.replace(true) {
            return;
        }
        let all = std::mem::take(&mut *self.state.finalizable.borrow_mut(self.mc));
        let mut q = self.state.to_finalize.borrow_mut(self.mc);
        for w in all.iter().rev() {
            match *w {
                WeakObject::Table(t) => {
                    q.extend(t.upgrade(self.mc).map(|g| Value::Table(Table(g))))
                }
                WeakObject::UserData(u) => q.extend(
                    u.upgrade(self.mc)
                        .map(|g| Value::UserData(crate::userdata::UserData(g))),
                ),
            }
        }
    }

    /// Removes and returns the next object whose finalizer is due.
    pub fn next_to_finalize(self) -> Option<Value<'gc>> {
        let mut q = self.state.to_finalize.borrow_mut(self.mc);
        (!q.is_empty()).then(|| q.remove(0))
    }

    /// `v` as text, as `tostring` gives it without calling a `__tostring` metamethod
    /// (`nil`, `42`, `0.5`, the string itself, `table: 0x...` or its `__name`).
    pub fn to_text(self, v: Value<'gc>) -> String {
        String::from_utf8_lossy(&vm::default_tostring(self, v)).into_owned()
    }

    /// Sets a global variable.
    pub fn set_global(self, name: &'static str, v: Value<'gc>) {
        let k = self.intern_static(name.as_bytes());
        self.state.globals.set_str(self.mc, k, v);
    }

    /// Reads a global variable (raw).
    pub fn get_global(self, name: &str) -> Value<'gc> {
        let k = self.intern(name.as_bytes());
        self.state.globals.get_str(k)
    }

    /// Compiles a chunk (or loads a binary one, as `lua_load` does) and makes a closure of it
    /// with `_ENV` set to `env` (globals if None).
    pub fn load(
        self,
        source: &[u8],
        chunk_name: &[u8],
        env: Option<Table<'gc>>,
    ) -> Result<Closure<'gc>, SyntaxError> {
        let proto = if source.first() == Some(&crate::chunk::SIGNATURE[0]) {
            crate::chunk::undump(source, chunk_name).map_err(|message| SyntaxError {
                message,
                incomplete: false,
            })?
        } else {
            compiler::compile(source, chunk_name)?
        };
        Ok(self.load_proto(&proto, env.map(Value::Table)))
    }

    /// Makes a closure of a compiled main chunk (verified: see
    /// [`crate::proto::VerifiedProto`]); its first upvalue (`_ENV`) is `env`, or the globals.
    pub fn load_proto(
        self,
        proto: &crate::proto::VerifiedProto,
        env: Option<Value<'gc>>,
    ) -> Closure<'gc> {
        let fp = FunctionProto::load(self.mc, proto, &mut |b| self.intern(b));
        let env = env.unwrap_or(Value::Table(self.state.globals));
        let upvalues: Box<[Upvalue<'gc>]> = (0..proto.upvalues.len())
            .map(|i| {
                let v = if i == 0 { env } else { Value::Nil };
                Gc::new(self.mc, gc_arena::lock::Lock::new(UpvalueState::Closed(v)))
            })
            .collect();
        Closure::new(self.mc, fp, &upvalues)
    }

    /// A fresh main-chunk closure of the same prototype as `template` (from `load` or
    /// `load_proto`), with `_ENV` the globals: re-running a chunk without compiling it again.
    pub fn reload(self, template: Closure<'gc>) -> Closure<'gc> {
        self.reload_in(template, Value::Table(self.state.globals))
    }

    /// Like `reload`, with `env` as `_ENV` (a per-call environment).
    pub fn reload_in(self, template: Closure<'gc>, env: Value<'gc>) -> Closure<'gc> {
        let fp = template.proto();
        let upvalues: Box<[Upvalue<'gc>]> = (0..fp.raw.upvalues.len())
            .map(|i| {
                let v = if i == 0 { env } else { Value::Nil };
                Gc::new(self.mc, gc_arena::lock::Lock::new(UpvalueState::Closed(v)))
            })
            .collect();
        Closure::new(self.mc, fp, &upvalues)
    }

    /// Fails with `not enough memory` if `bytes` more would pass the memory limit: the check
    /// to make before a big allocation whose result is accounted only once it is a value.
    pub fn reserve(self, bytes: usize) -> Result<(), Error<'gc>> {
        if self.state.memory.allows(bytes) {
            Ok(())
        } else {
            Err(vm::memory_error(self))
        }
    }

    /// Calls a function to completion inside this context (a nested call: no yields to the
    /// host, no host functions). For hosts and tests; Lua code should use the driver.
    pub fn call(self, f: Value<'gc>, args: &[Value<'gc>]) -> Result<Vec<Value<'gc>>, Error<'gc>> {
        vm::call_nested(self, f, args)
    }
}

/// The most fuel a library call's charges add up to before a step takes them (far past any
/// budget): the step's arithmetic on fuel cannot overflow.
pub(crate) const MAX_CHARGED: i64 = i64::MAX / 4;

/// A host-owned handle to a Lua value: keeps it alive across steps and collections.
pub type StashedValue = DynamicRoot<Rootable![Value<'_>]>;

impl<'gc> Context<'gc> {
    /// Roots a value for the host.
    pub fn stash(self, v: Value<'gc>) -> StashedValue {
        self.state.roots.stash(self.mc, Gc::new(self.mc, v))
    }

    /// Reads a stashed value back.
    pub fn fetch(self, s: &StashedValue) -> Value<'gc> {
        *self.state.roots.fetch(s)
    }
}

/// The outcome of running a thread for one step.
#[derive(Debug)]
pub enum StepResult {
    /// The called function returned; its results are in the thread's stack.
    Finished,
    /// The fuel ran out; call `step` again to continue.
    Pending,
    /// The thread yielded to the host.
    Yielded,
    /// An error escaped.
    Error,
}

type Root = Rootable![State<'_>];

/// A Lua runtime: one arena holding one Lua state.
pub struct Lua {
    arena: std::mem::ManuallyDrop<Arena<Root>>,
    memory: Rc<MemoryAccount>,
    /// Host functions callable from Lua, by id.
    pub(crate) host_fns: Vec<crate::host::HostFn>,
    /// Set by `host_return` while a raw host function runs.
    pub(crate) host_returned: bool,
    /// Instructions (roughly) per step before garbage collection gets a turn.
    pub fuel_per_step: i64,
    /// Execution limits (shared with the state, for nested calls).
    pub(crate) limits: Rc<crate::limits::Limits>,
    /// Runs the finalizers it is given (see [`Lua::set_finalizer_runner`]).
    finalizer_runner: Option<FinalizerRunner>,
}

/// The host's warning function (C Lua's `lua_WarnFunction`): called with each piece of a
/// warning and whether more pieces follow (`true`) or it ends (`false`). A message of one
/// piece starting with `@` is a control message (`@on`, `@off` for the standard one).
pub type WarnFunction = Rc<dyn Fn(&[u8], bool)>;

/// How a host runs due finalizers, Lua code run between steps: it calls the function it is
/// given (with its interpreter lock released, say, as a long step runs).
pub type FinalizerRunner = Rc<dyn Fn(&mut dyn FnMut())>;

impl Default for Lua {
    fn default() -> Self {
        Self::new()
    }
}

impl Lua {
    /// A runtime with no libraries loaded (see the `stdlib` crate).
    pub fn new() -> Lua {
        Self::with_seed(0x2545_F491_4F6C_DD1D)
    }

    /// A runtime whose string hashes use `seed`.
    pub fn with_seed(seed: u64) -> Lua {
        let memory = Rc::new(MemoryAccount::default());
        let _g = AccountGuard::enter(&memory);
        let mem2 = memory.clone();
        let limits = Rc::new(crate::limits::Limits::default());
        let limits2 = limits.clone();
        let arena = Arena::<Root>::new(move |mc| {
            let mut interner = StringInterner::new(seed);
            let tm_names =
                std::array::from_fn(|i| interner.intern(mc, METAMETHOD_NAMES[i].as_bytes()));
            State {
                globals: Table::new(mc),
                registry: Table::with_capacity(mc, 2, 0),
                main_thread: Thread::new(mc, true),
                interner: Gc::new(mc, RefLock::new(interner)),
                type_metatables: Gc::new(mc, RefLock::new([None; 9])),
                tm_names,
                roots: DynamicRootSet::new(mc),
                running: Gc::new(mc, RefLock::new(Vec::new())),
                nested: std::cell::Cell::new(0),
                gc_requested: std::cell::Cell::new(false),
                gc_deferred: std::cell::Cell::new(false),
                emergency_gc: std::cell::Cell::new(false),
                native_retry: std::cell::Cell::new(false),
                charged: std::cell::Cell::new(0),
                tick_left: std::cell::Cell::new(0),
                in_finalizer: std::cell::Cell::new(false),
                warn: std::cell::RefCell::new(None),
                closing: std::cell::Cell::new(false),
                gc_running: std::cell::Cell::new(true),
                gc_generational: std::cell::Cell::new(false),
                gc_params: std::cell::Cell::new(GcParams::default()),
                compat_lt_le: std::cell::Cell::new(false),
                weak_tables: Gc::new(mc, RefLock::new(Vec::new())),
                finalizable: Gc::new(mc, RefLock::new(Vec::new())),
                to_finalize: Gc::new(mc, RefLock::new(Vec::new())),
                memory: mem2,
                outer_chains: Gc::new(mc, RefLock::new(Vec::new())),
                host_error: Gc::new(mc, RefLock::new(None)),
                limits: limits2,
            }
        });
        arena.mutate(|mc, st| {
            st.main_thread.set_status(ThreadStatus::Running);
            // C Lua's LUA_RIDX_MAINTHREAD and LUA_RIDX_GLOBALS.
            st.registry.set_int(mc, 1, Value::Thread(st.main_thread));
            st.registry.set_int(mc, 2, Value::Table(st.globals));
            let g = Value::Table(st.globals);
            let k = st.interner.borrow_mut(mc).intern(mc, b"_G");
            st.globals.set_str(mc, k, g);
        });
        // Like C Lua's default pause of 200%: a cycle starts when the heap has doubled.
        arena.metrics().set_pacing(gc_arena::metrics::Pacing {
            sleep_factor: 1.0,
            ..gc_arena::metrics::Pacing::DEFAULT
        });
        Lua {
            arena: std::mem::ManuallyDrop::new(arena),
            memory,
            host_fns: Vec::new(),
            host_returned: false,
            finalizer_runner: None,
            fuel_per_step: 10_000,
            limits,
        }
    }

    /// The execution limits of this runtime.
    pub fn limits(&self) -> &Rc<crate::limits::Limits> {
        &self.limits
    }

    /// Runs `f` inside the arena.
    pub fn enter<F, R>(&self, f: F) -> R
    where
        F: for<'gc> FnOnce(Context<'gc>) -> R,
    {
        let _g = AccountGuard::enter(&self.memory);
        self.arena.mutate(|mc, st| f(Context::new(mc, st)))
    }

    /// Bytes held by the runtime's objects (an estimate kept by the objects themselves).
    pub fn memory_used(&self) -> usize {
        self.memory.used()
    }

    /// Sets the memory limit in bytes (`None`: unlimited). Past it, Lua code gets
    /// `not enough memory` errors.
    pub fn set_memory_limit(&self, limit: Option<usize>) {
        self.memory.set_limit(limit);
    }

    /// The memory limit.
    pub fn memory_limit(&self) -> Option<usize> {
        self.memory.limit()
    }

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
        // size (one object's worth of debt per 4 KiB).
        let bytes = self.memory.take_unreported();
        if bytes >= 1024 {
            self.arena.metrics().adjust_debt(bytes as f64 / 4096.0);
        }
        if self.arena.collection_phase() == CollectionPhase::Sweeping {
            self.arena.cycle_debt();
            return;
        }
        if self.arena.mark_debt().is_some() {
            self.atomic();
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
            if marked.finalize(|fc, st| st.converge_ephemerons(fc)) {
                continue;
            }
            if !finalizers_separated {
                finalizers_separated = true;
                let Some(marked) = self.arena.finish_marking() else {
                    return;
                };
                marked.finalize(|fc, st| st.separate_finalizable(fc));
                continue;
            }
            let Some(marked) = self.arena.finish_marking() else {
                return;
            };
            marked.finalize(|fc, st| st.clear_weak(fc));
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
                st.gc_requested.replace(false),
                st.gc_running.get(),
                !st.to_finalize.borrow().is_empty(),
            )
        });
        let mut collected = requested;
        if requested {
            self.collect_all();
            if !self.memory.exceeded() {
                self.enter(|ctx| ctx.state().emergency_gc.set(false));
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
        let due = self.enter(|ctx| !ctx.state().to_finalize.borrow().is_empty());
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
            let next = {
                let mut q = ctx.state().to_finalize.borrow_mut(ctx.mutation());
                if q.is_empty() {
                    break;
                }
                q.remove(0)
            };
            let mm = vm::metamethod(ctx, next, Metamethod::Gc);
            if mm.is_function() {
                ctx.state().in_finalizer.set(true);
                let r = vm::call_finalizer(ctx, mm, &[next]);
                ctx.state().in_finalizer.set(false);
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
    }

    /// Number of live GC objects.
    pub fn gc_object_count(&self) -> usize {
        self.arena.metrics().total_gc_count()
    }
}

impl Drop for Lua {
    fn drop(&mut self) {
        let _g = AccountGuard::enter(&self.memory);
        // SAFETY: the arena is dropped exactly once, here; `self` is not used afterwards.
        unsafe { std::mem::ManuallyDrop::drop(&mut self.arena) };
    }
}

/// An error that escaped to the host, with its value rooted.
pub struct StashedError {
    /// The error object.
    pub value: StashedValue,
    /// Its kind.
    pub kind: ErrorKind,
    /// The Lua traceback where it was raised.
    pub traceback: Option<String>,
}

impl std::fmt::Debug for StashedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StashedError({:?})", self.kind)
    }
}

/// The kind of error and the traceback where it was raised (the error object itself is in
/// the arena: fetch it, or format it inside [`Lua::enter`] as a [`crate::Error`]).
impl std::fmt::Display for StashedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.kind {
            ErrorKind::Runtime => "Lua runtime error",
            ErrorKind::Memory => "not enough memory",
            ErrorKind::Interrupt => "Lua execution stopped by the host",
            ErrorKind::ErrorHandling => "error in error handling",
        };
        f.write_str(what)?;
        if let Some(tb) = &self.traceback {
            write!(f, "\n{tb}")?;
        }
        Ok(())
    }
}

impl std::error::Error for StashedError {}
