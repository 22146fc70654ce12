//! Calls, returns, protected calls, error unwinding and coroutine switches.

use smallvec::SmallVec;

use crate::closure::{Closure, UpvalueState};
use crate::runtime::Context;
use crate::thread::{
    ConcatResume, Frame, PendingCall, PendingKind, Resumption, ReturnTo, Thread, ThreadState,
    ThreadStatus,
};
use crate::value::Value;

use super::meta::{tm_of, Metamethod};
use super::{Error, ErrorKind};
use crate::native_call::{Action, NativeCall};

pub use crate::thread::{MAX_FRAMES, MAX_STACK};
/// Extra slots a message handler of a stack overflow may use (C Lua's `ERRORSTACKSIZE`).
const ERROR_STACK_ROOM: usize = 200;
/// C Lua's `LUAI_MAXCCALLS`: a call that brings the C-call count (see `Frame::cdepth`) to
/// this raises "C stack overflow".
pub const C_CALLS_MAX: u32 = 200;
/// Past the overflow, error handling may go on up to this count (`LUAI_MAXCCALLS / 10 * 11`),
/// then "error in error handling".
pub const C_CALLS_HARD_MAX: u32 = C_CALLS_MAX / 10 * 11;
/// Largest number of nested native->Lua calls on the Rust stack: a guard, above
/// [`C_CALLS_HARD_MAX`] so that the C-call count decides first.
pub const MAX_NESTED: u32 = C_CALLS_HARD_MAX + 8;

/// Checks a call that runs at C-call count `n` (`luaE_checkcstack`): "C stack overflow" at
/// [`C_CALLS_MAX`], "error in error handling" from [`C_CALLS_HARD_MAX`]. `where_` is the
/// position to prepend (a metamethod called from Lua code has one; a call made by a native
/// function has none).
#[inline]
pub(crate) fn check_c_calls<'gc>(
    ctx: Context<'gc>,
    n: u32,
    where_: impl FnOnce() -> Vec<u8>,
) -> Result<(), Error<'gc>> {
    if n < C_CALLS_MAX {
        return Ok(());
    }
    c_calls_error(ctx, n, where_())
}

#[cold]
fn c_calls_error<'gc>(ctx: Context<'gc>, n: u32, mut m: Vec<u8>) -> Result<(), Error<'gc>> {
    if n == C_CALLS_MAX {
        m.extend_from_slice(b"C stack overflow");
        return Err(Error::new(Value::String(ctx.intern(&m))));
    }
    if n >= C_CALLS_HARD_MAX {
        return Err(error_in_error_handling(ctx));
    }
    Ok(())
}

/// "error in error handling" (LUA_ERRERR).
#[cold]
pub(crate) fn error_in_error_handling<'gc>(ctx: Context<'gc>) -> Error<'gc> {
    let mut e = error_msg(ctx, b"error in error handling");
    e.kind = ErrorKind::ErrorHandling;
    e
}

/// Why a step of the VM ended (host-facing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The called function returned.
    Finished,
    /// Out of fuel: step again.
    Pending,
    /// The thread yielded to the host.
    Yielded,
    /// An error escaped.
    Error,
    /// A host function was called.
    Host,
}

/// Why `execute` returned to the driver.
pub(crate) enum Inner<'gc> {
    /// The thread's outermost frame returned; results are `stack[0..top]`.
    Returned,
    /// A nested call's boundary frame returned; results are `stack[func..top]`.
    BoundaryReturn,
    /// `coroutine.yield`: values are above the pending call's slot.
    Yield,
    /// `coroutine.resume`/wrap of this coroutine.
    Resume(Thread<'gc>),
    /// An error escaped this thread.
    Error(Error<'gc>),
    /// Out of fuel.
    OutOfFuel,
    /// A host function was called.
    Host,
    /// The thread's hook was set or removed (internal to `execute`).
    HookChanged,
}

/// What a call did.
pub(crate) enum Flow<'gc> {
    /// The call completed (a native function) or a Lua frame was pushed: reload the top frame.
    Reload,
    /// The driver must take over.
    Exit(Inner<'gc>),
}

/// A raised error, as a Lua string value with the message.
#[cold]
pub(crate) fn error_msg<'gc>(ctx: Context<'gc>, msg: &[u8]) -> Error<'gc> {
    Error::new(Value::String(ctx.intern(msg)))
}

