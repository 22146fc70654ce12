//! The host side of a runtime: calling Lua from Rust in fuel-limited steps with garbage
//! collection between them, and Rust functions callable from Lua that run *outside* the step
//! (so they may call back into Lua: host -> Lua -> host -> Lua nests freely). A call a host
//! function makes runs where C Lua runs a `lua_call` from a C function: on the thread that
//! called the host function, above its frames (the host function is a C function's frame to
//! tracebacks and `debug.getinfo`), as a C call that cannot yield and whose errors unwind
//! only its own frames.

use std::rc::Rc;

use crate::limits::StopReason;
use crate::runtime::{Context, Lua, StashedError, StashedValue};
use crate::value::Value;
use crate::vm::{self, Action, ErrorKind, Exit, NativeCall, NativeFn};

/// A function of the host, callable from Lua. It receives the runtime (to call back into Lua)
/// and the arguments, and returns results or an error to raise in Lua.
pub type HostFunction =
    Rc<dyn Fn(&mut Lua, Vec<StashedValue>) -> Result<Vec<StashedValue>, StashedError>>;

/// A host function that reads its arguments and gives its results inside the arena, with
/// [`Lua::host_args`] and [`Lua::host_return`] (no rooting of values on the way: the cheap
/// form). Returning without calling `host_return` returns no values.
pub type RawHostFunction = Rc<dyn Fn(&mut Lua) -> Result<(), StashedError>>;

/// A registered host function.
#[derive(Clone)]
pub(crate) enum HostFn {
    /// Arguments and results as rooted values.
    Stashed(HostFunction),
    /// Arguments and results read and written inside the arena.
    Raw(RawHostFunction),
}

/// The native behind every host function: it leaves the step so the host can run.
fn host_trampoline<'gc>(_call: &mut NativeCall<'gc, '_>) -> Result<Action<'gc>, vm::Error<'gc>> {
    Ok(Action::Host)
}

/// A host function with an inline stand-in (upvalue 0) for where the step cannot be left.
fn host_or_inline_trampoline<'gc>(
    call: &mut NativeCall<'gc, '_>,
) -> Result<Action<'gc>, vm::Error<'gc>> {
    if call.can_leave_step() {
        return Ok(Action::Host);
    }
    let args = crate::ValueList::from_slice(call.args());
    call.set_nargs(0);
    call.push(call.upvalue(0));
    for &a in &args {
        call.push(a);
    }
    Ok(Action::TailCall(args.len()))
}

/// A host function with an inline stand-in (upvalue 0) and an argument check (upvalue 1, a
/// native function run with this call before anything else: its error is the call's, as a
/// C function's `luaL_argerror` would be; what it returns otherwise is ignored).
fn checked_host_or_inline_trampoline<'gc>(
    call: &mut NativeCall<'gc, '_>,
) -> Result<Action<'gc>, vm::Error<'gc>> {
    if let Value::Native(check) = call.upvalue(1) {
        (check.0.func)(call)?;
    }
    host_or_inline_trampoline(call)
}

/// The id of the host's emergency collection (not a registered host function).
const EMERGENCY_COLLECTION: i64 = -2;

/// A host call that collects everything and then gives back its arguments (the results of
/// native `name`, which allocated past the memory limit), or fails with "not enough memory"
/// if usage is still past the limit: C Lua's allocator retrying after a full collection.
pub(crate) fn emergency_collection<'gc>(ctx: Context<'gc>, name: &'static str) -> Value<'gc> {
    Value::Native(crate::closure::NativeFunction::with_tag(
        ctx.mutation(),
        name,
        host_trampoline,
        EMERGENCY_COLLECTION,
        Box::new([]),
    ))
}

/// The id of the host's collection before calling a native again.
const RETRY_AFTER_COLLECTION: i64 = -3;

/// A host call that collects everything and then calls its first argument (a native that
/// `reserve` stopped) with the others: C Lua's allocator retrying after a full collection.
pub(crate) fn retry_after_collection<'gc>(ctx: Context<'gc>, name: &'static str) -> Value<'gc> {
    Value::Native(crate::closure::NativeFunction::with_tag(
        ctx.mutation(),
        name,
        host_trampoline,
        RETRY_AFTER_COLLECTION,
        Box::new([]),
    ))
}

/// A VM error rooted for the host.
fn stash_error<'gc>(ctx: Context<'gc>, e: vm::Error<'gc>) -> StashedError {
    StashedError {
        value: ctx.stash(e.value),
        kind: e.kind,
        traceback: e.traceback,
    }
}

