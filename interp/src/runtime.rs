//! The runtime: the arena, its root state, the context handed to code running inside it, and
//! the host-facing [`Lua`] that runs Lua in fuel-limited steps with garbage collection between
//! (the collector's side of it is in [`crate::collector`], the running chain in `vm::chain`).

use std::rc::Rc;

use gc_arena::{
    lock::RefLock, Arena, Collect, DynamicRoot, DynamicRootSet, Gc, Mutation, Rootable,
};

use crate::closure::{Closure, FunctionProto, NativeFunction, Upvalue, UpvalueState};
use crate::compiler::{self, SyntaxError};
use crate::memory::{AccountGuard, MemoryAccount};
use crate::thread::{Thread, ThreadStatus};
use crate::value::{LuaString, StringInterner, Table, Value, ValueType};
use crate::vm::{self, Error, ErrorKind, Metamethod, NativeFn, METAMETHOD_NAMES};

/// Number of metamethod names cached in [`State`].
const NUM_TM: usize = METAMETHOD_NAMES.len();

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
    /// The light functions made so far ([`Context::native`]), by function address, sorted.
    light_functions: Gc<'gc, RefLock<Vec<(usize, NativeFunction<'gc>)>>>,
    /// The threads that run and the calls waiting for them.
    pub(crate) chain: vm::RunningChain<'gc>,
    /// The collector's state: weak tables, finalizers, what Lua asked of it.
    pub(crate) gc: crate::collector::Collector<'gc>,
    /// Fuel charged by library functions for work proportional to their data (a big
    /// `string.rep`, `table.concat`, ...).
    #[collect(require_static)]
    pub(crate) fuel: crate::limits::FuelMeter,
    /// The host's warning function (`lua_setwarnf`); none: warnings are dropped.
    #[collect(require_static)]
    pub(crate) warn: std::cell::RefCell<Option<WarnFunction>>,
    /// Lua 5.3's `__le` fallback (`a <= b` as `not (b < a)`), C Lua's LUA_COMPAT_LT_LE.
    #[collect(require_static)]
    pub(crate) compat_lt_le: std::cell::Cell<bool>,
    /// The runtime's memory account.
    #[collect(require_static)]
    pub(crate) memory: Rc<MemoryAccount>,
    /// The host's execution limits (shared with [`Lua`]).
    #[collect(require_static)]
    pub(crate) limits: Rc<crate::limits::Limits>,
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

    /// The light function of `f` (C Lua's `lua_pushcfunction`): a native function without
    /// upvalues, one per Rust function per runtime, so every value made from `f` is the same
    /// value (equal, the same table key, the same address), named `name` when first made.
    pub fn native(self, name: &'static str, f: NativeFn) -> Value<'gc> {
        let key = f as usize;
        let cache = self.state.light_functions;
        let found = cache.borrow().binary_search_by_key(&key, |e| e.0);
        match found {
            Ok(i) => Value::Native(cache.borrow()[i].1),
            Err(i) => {
                let nf = NativeFunction::new(self.mc, name, f);
                cache.borrow_mut(self.mc).insert(i, (key, nf));
                Value::Native(nf)
            }
        }
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
    /// The fuel of the step (or of the chunk of a nested call) that runs next pays it, and a
    /// big charge ends that step.
    #[inline]
    pub fn tick(self, units: usize) -> Result<(), crate::vm::Error<'gc>> {
        if self.state.fuel.tick(units) {
            return self.tick_check();
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn tick_check(self) -> Result<(), crate::vm::Error<'gc>> {
        let st = self.state;
        match st.limits.check_inside(st.fuel.charged().max(0) as u64) {
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

    /// A new coroutine that will run `f` (`coroutine.create`), counted against the host's
    /// limit on live coroutines until it dies or is collected; `None` when that limit is
    /// reached.
    pub fn new_coroutine(self, f: Value<'gc>) -> Option<Thread<'gc>> {
        let token = self.state.limits.new_coroutine()?;
        Some(Thread::new_coroutine(self.mc, f, token))
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
    pub(crate) arena: std::mem::ManuallyDrop<Arena<Root>>,
    pub(crate) memory: Rc<MemoryAccount>,
    /// Host functions callable from Lua, by id.
    pub(crate) host_fns: Vec<crate::host::HostFn>,
    /// Set by `host_return` while a raw host function runs.
    pub(crate) host_returned: bool,
    /// Instructions (roughly) per step before garbage collection gets a turn.
    pub fuel_per_step: i64,
    /// Execution limits (shared with the state, for nested calls).
    pub(crate) limits: Rc<crate::limits::Limits>,
    /// Runs the finalizers it is given (see [`Lua::set_finalizer_runner`]).
    pub(crate) finalizer_runner: Option<FinalizerRunner>,
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
                light_functions: Gc::new(mc, RefLock::new(Vec::new())),
                chain: vm::RunningChain::new(mc),
                gc: crate::collector::Collector::new(mc),
                fuel: crate::limits::FuelMeter::default(),
                warn: std::cell::RefCell::new(None),
                compat_lt_le: std::cell::Cell::new(false),
                memory: mem2,
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