/// Starts a call of `stack[func]` with `nargs` arguments above it (C Lua's `luaD_precall`):
/// a Lua function gets a frame ([`precall_lua`]), a native function runs here and may ask
/// for another call, which starts here in turn; anything else is called through its
/// `__call` metamethod ([`call_metamethod`]).
pub(crate) fn precall<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    mut func: usize,
    mut nargs: usize,
    mut nresults: i32,
    mut ret: ReturnTo,
) -> Result<Flow<'gc>, Error<'gc>> {
    loop {
        match st.stack[func] {
            Value::Closure(c) => return precall_lua(ctx, st, c, func, nargs, nresults, ret),
            Value::Native(f) => {
                st.stack.truncate(func + 1 + nargs);
                if st.hook.wants(super::hooks::MASK_CALL) {
                    let t = (1, nargs);
                    super::hooks::native_event(ctx, thread, st, f.name(), func, "call", t)?;
                    st.stack.truncate(func + 1 + nargs);
                }
                thread.publish_stack(st);
                let action = {
                    let mut call = NativeCall {
                        ctx,
                        thread,
                        st,
                        base: func + 1,
                        func: f,
                    };
                    match (f.0.func)(&mut call) {
                        // A library function that allocated past the memory limit: C Lua's
                        // allocator would collect everything and try again, so the host
                        // does (its results wait), unless a nested call cannot leave the
                        // step; then (or if that does not help) it fails with "not enough
                        // memory", as the allocation would.
                        Ok(Action::Return(n)) if ctx.state().memory.exceeded() => {
                            if ctx.state().chain.nested() > 0 {
                                ctx.request_gc();
                                return Err(memory_error(ctx));
                            }
                            retry_after_collection(ctx, st, f, func, n);
                            st.pending = Some(PendingCall {
                                func,
                                nresults,
                                kind: PendingKind::Host,
                                ret,
                            });
                            return Ok(Flow::Exit(Inner::Host));
                        }
                        Ok(_) if ctx.state().memory.exceeded() => {
                            ctx.request_gc();
                            return Err(memory_error(ctx));
                        }
                        Ok(a) => a,
                        // `reserve` refused a big allocation before the function did
                        // anything: the host collects everything and calls it again.
                        Err(e)
                            if e.kind == ErrorKind::Memory
                                && ctx.state().gc.native_retry.replace(false)
                                && ctx.state().chain.nested() == 0 =>
                        {
                            call_again_after_collection(ctx, st, f, func);
                            st.pending = Some(PendingCall {
                                func,
                                nresults,
                                kind: PendingKind::Host,
                                ret,
                            });
                            return Ok(Flow::Exit(Inner::Host));
                        }
                        Err(mut e) => {
                            if e.raised_by.is_none() && e.traceback.is_none() {
                                e.raised_by = Some(f.name());
                            }
                            return Err(e);
                        }
                    }
                };
                match action {
                    Action::Return(n) => {
                        if st.hook.active() {
                            if st.hook.wants(super::hooks::MASK_RETURN) {
                                let t = (st.stack.len() - n - func, n);
                                let name = f.name();
                                super::hooks::native_event(
                                    ctx, thread, st, name, func, "return", t,
                                )?;
                            }
                            super::hooks::returned_to_caller(st);
                        }
                        let src = st.stack.len() - n;
                        complete_call(st, func, src, n, nresults, ret);
                        return Ok(Flow::Reload);
                    }
                    Action::TailCall(n) => {
                        let src = st.stack.len() - n - 1;
                        st.stack.copy_within(src.., func);
                        st.stack.truncate(func + n + 1);
                        nargs = n;
                    }
                    Action::Call { args: n, results } => {
                        // The callee goes above this function's slot, where its frame stays.
                        let src = st.stack.len() - n - 1;
                        st.stack.copy_within(src.., func + 1);
                        st.stack.truncate(func + n + 2);
                        let parent = st.frames.last().map_or(0, |f| f.cdepth);
                        let cdepth = parent + 1 + u16::from(ret != ReturnTo::Caller);
                        st.frames.push(Frame {
                            closure: None,
                            func,
                            base: func + 1,
                            pc: 0,
                            nresults,
                            nextra: 0,
                            ret,
                            handler: None,
                            protected: false,
                            tail: false,
                            calling: true,
                            native: Some(f.name()),
                            cdepth,
                        });
                        check_c_calls(ctx, st.cbase + cdepth as u32, Vec::new)?;
                        func += 1;
                        nargs = n;
                        nresults = results;
                        ret = ReturnTo::Caller;
                    }
                    Action::ProtectedCall(handler) | Action::HostProtectedCall(handler) => {
                        let host = matches!(action, Action::HostProtectedCall(_));
                        if st.stack.len() <= func + 1 {
                            let m = format!("bad argument #1 to '{}' (value expected)", f.name());
                            return Err(error_msg(ctx, m.as_bytes()));
                        }
                        // `lua_pcall` counts one C call, two when pcall itself runs as a
                        // metamethod. The check comes after the marker is pushed: the
                        // overflow is raised inside the protected call, which catches it.
                        let parent = st.frames.last().map_or(0, |f| f.cdepth);
                        let cdepth = parent + 1 + u16::from(ret != ReturnTo::Caller);
                        // The called function sits where C Lua's `luaB_pcall` puts it, above
                        // the `true` it pushes (xpcall: above the handler, `true` and a copy
                        // of the function), so stack limits are reached at the same depth.
                        let pad = if handler.is_some() { 3 } else { 1 };
                        for _ in 0..pad {
                            st.stack.insert(func + 1, Value::Boolean(true));
                        }
                        st.frames.push(Frame {
                            closure: None,
                            func,
                            base: func + 1,
                            pc: 0,
                            nresults,
                            // For a protected-call marker: the slots below the function.
                            nextra: pad,
                            ret,
                            handler,
                            protected: true,
                            tail: false,
                            calling: false,
                            // The native that asked (`pcall`); a host's entry is a C
                            // function without a name (lua.c's pmain).
                            native: Some(if host { "?" } else { f.name() }),
                            cdepth,
                        });
                        check_c_calls(ctx, st.cbase + cdepth as u32, Vec::new)?;
                        func += 1 + pad;
                        nargs = st.stack.len() - func - 1;
                        nresults = -1;
                        ret = ReturnTo::Caller;
                    }
                    Action::Resume { thread: co, wrap } => {
                        let kind = if wrap {
                            PendingKind::Wrap
                        } else {
                            PendingKind::Resume
                        };
                        st.pending = Some(PendingCall {
                            func,
                            nresults,
                            kind,
                            ret,
                        });
                        return Ok(Flow::Exit(Inner::Resume(co)));
                    }
                    Action::Yield => {
                        st.pending = Some(PendingCall {
                            func,
                            nresults,
                            kind: PendingKind::Yield,
                            ret,
                        });
                        return Ok(Flow::Exit(Inner::Yield));
                    }
                    Action::Host => {
                        st.pending = Some(PendingCall {
                            func,
                            nresults,
                            kind: PendingKind::Host,
                            ret,
                        });
                        return Ok(Flow::Exit(Inner::Host));
                    }
                }
            }
            other => nargs = call_metamethod(ctx, st, other, func, nargs)?,
        }
    }
}