/// How the host enters Lua: a call, or a resume of a suspended coroutine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostEntry {
    /// Call a function: on the main thread when idle, on the thread that called the host
    /// function when a host function calls (above its frames).
    Call,
    /// Resume a coroutine (C Lua's `lua_resume`): its yield ends the call.
    Resume,
}

/// The outcome of [`Lua::call_first_step`].
pub enum FirstStep<R> {
    /// The call finished; `finish` made this of its results.
    Done(R),
    /// The call raised an error.
    Failed(StashedError),
    /// The call goes on (it ran out of fuel, called a host function or yielded): finish it
    /// with [`Lua::call_rest`].
    Running(RunningCall),
}

/// Where [`Lua::call_until_long`] left a call.
pub enum CallProgress {
    /// It finished (or failed).
    Done(Result<Vec<StashedValue>, StashedError>),
    /// It runs long: finish it with [`Lua::call_rest`].
    Long(RunningCall),
}

/// A call started by [`Lua::call_first_step`] that has not finished.
pub struct RunningCall {
    thread: StashedValue,
    exit: Exit,
}

impl Lua {
    /// Makes a Lua function that calls `f` on the host. `name` is the one tracebacks give
    /// its frame, as for a library function (`"mylib.f"`), or `"?"` to name it as C Lua names
    /// a C function outside the loaded modules: as its caller named it.
    pub fn create_function(&mut self, name: &'static str, f: HostFunction) -> StashedValue {
        self.register_host_fn(name, HostFn::Stashed(f))
    }

    /// Makes a Lua function that calls `f` on the host (see [`RawHostFunction`]; `name` as
    /// for [`Lua::create_function`]).
    pub fn create_raw_function(&mut self, name: &'static str, f: RawHostFunction) -> StashedValue {
        self.register_host_fn(name, HostFn::Raw(f))
    }