/// Pushes the frame of Lua function `c` called at `func` with `nargs` arguments, after
/// checking the stack and C-call limits.
#[inline(always)]
fn precall_lua<'gc>(
    ctx: Context<'gc>,
    st: &mut ThreadState<'gc>,
    c: Closure<'gc>,
    func: usize,
    nargs: usize,
    nresults: i32,
    ret: ReturnTo,
) -> Result<Flow<'gc>, Error<'gc>> {
    let p = c.proto();
    let base = func + 1;
    let needed = base + p.max_stack + if p.is_vararg { nargs + 1 } else { 0 };
    // A message handler gets some extra room (C Lua's `ERRORSTACKSIZE`).
    let extra = if st.in_handler > 0 {
        ERROR_STACK_ROOM
    } else {
        0
    };
    let frame = p.max_stack + usize::from(p.is_vararg);
    if st.call_overflows(func, nargs, frame, extra) || st.frames.len() >= st.frame_cap.0 + extra {
        if extra > 0 {
            // Overflowing the room of a handler of a stack overflow (C Lua's
            // LUA_ERRERR from `luaD_growstack`).
            return Err(error_msg(ctx, b"error in error handling"));
        }
        return Err(stack_overflow(ctx, st));
    }
    let parent = st.frames.last().map_or(0, |f| f.cdepth);
    let cdepth = if ret == ReturnTo::Caller {
        parent
    } else {
        // A metamethod or a call made by a native function: C Lua's `luaD_call`.
        let n = st.cbase + parent as u32 + 1;
        check_c_calls(ctx, n, || {
            if ret == ReturnTo::Boundary {
                Vec::new()
            } else {
                super::debug::run_where(st)
            }
        })?;
        parent + 1
    };
    st.ensure_stack(needed);
    for i in nargs..p.num_params {
        st.stack[base + i] = Value::Nil;
    }
    st.top = base + nargs;
    st.frames.push(Frame {
        closure: Some(c),
        func,
        base,
        pc: 0,
        nresults,
        nextra: 0,
        ret,
        handler: None,
        protected: false,
        tail: false,
        calling: false,
        native: None,
        cdepth,
    });
    st.hook.entered_lua();
    Ok(Flow::Reload)
}

/// Calls `other` (not a function) through its `__call` metamethod (C Lua's `tryfuncTM`):
/// the metamethod goes below the arguments, `other` becomes the first; the new count of
/// arguments.
fn call_metamethod<'gc>(
    ctx: Context<'gc>,
    st: &mut ThreadState<'gc>,
    other: Value<'gc>,
    func: usize,
    mut nargs: usize,
) -> Result<usize, Error<'gc>> {
    let mm = tm_of(ctx, other, Metamethod::Call);
    if mm.is_nil() {
        return Err(call_error(ctx, st, other, func));
    }
    st.ensure_stack(func + nargs + 2);
    st.stack.copy_within(func..func + nargs + 1, func + 1);
    st.stack[func] = mm;
    nargs += 1;
    if st.stack.len() > func + nargs + 1 && st.frames.last().is_none_or(|f| f.closure.is_none()) {
        st.stack.truncate(func + nargs + 1);
    }
    Ok(nargs)
}

/// The error, if a vararg expression's values would bring the stack to `top`, past the limit:
/// "stack overflow", or in a message handler (C Lua's `ERRORSTACKSIZE` of extra room) past
/// that room "error in error handling".
#[inline]
pub(super) fn vararg_overflow<'gc>(
    ctx: Context<'gc>,
    st: &ThreadState<'gc>,
    top: usize,
) -> Option<Error<'gc>> {
    if st.slot_base + top <= MAX_STACK {
        return None;
    }
    vararg_overflow_error(ctx, st, top)
}

#[cold]
fn vararg_overflow_error<'gc>(
    ctx: Context<'gc>,
    st: &ThreadState<'gc>,
    top: usize,
) -> Option<Error<'gc>> {
    if st.in_handler == 0 {
        return Some(stack_overflow(ctx, st));
    }
    (st.slot_base + top > MAX_STACK + ERROR_STACK_ROOM)
        .then(|| error_msg(ctx, b"error in error handling"))
}

#[cold]
fn stack_overflow<'gc>(ctx: Context<'gc>, st: &ThreadState<'gc>) -> Error<'gc> {
    let mut m = super::debug::run_where(st);
    m.extend_from_slice(b"stack overflow");
    Error::new(Value::String(ctx.intern(&m)))
}

#[cold]
fn call_error<'gc>(
    ctx: Context<'gc>,
    st: &ThreadState<'gc>,
    v: Value<'gc>,
    func: usize,
) -> Error<'gc> {
    super::debug::typed_error(ctx, st, "call", v, Some(func))
}

/// A call that started at `func` produced `n` results at `src`: place them as the caller
/// wants, and finish the protected-call frames that were waiting for it.
pub(crate) fn complete_call<'gc>(
    st: &mut ThreadState<'gc>,
    mut func: usize,
    mut src: usize,
    mut n: usize,
    mut nresults: i32,
    mut ret: ReturnTo,
) {
    loop {
        match ret {
            ReturnTo::Caller | ReturnTo::Boundary => {
                // Only the results the caller keeps are moved (`moveresults`).
                let keep = if nresults < 0 {
                    n
                } else {
                    n.min(nresults as usize)
                };
                if src != func {
                    st.stack.copy_within(src..src + keep, func);
                }
                if nresults < 0 {
                    st.top = func + n;
                    st.ensure_stack(func + n);
                } else {
                    let want = nresults as usize;
                    st.ensure_stack(func + want);
                    for i in n..want {
                        st.stack[func + i] = Value::Nil;
                    }
                    st.top = func + want;
                }
            }
            ReturnTo::Store(idx) => {
                let v = if n > 0 { st.stack[src] } else { Value::Nil };
                st.stack[idx] = v;
            }
            ReturnTo::Compare | ReturnTo::CompareNot => {
                let res = (n > 0 && st.stack[src].is_truthy()) != (ret == ReturnTo::CompareNot);
                if let Some(f) = st.frames.last_mut() {
                    if let Some(c) = f.closure {
                        let k = c.proto().code[f.pc - 1].k();
                        if res != k {
                            f.pc += 1;
                        }
                    }
                }
            }
            ReturnTo::Concat { first, top } => {
                let (first, top) = (first as usize, top as usize);
                st.stack[top - 2] = if n > 0 { st.stack[src] } else { Value::Nil };
                let left = top - 1 - first;
                if left > 1 {
                    let frames = st.frames.len();
                    st.resume_at_reload(Resumption::Concat(ConcatResume {
                        frames,
                        first,
                        n: left,
                    }));
                }
            }
            ReturnTo::Discard => {}
            ReturnTo::Unwind => st.resume_at_reload(Resumption::Unwind),
            ReturnTo::Reclose { top } => {
                st.top = top as usize;
                if let Some(f) = st.frames.last_mut() {
                    f.pc -= 1;
                }
            }
        }
        if ret == ReturnTo::Caller {
            if let Some(m) = st.frames.last() {
                if m.calling && m.func + 1 == func {
                    // A native's call (Action::Call) returned: its results are the native's.
                    let m = st.frames.pop().unwrap();
                    n = st.top - func;
                    src = func;
                    func = m.func;
                    nresults = m.nresults;
                    ret = m.ret;
                    continue;
                }
                if m.protected && m.func + 1 + m.nextra == func {
                    let m = st.frames.pop().unwrap();
                    let count = st.top - func;
                    st.stack[func - 1] = Value::Boolean(true);
                    src = func - 1;
                    func = m.func;
                    n = count + 1;
                    nresults = m.nresults;
                    ret = m.ret;
                    continue;
                }
            }
        }
        break;
    }
    if let Some(f) = st.frames.last() {
        if let Some(c) = f.closure {
            let need = f.base + c.proto().max_stack;
            st.ensure_stack(need);
        }
    }
}