    /// Inside a raw host function: reads its arguments (where they lie on the stack).
    pub fn host_args<R>(&mut self, f: impl for<'gc> FnOnce(Context<'gc>, &[Value<'gc>]) -> R) -> R {
        self.enter(|ctx| vm::with_host_call_args(ctx, |args| f(ctx, args)))
    }

    /// Inside a raw host function: gives its results, which `f` pushes (if it succeeds).
    pub fn host_return<E>(
        &mut self,
        f: impl for<'gc> FnOnce(Context<'gc>, &mut crate::ValueList<'gc>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.enter(|ctx| {
            let mut vals = crate::ValueList::new();
            f(ctx, &mut vals)?;
            vm::host_call_return(ctx, Ok(&vals));
            Ok(())
        })?;
        self.host_returned = true;
        Ok(())
    }

    /// Like [`Lua::create_raw_function`], but where the step cannot be left (a native
    /// function makes the call: a `table.sort` comparator, a `__tostring` run by `tostring`),
    /// the native function `inline` runs instead, inside the step, with the same arguments.
    pub fn create_raw_function_or_inline(
        &mut self,
        name: &'static str,
        f: RawHostFunction,
        inline: &StashedValue,
    ) -> StashedValue {
        self.register_with(name, HostFn::Raw(f), host_or_inline_trampoline, |ctx| {
            vec![ctx.fetch(inline)]
        })
    }

    /// Like [`Lua::create_raw_function_or_inline`], with the native function `check` run
    /// first on every call (on the host's side and the inline one alike): it checks the
    /// arguments where they lie, with the call's position and name for its errors
    /// ([`crate::NativeCall::arg_error`]), before the step is left. Its result is ignored
    /// unless it is an error.
    pub fn create_raw_function_or_inline_checked(
        &mut self,
        name: &'static str,
        f: RawHostFunction,
        inline: &StashedValue,
        check: NativeFn,
    ) -> StashedValue {
        let trampoline = checked_host_or_inline_trampoline;
        self.register_with(name, HostFn::Raw(f), trampoline, |ctx| {
            let check = crate::closure::NativeFunction::new(ctx.mutation(), name, check);
            vec![ctx.fetch(inline), Value::Native(check)]
        })
    }

    fn register_host_fn(&mut self, name: &'static str, f: HostFn) -> StashedValue {
        self.register_with(name, f, host_trampoline, |_| Vec::new())
    }

    /// Registers `f` and makes its Lua function: the native `trampoline` with the host
    /// function's id as its tag ([`NativeFunction::tag`]), the upvalues `more` gives.
    fn register_with(
        &mut self,
        name: &'static str,
        f: HostFn,
        trampoline: NativeFn,
        more: impl for<'gc> FnOnce(Context<'gc>) -> Vec<Value<'gc>>,
    ) -> StashedValue {
        let id = self.host_fns.len();
        self.host_fns.push(f);
        self.enter(|ctx| {
            let upvalues = more(ctx).into_boxed_slice();
            let nf = crate::closure::NativeFunction::with_tag(
                ctx.mutation(),
                name,
                trampoline,
                id as i64,
                upvalues,
            );
            ctx.stash(Value::Native(nf))
        })
    }

    /// Calls `f` with `args` and runs it to completion in steps, collecting garbage between
    /// steps, under the limits ([`Lua::limits`]: the outermost call gets the whole budget
    /// and deadline). Host functions called by Lua run between steps and may call back in.
    pub fn call(
        &mut self,
        f: &StashedValue,
        args: &[StashedValue],
    ) -> Result<Vec<StashedValue>, StashedError> {
        let limits = self.limits().clone();
        let _call = limits.call_guard();
        let thread = self.enter(|ctx| {
            let fv = ctx.fetch(f);
            let argv: Vec<Value> = args.iter().map(|a| ctx.fetch(a)).collect();
            let th = vm::start_host_call(ctx, fv, &argv);
            ctx.stash(Value::Thread(th))
        });
        let r = self.run_to_end(&thread);
        self.enter(vm::end_call);
        r
    }

    /// Starts a call and runs its first step inside one visit of the arena: `prepare` gives
    /// the function and arguments, and if the call finishes in that step, `finish` reads the
    /// results there too (no rooting of arguments or results: the cheap path for short calls
    /// from a host). Otherwise the call is handed back to be finished by [`Lua::call_rest`].
    pub fn call_first_step<E, R>(
        &mut self,
        prepare: impl for<'gc> FnOnce(Context<'gc>) -> Result<(Value<'gc>, crate::ValueList<'gc>), E>,
        finish: impl for<'gc> FnOnce(Context<'gc>, &[Value<'gc>]) -> R,
    ) -> Result<FirstStep<R>, E> {
        self.first_step(
            HostEntry::Call,
            |ctx, args| {
                let (f, a) = prepare(ctx)?;
                *args = a;
                Ok(f)
            },
            finish,
        )
    }

    /// Starts a call or a resume ([`HostEntry`]) and runs its first step, as
    /// [`Lua::call_first_step`] describes, with `prepare` giving the function and pushing the
    /// arguments (no list of them is moved around). For a resume, `prepare` gives the coroutine
    /// and the values to resume it with, and `finish` reads what it yielded or returned; a
    /// coroutine that cannot be resumed (dead, running, normal) fails with C Lua's message.
    pub fn first_step<E, R>(
        &mut self,
        entry: HostEntry,
        prepare: impl for<'gc> FnOnce(Context<'gc>, &mut crate::ValueList<'gc>) -> Result<Value<'gc>, E>,
        finish: impl for<'gc> FnOnce(Context<'gc>, &[Value<'gc>]) -> R,
    ) -> Result<FirstStep<R>, E> {
        if let Some(e) = self.pending_stop() {
            // The call this one runs inside was stopped: nothing more runs.
            return Ok(FirstStep::Failed(e));
        }
        let fuel = self.limits().step_fuel(self.fuel_per_step);
        let first = self.enter(|ctx| -> Result<FirstStep<R>, E> {
            let mut args = crate::ValueList::new();
            let f = prepare(ctx, &mut args)?;
            // A host that recursed through Lua (Lua -> host -> Lua ...) or runs on a small
            // thread stack gets an error before the native stack runs out.
            if !crate::native_stack::has_room() {
                let e = vm::Error::new(ctx.str("C stack overflow"));
                return Ok(FirstStep::Failed(stash_error(ctx, e)));
            }
            let started = match entry {
                HostEntry::Call => {
                    let th = vm::start_host_call(ctx, f, &args);
                    Ok((th, vm::step(ctx, th, fuel)))
                }
                HostEntry::Resume => match f {
                    Value::Thread(co) => vm::resume_step(ctx, co, &args, fuel).map(|x| (co, x)),
                    _ => Err(vm::Error::new(ctx.str("cannot resume non-coroutine"))),
                },
            };
            let (th, exit) = match started {
                Ok(started) => started,
                Err(e) => return Ok(FirstStep::Failed(stash_error(ctx, e))),
            };
            Ok(match exit {
                Exit::Finished | Exit::Yielded => {
                    let r =
                        vm::read_results(th, ctx, exit == Exit::Yielded, |vals| finish(ctx, vals));
                    vm::end_call(ctx);
                    FirstStep::Done(r)
                }
                Exit::Error => {
                    let e = vm::take_error(th, ctx);
                    vm::end_call(ctx);
                    FirstStep::Failed(stash_error(ctx, e))
                }
                exit => FirstStep::Running(RunningCall {
                    thread: ctx.stash(Value::Thread(th)),
                    exit,
                }),
            })
        })?;
        if !matches!(first, FirstStep::Running(_)) {
            self.after_step();
            if let Some(e) = self.stop_over(&first) {
                return Ok(FirstStep::Failed(e));
            }
        }
        Ok(first)
    }

    /// The uncatchable error of the stop the host's limits made in the running call, if
    /// they made one.
    #[inline]
    fn pending_stop(&mut self) -> Option<StashedError> {
        let reason = self.limits.stopped()?;
        Some(self.stashed_stop(reason))
    }

    #[cold]
    #[inline(never)]
    fn stashed_stop(&mut self, reason: StopReason) -> StashedError {
        self.enter(|ctx| stash_error(ctx, vm::hooks::limit_error(ctx, reason)))
    }

    /// The stop error that replaces the outcome of a first step: the limits stopped
    /// something in it that did not stop it (a finalizer run after it, say), and a stopped
    /// call ends with its stop whatever its code did meanwhile.
    #[inline]
    fn stop_over<R>(&mut self, first: &FirstStep<R>) -> Option<StashedError> {
        match first {
            FirstStep::Failed(e) if e.kind == ErrorKind::Interrupt => None,
            _ => self.pending_stop(),
        }
    }

    /// Runs a call that did not finish in its first step to the end. After every step that
    /// ran out of fuel, the host's poll ([`crate::Limits::set_poll`]) may stop it with the
    /// uncatchable error of [`StopReason::Host`].
    pub fn call_rest(&mut self, call: RunningCall) -> Result<Vec<StashedValue>, StashedError> {
        let r = self.run_from(&call.thread, Some(call.exit), false);
        self.enter(vm::end_call);
        r.unwrap_or_else(|| unreachable!("run_from only stops early when asked"))
    }

    /// Goes on with a call that did not finish in its first step, running the host functions
    /// it calls, until it finishes or a step runs out of fuel (a long computation: the host
    /// may then go on with [`Lua::call_rest`] differently, e.g. without a global lock).
    pub fn call_until_long(&mut self, call: RunningCall) -> CallProgress {
        if matches!(call.exit, Exit::Pending) {
            return CallProgress::Long(call);
        }
        match self.run_from(&call.thread, Some(call.exit), true) {
            Some(r) => {
                self.enter(vm::end_call);
                CallProgress::Done(r)
            }
            None => CallProgress::Long(RunningCall {
                thread: call.thread,
                exit: Exit::Pending,
            }),
        }
    }

    /// Steps the thread (prepared by `start_call`) until it finishes or fails.
    fn run_to_end(&mut self, thread: &StashedValue) -> Result<Vec<StashedValue>, StashedError> {
        self.run_from(thread, None, false)
            .unwrap_or_else(|| unreachable!("run_from only stops early when asked"))
    }

    /// Like `run_to_end`, after handling `first`, the outcome of a step already made. With
    /// `stop_when_long`, returns `None` (the call goes on) when a step runs out of fuel.
    fn run_from(
        &mut self,
        thread: &StashedValue,
        mut first: Option<Exit>,
        stop_when_long: bool,
    ) -> Option<Result<Vec<StashedValue>, StashedError>> {
        loop {
            let fuel = self.limits.step_fuel(self.fuel_per_step);
            let r = match first.take() {
                Some(exit) => exit,
                None => self.enter(|ctx| {
                    let Value::Thread(th) = ctx.fetch(thread) else {
                        unreachable!()
                    };
                    vm::step(ctx, th, fuel)
                }),
            };
            match r {
                Exit::Pending => {
                    self.after_step();
                    self.check_interrupt();
                    if self.limits.poll_host() {
                        self.limits.stop(StopReason::Host);
                    }
                    self.check_limits();
                    if stop_when_long {
                        return None;
                    }
                }
                Exit::Finished | Exit::Yielded => {
                    // Results, or what a coroutine the host resumed yielded.
                    let out = self.enter(|ctx| {
                        let Value::Thread(th) = ctx.fetch(thread) else {
                            unreachable!()
                        };
                        vm::read_results(th, ctx, r == Exit::Yielded, |vals| {
                            vals.iter().map(|&v| ctx.stash(v)).collect()
                        })
                    });
                    self.after_step();
                    if let Some(e) = self.pending_stop() {
                        return Some(Err(e));
                    }
                    return Some(Ok(out));
                }
                Exit::Error => {
                    let e = self.enter(|ctx| {
                        let Value::Thread(th) = ctx.fetch(thread) else {
                            unreachable!()
                        };
                        stash_error(ctx, vm::take_error(th, ctx))
                    });
                    self.after_step();
                    if e.kind != ErrorKind::Interrupt {
                        if let Some(stop) = self.pending_stop() {
                            return Some(Err(stop));
                        }
                    }
                    return Some(Err(e));
                }
                Exit::Host => {
                    self.run_host_function();
                    self.check_limits();
                }
            }
        }
    }

    /// Hooks the innermost running thread to raise "interrupted!" if
    /// [`crate::InterruptHandle::interrupt_with_error`] asked for it.
    fn check_interrupt(&mut self) {
        if self.limits.interrupt_handle_ref().take_error_request() {
            self.enter(vm::hooks::interrupt);
        }
    }

    /// Hooks the innermost running thread to stop with an uncatchable error if one of the
    /// host's limits is hit (see [`crate::limits::Limits`]).
    fn check_limits(&mut self) {
        if self.limits.check().is_some() {
            self.enter(vm::hooks::stop_for_limits);
        }
    }

    /// Runs the host function the running thread is waiting for and hands it the results.
    fn run_host_function(&mut self) {
        let id = self.enter(|ctx| match vm::host_call_request_function(ctx) {
            Value::Native(nf) => nf.tag(),
            _ => crate::closure::NO_TAG,
        });
        if id == RETRY_AFTER_COLLECTION {
            self.collect_all();
            self.enter(|ctx| {
                let (_, args) = vm::host_call_request(ctx);
                let (f, args) = args.split_first().unwrap_or((&Value::Nil, &[]));
                let r = vm::call_nested(ctx, *f, args);
                ctx.state().gc.native_retry.set(false);
                match r {
                    Ok(results) => vm::host_call_return(ctx, Ok(&results)),
                    Err(e) => vm::host_call_return(ctx, Err(e)),
                }
            });
            return;
        }
        if id == EMERGENCY_COLLECTION {
            self.collect_all();
            let over = self.memory_limit().is_some_and(|l| self.memory_used() > l);
            self.enter(|ctx| {
                if over {
                    vm::host_call_return(ctx, Err(vm::memory_error(ctx)));
                } else {
                    let (_, results) = vm::host_call_request(ctx);
                    vm::host_call_return(ctx, Ok(&results));
                }
            });
            return;
        }
        let result = match usize::try_from(id)
            .ok()
            .and_then(|i| self.host_fns.get(i))
            .cloned()
        {
            Some(HostFn::Stashed(f)) => {
                let args = self.enter(|ctx| {
                    let (_, args) = vm::host_call_request(ctx);
                    args.into_iter().map(|v| ctx.stash(v)).collect::<Vec<_>>()
                });
                f(self, args)
            }
            Some(HostFn::Raw(f)) => {
                let outer = std::mem::replace(&mut self.host_returned, false);
                let r = f(self);
                let returned = std::mem::replace(&mut self.host_returned, outer);
                match r {
                    Ok(()) if returned => return,
                    Ok(()) => Ok(Vec::new()),
                    Err(e) => Err(e),
                }
            }
            None => Err(self.enter(|ctx| StashedError {
                value: ctx.stash(ctx.str("invalid host function")),
                kind: ErrorKind::Runtime,
                traceback: None,
            })),
        };
        self.enter(|ctx| match result {
            Ok(vals) => {
                let v: Vec<Value> = vals.iter().map(|s| ctx.fetch(s)).collect();
                vm::host_call_return(ctx, Ok(&v));
            }
            Err(e) => {
                let err = vm::Error {
                    value: ctx.fetch(&e.value),
                    kind: e.kind,
                    traceback: None,
                    raised_by: None,
                    handled_at: None,
                };
                vm::host_call_return(ctx, Err(err));
            }
        });
    }

    /// Compiles and runs a chunk; returns its results.
    pub fn exec(
        &mut self,
        source: &[u8],
        chunk_name: &[u8],
    ) -> Result<Vec<StashedValue>, StashedError> {
        let f = self.enter(|ctx| match ctx.load(source, chunk_name, None) {
            Ok(c) => Ok(ctx.stash(Value::Closure(c))),
            Err(e) => Err(StashedError {
                value: ctx.stash(Value::String(ctx.intern(&e.message))),
                kind: ErrorKind::Runtime,
                traceback: None,
            }),
        })?;
        self.call(&f, &[])
    }
}