/// Unwinds to the innermost protected frame at or above `floor` and delivers `false, err`
/// to it. Returns the error if nothing catches it (frames are left for a traceback). No
/// frame below the innermost call from the host catches it either: that call's error goes
/// back to the host.
pub(crate) fn throw<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    mut err: Error<'gc>,
    floor: usize,
) -> Result<(), Error<'gc>> {
    if !err.is_catchable() {
        return Err(err);
    }
    // Once the host's limits stopped the call, no error is caught any more (one a Python
    // callback raised after catching the stop, say): the stop goes on.
    if let Some(stop) = pending_stop(ctx) {
        return Err(stop);
    }
    let floor = floor.max(st.host_floor());
    let Some(mi) = st.frames[floor.min(st.frames.len())..]
        .iter()
        .rposition(|f| f.protected)
    else {
        return Err(err);
    };
    let mi = mi + floor;
    let marker = st.frames[mi];
    if let Some(h) = marker.handler {
        if err.handled_at != Some(mi) {
            err = run_handler(ctx, thread, st, h, err);
            // The handler was stopped by the host's limits: nothing catches that.
            if !err.is_catchable() {
                return Err(err);
            }
        }
    }
    st.frames.truncate(mi + 1);
    // An error raised by a `__close` of this unwinding replaces the error being delivered.
    while st.unwinding.last().is_some_and(|&(m, _)| m >= mi) {
        st.unwinding.pop();
    }
    unwind(ctx, thread, st, err)
}

/// Closes the next pending to-be-closed variable of the protected call on top of the frames
/// (its `__close` runs as a frame: it may yield; the unwinding goes on when it returns), or,
/// when none is left, completes the protected call with `false, err` (C Lua's
/// `luaD_closeprotected` and `finishpcallk`).
pub(crate) fn unwind<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    mut err: Error<'gc>,
) -> Result<(), Error<'gc>> {
    let mi = st.frames.len() - 1;
    let marker = st.frames[mi];
    let level = marker.func + 1;
    while let Some(idx) = st.tbc.last().copied().filter(|&t| t >= level) {
        st.tbc.pop();
        // A slot past the top (a malformed binary chunk can mark a register its calls then
        // overwrite) holds nil.
        let v = st.stack.get(idx).copied().unwrap_or_default();
        // A metamethod removed since the variable was declared fails as a call of nil.
        let mm = tm_of(ctx, v, Metamethod::Close);
        st.close_upvalues(ctx.mutation(), idx);
        let e = err.value;
        st.unwinding.push((mi, err));
        let at = idx + 1;
        match super::ops::call_meta_at(ctx, thread, st, at, mm, &[v, e], ReturnTo::Unwind) {
            Ok(()) => return Ok(()),
            Err(mut e) => {
                st.unwinding.pop();
                if !e.is_catchable() {
                    return Err(e);
                }
                if let Some(h) = marker.handler {
                    e = run_handler(ctx, thread, st, h, e);
                    if !e.is_catchable() {
                        return Err(e);
                    }
                }
                err = e;
            }
        }
    }
    st.close_upvalues(ctx.mutation(), level);
    st.frames.pop();
    st.ensure_stack(marker.func + 2);
    st.stack[marker.func] = Value::Boolean(false);
    st.stack[marker.func + 1] = err.value;
    complete_call(st, marker.func, marker.func, 2, marker.nresults, marker.ret);
    Ok(())
}

/// Goes on with the unwinding whose `__close` just returned (see `unwind`).
pub(crate) fn resume_unwind<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
) -> Result<(), Error<'gc>> {
    match st.unwinding.pop() {
        Some((mi, err)) if mi + 1 == st.frames.len() => unwind(ctx, thread, st, err),
        _ => Ok(()), // its protected call is gone (the thread was closed)
    }
}

/// Runs the message handler of the `xpcall` that will catch `err` (if any) while the stack
/// where the error was raised is still intact, as C Lua's `luaG_errormsg` does; an error
/// leaving a nested call gets this before its frames are dropped.
pub(crate) fn pre_handle<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    err: &mut Error<'gc>,
) {
    if !err.is_catchable() || st.in_handler > 0 {
        return;
    }
    let floor = st.host_floor();
    let Some(mi) = st.frames[floor.min(st.frames.len())..]
        .iter()
        .rposition(|f| f.protected)
        .map(|i| i + floor)
    else {
        return;
    };
    if err.handled_at == Some(mi) {
        return;
    }
    if let Some(h) = st.frames[mi].handler {
        *err = run_handler(ctx, thread, st, h, err.clone());
        err.handled_at = Some(mi);
    }
}

/// Calls an `xpcall` message handler on an error (at the point of the error). An error in
/// the handler is handled by the handler again; when that keeps failing (C Lua runs out of C
/// stack), the result is "error in error handling".
fn run_handler<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    h: Value<'gc>,
    err: Error<'gc>,
) -> Error<'gc> {
    let depth = st.frames.len();
    if let Some(name) = err.raised_by {
        // The native function that raised the error is still "running" for the handler.
        let top = st.stack.len();
        push_native_frame(st, name, top);
    }
    st.in_handler += 1;
    let r = run_handler_loop(ctx, thread, st, h, err);
    st.in_handler -= 1;
    st.frames.truncate(depth);
    r
}

/// Hands the results of native `f` (the top `n` values, `f` at slot `func`) to the host's
/// emergency collection, a host call standing for `f` (see `crate::host`).
fn retry_after_collection<'gc>(
    ctx: Context<'gc>,
    st: &mut ThreadState<'gc>,
    f: crate::NativeFunction<'gc>,
    func: usize,
    n: usize,
) {
    let results: crate::ValueList<'gc> = st.stack[st.stack.len() - n..].iter().copied().collect();
    st.stack.truncate(func);
    st.stack
        .push(crate::host::emergency_collection(ctx, f.name()));
    st.stack.extend_from_slice(&results);
}

/// Makes the call of native `f` (at slot `func`, its arguments above) a host call that
/// collects everything and then calls `f` again (see `crate::host`).
fn call_again_after_collection<'gc>(
    ctx: Context<'gc>,
    st: &mut ThreadState<'gc>,
    f: crate::NativeFunction<'gc>,
    func: usize,
) {
    st.stack[func] = crate::host::retry_after_collection(ctx, f.name());
    st.stack.insert(func + 1, Value::Native(f));
}

/// A stand-in frame for a native function (seen by tracebacks and `debug.getinfo`).
/// `func` is the slot of the function value (or the stack top when it is gone); its locals
/// are the slots above it (arguments, then what it pushed).
pub(crate) fn push_native_frame(st: &mut ThreadState<'_>, name: &'static str, func: usize) {
    let top = st.stack.len();
    st.frames.push(Frame {
        closure: None,
        func,
        base: (func + 1).min(top),
        pc: 0,
        nresults: 0,
        nextra: 0,
        ret: ReturnTo::Discard,
        handler: None,
        protected: false,
        tail: false,
        calling: false,
        native: Some(name),
        cdepth: st.frames.last().map_or(0, |f| f.cdepth),
    });
}

fn run_handler_loop<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    h: Value<'gc>,
    err: Error<'gc>,
) -> Error<'gc> {
    // In C Lua an error in the handler calls the handler again from inside it, one C call
    // deeper each time, until the C-call count ends it ("C stack overflow", then "error in
    // error handling"). The calls here are in turn, at the depths C Lua's would have.
    let mut err = err;
    let saved = st.cbase;
    let r = loop {
        // A stopped call runs no handler (nor again one that was stopped).
        if let Some(stop) = pending_stop(ctx) {
            break stop;
        }
        match nested_call(ctx, thread, st, h, &[err.value]) {
            Ok(r) => {
                break Error {
                    value: r.first().copied().unwrap_or_default(),
                    ..err
                }
            }
            Err(e) if !e.is_catchable() || e.kind == ErrorKind::ErrorHandling => break e,
            Err(e) => err = e,
        }
        st.cbase += 1;
    };
    st.cbase = saved;
    r
}

/// Calls the `__close` metamethods of pending to-be-closed variables at `level` and above,
/// innermost first. `err` is passed as the second argument; an error in a handler replaces it.
pub(crate) fn close_tbc<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    level: usize,
    mut err: Option<Error<'gc>>,
) -> Result<(), Error<'gc>> {
    let mut failed = false;
    while let Some(&idx) = st.tbc.last() {
        if idx < level {
            break;
        }
        st.tbc.pop();
        // A slot past the top (a malformed binary chunk can mark a register its calls then
        // overwrite) holds nil.
        let v = st.stack.get(idx).copied().unwrap_or_default();
        // A metamethod removed since the variable was declared fails as a call of nil.
        let mm = tm_of(ctx, v, Metamethod::Close);
        let e = err.as_ref().map(|e| e.value).unwrap_or_default();
        st.close_upvalues(ctx.mutation(), idx);
        // A stopped call runs no more `__close` (the variables are closed as by an
        // uncatchable error: not at all).
        if let Some(stop) = pending_stop(ctx) {
            err = Some(stop);
            failed = true;
            continue;
        }
        if let Err(e2) = nested_call(ctx, thread, st, mm, &[v, e]) {
            err = Some(e2);
            failed = true;
        }
    }
    match err {
        Some(e) if failed => Err(e),
        _ => Ok(()),
    }
}

/// The uncatchable error of the stop the host's limits made in the running call, if they
/// made one: checked where code would run or an error be caught after a stop (handlers,
/// `__close`, finalizers, `throw`), not on the paths of every call.
#[inline]
pub(crate) fn pending_stop<'gc>(ctx: Context<'gc>) -> Option<Error<'gc>> {
    ctx.state()
        .limits
        .stopped()
        .map(|reason| stop_error(ctx, reason))
}

#[cold]
#[inline(never)]
fn stop_error(ctx: Context<'_>, reason: crate::limits::StopReason) -> Error<'_> {
    super::hooks::limit_error(ctx, reason)
}

/// A nested call from a native function: runs `f(args)` to completion on this thread.
pub(crate) fn nested_call<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    f: Value<'gc>,
    args: &[Value<'gc>],
) -> Result<Vec<Value<'gc>>, Error<'gc>> {
    nested_call_traced(ctx, thread, st, f, args, false)
}

/// [`nested_call`]; with `traced`, an error that escapes it gets the traceback of where it
/// was raised (the frames of this thread then, as a message handler would see them).
pub(crate) fn nested_call_traced<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    f: Value<'gc>,
    args: &[Value<'gc>],
    traced: bool,
) -> Result<Vec<Value<'gc>>, Error<'gc>> {
    let nested = ctx.state().chain.nested();
    if nested >= MAX_NESTED {
        return Err(error_msg(ctx, b"C stack overflow"));
    }
    if !crate::native_stack::has_room() {
        // As the C-call count would: past its limit (a message handler called again for
        // its own error), "error in error handling".
        if st.c_calls() >= C_CALLS_MAX {
            return Err(error_in_error_handling(ctx));
        }
        return Err(error_msg(ctx, b"C stack overflow"));
    }
    if !matches!(f, Value::Closure(_)) {
        // `lua_call` counts a C call whatever it calls (a Lua function is counted when
        // its frame is pushed).
        check_c_calls(ctx, st.c_calls() + 1, Vec::new)?;
    }
    ctx.state().chain.set_nested(nested + 1);
    thread.0.nny.set(thread.0.nny.get() + 1);
    let floor = st.frames.len();
    let func = st.stack.len();
    let saved_top = st.top;
    let saved_slot = std::mem::replace(&mut st.native_call_slot, func);
    st.stack.push(f);
    st.stack.extend_from_slice(args);
    thread.publish_stack(st);
    let r = match precall(ctx, thread, st, func, args.len(), -1, ReturnTo::Boundary) {
        Ok(Flow::Reload) => Ok(()),
        Ok(Flow::Exit(inner)) => Err(inner),
        // Raised where a protected call the callee started may catch it (`pcall` of a
        // value that cannot be called).
        Err(e) => throw(ctx, thread, st, e, floor).map_err(Inner::Error),
    };
    let r = match r {
        Ok(()) if st.frames.len() == floor => Ok(()),
        Ok(()) => super::driver::drive_nested(ctx, thread, st, floor),
        Err(Inner::Error(e)) => Err(e),
        Err(inner) => super::driver::finish_exit_nested(ctx, thread, st, floor, inner),
    };
    ctx.state().chain.set_nested(nested);
    thread.0.nny.set(thread.0.nny.get() - 1);
    let out = match r {
        Ok(()) => Ok(st.stack[func..st.top].to_vec()),
        Err(mut e) => {
            pre_handle(ctx, thread, st, &mut e);
            if traced && e.traceback.is_none() {
                e.traceback = Some(super::debug::error_traceback(ctx, st, e.raised_by));
            }
            if st.frames.len() > floor {
                if let Err(e2) = close_tbc(ctx, thread, st, func, Some(e.clone())) {
                    e = e2;
                }
                st.close_upvalues(ctx.mutation(), func);
                st.frames.truncate(floor);
            }
            Err(e)
        }
    };
    st.stack.truncate(func);
    st.top = saved_top;
    st.native_call_slot = saved_slot;
    out
}

/// Moves the arguments of a resume into coroutine `co` and prepares it to run.
pub(crate) fn transfer_to_coroutine<'gc>(
    ctx: Context<'gc>,
    co: Thread<'gc>,
    co_st: &mut ThreadState<'gc>,
    args: &[Value<'gc>],
) -> Result<Flow<'gc>, Error<'gc>> {
    if co_st.frames.is_empty() && co_st.pending.is_none() {
        // First resume: the function is at stack[0].
        co_st.stack.truncate(1);
        co_st.stack.extend_from_slice(args);
        match precall(ctx, co, co_st, 0, args.len(), -1, ReturnTo::Caller) {
            // A protected call the function started may catch its error (`pcall` of a
            // value that cannot be called).
            Err(e) => throw(ctx, co, co_st, e, 0).map(|()| Flow::Reload),
            r => r,
        }
    } else {
        let yielded = co_st.pending.is_some_and(|p| p.kind == PendingKind::Yield);
        if yielded && co_st.hook.active() {
            // The yield returns now (its call event fired when it was called).
            if co_st.hook.wants(super::hooks::MASK_RETURN) {
                let func = co_st.pending.map_or(0, |p| p.func);
                super::hooks::native_event(ctx, co, co_st, "yield", func, "return", (0, 0))?;
            }
            super::hooks::returned_to_caller(co_st);
        }
        finish_pending(co_st, args);
        Ok(Flow::Reload)
    }
}

/// Completes this thread's pending native call (yield, resume, host) with `values`.
pub(crate) fn finish_pending<'gc>(st: &mut ThreadState<'gc>, values: &[Value<'gc>]) {
    if let Some(p) = st.pending.take() {
        st.stack.truncate(p.func + 1);
        st.stack.extend_from_slice(values);
        let n = values.len();
        complete_call(st, p.func, p.func + 1, n, p.nresults, p.ret);
    }
}

/// Reads the values a coroutine passes back (its results or yielded values).
pub(crate) fn outgoing_values<'gc>(
    st: &ThreadState<'gc>,
    returned: bool,
) -> SmallVec<[Value<'gc>; 8]> {
    if returned {
        SmallVec::from_slice(&st.stack[..st.top])
    } else {
        let p = st.pending.expect("yield pending");
        SmallVec::from_slice(&st.stack[p.func + 1..])
    }
}

/// Marks a thread's open upvalues closed and drops its frames (after an error killed it).
pub(crate) fn kill_thread<'gc>(ctx: Context<'gc>, co: Thread<'gc>, st: &mut ThreadState<'gc>) {
    st.close_upvalues(ctx.mutation(), 0);
    st.frames.clear();
    st.tbc.clear();
    st.unwinding.clear();
    st.resumption = Resumption::Run;
    st.pending = None;
    co.set_status(ThreadStatus::Dead);
    // No longer counted against the host's limit on live coroutines.
    drop(co.0.live.take());
}

/// Reads an upvalue's current value; `cur` is the running thread and its state.
#[inline]
pub(crate) fn upvalue_get<'gc>(
    uv: UpvalueState<'gc>,
    cur: Thread<'gc>,
    stack: &[Value<'gc>],
) -> Value<'gc> {
    match uv {
        UpvalueState::Closed(v) => v,
        UpvalueState::Open { thread, index } => {
            if thread.ptr_eq(cur) {
                // A slot past the top (a malformed binary chunk can capture a register its
                // calls then overwrite) reads as nil, as it does from another thread.
                stack.get(index).copied().unwrap_or_default()
            } else {
                thread.stack_slot(index)
            }
        }
    }
}

/// The error kind used for memory errors.
pub(crate) fn memory_error<'gc>(ctx: Context<'gc>) -> Error<'gc> {
    // An emergency collection (as C Lua's allocator runs one when it fails): what the
    // failed work left unreachable is freed before the next step, so the runtime can go on.
    ctx.request_gc();
    Error {
        value: ctx.str("not enough memory"),
        kind: ErrorKind::Memory,
        traceback: None,
        raised_by: None,
        handled_at: None,
    }
}
