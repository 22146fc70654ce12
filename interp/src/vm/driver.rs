//! Drivers: run the coroutine chain, nested calls from native functions, and the host
//! entry points (start a call, step it, take its results).

use crate::runtime::Context;
use crate::thread::{PendingKind, Resumption, ReturnTo, Thread, ThreadState, ThreadStatus};
use crate::value::Value;

use super::call::{
    close_tbc, error_msg, finish_pending, kill_thread, outgoing_values, precall, throw,
    transfer_to_coroutine, Flow, Inner,
};
use super::debug;
use super::execute::execute;
use super::{Error, Exit};

/// The thread a drive started from, and how to reach its state: held by the caller (a
/// nested call from a native function) or borrowed for each use, so that coroutines it
/// resumed can reach its stack (open upvalues of its frames) meanwhile.
struct BaseThread<'a, 'gc> {
    thread: Thread<'gc>,
    held: Option<&'a mut ThreadState<'gc>>,
    /// Its position in the running chain: the bottom for a host call (also when a step
    /// resumes a chain of coroutines), the top for a nested call.
    chain_floor: usize,
}

impl<'gc> BaseThread<'_, 'gc> {
    /// Runs `f` on the base thread's state.
    #[inline(always)]
    fn with<R>(&mut self, ctx: Context<'gc>, f: impl FnOnce(&mut ThreadState<'gc>) -> R) -> R {
        match self.held {
            Some(ref mut st) => f(st),
            None => f(&mut self.thread.state_mut(ctx.mutation())),
        }
    }

    /// Whether `t`, running at the top of the chain, is the base thread.
    #[inline(always)]
    fn is(&self, ctx: Context<'gc>, t: Thread<'gc>) -> bool {
        t.ptr_eq(self.thread) && ctx.state().chain.len() == self.chain_floor
    }
}

/// What the driver does after a thread's run ended.
enum Next<'gc> {
    /// Runs the chain on, first handling `Some` outcome as if the top thread gave it.
    Continue(Option<Inner<'gc>>),
    /// The drive is over.
    Return(Inner<'gc>),
}

/// Runs the coroutine chain until the base thread returns, yields to the host, fails, runs out
/// of fuel or calls the host. `base_st` is the base thread's state when the caller holds it
/// borrowed (a nested call from a native function); with `None` the base thread's state is
/// borrowed only while the base thread runs.
fn drive<'gc>(
    ctx: Context<'gc>,
    base: Thread<'gc>,
    base_st: Option<&mut ThreadState<'gc>>,
    floor: usize,
    nested: bool,
    fuel: &mut i64,
    first: Option<Inner<'gc>>,
) -> Inner<'gc> {
    let chain_floor = if nested { ctx.state().chain.len() } else { 1 };
    let mut base = BaseThread {
        thread: base,
        held: base_st,
        chain_floor,
    };
    let mut pending = first;
    loop {
        let cur = ctx.state().chain.running();
        let is_base = base.is(ctx, cur);
        let r = match pending.take() {
            Some(r) => r,
            None if is_base => base.with(ctx, |st| execute(ctx, cur, st, floor, fuel)),
            None => execute(ctx, cur, &mut cur.state_mut(ctx.mutation()), 0, fuel),
        };
        let next = if is_base {
            base_ended(ctx, &mut base, cur, r, floor, nested, fuel)
        } else {
            coroutine_ended(ctx, &mut base, cur, r, floor, nested, fuel)
        };
        match next {
            Next::Continue(p) => pending = p,
            Next::Return(r) => return r,
        }
    }
}

/// After a run of the base thread: a nested call refuels and goes on, a resume starts the
/// coroutine; anything else ends the drive.
#[inline(always)]
fn base_ended<'gc>(
    ctx: Context<'gc>,
    base: &mut BaseThread<'_, 'gc>,
    cur: Thread<'gc>,
    r: Inner<'gc>,
    floor: usize,
    nested: bool,
    fuel: &mut i64,
) -> Next<'gc> {
    match r {
        Inner::OutOfFuel if nested => match refuel_nested(ctx, fuel) {
            None => Next::Continue(None),
            Some(e) => Next::Return(Inner::Error(e)),
        },
        Inner::Resume(co) => {
            let r = base.with(ctx, |st| match start_resume(ctx, cur, st, co) {
                Ok(first) => Ok(first),
                Err(e) => throw(ctx, cur, st, e, floor).map(|()| None),
            });
            match r {
                Ok(first) => Next::Continue(first),
                Err(e) => Next::Return(Inner::Error(e)),
            }
        }
        other => Next::Return(other),
    }
}

/// After a run of a coroutine above the base thread.
#[inline(always)]
fn coroutine_ended<'gc>(
    ctx: Context<'gc>,
    base: &mut BaseThread<'_, 'gc>,
    cur: Thread<'gc>,
    r: Inner<'gc>,
    floor: usize,
    nested: bool,
    fuel: &mut i64,
) -> Next<'gc> {
    let mc = ctx.mutation();
    match r {
        Inner::HookChanged => unreachable!("handled by execute"),
        Inner::OutOfFuel if nested => Next::Continue(refuel_nested(ctx, fuel).map(Inner::Error)),
        Inner::OutOfFuel => Next::Return(Inner::OutOfFuel),
        Inner::Host if nested => {
            let mut st = cur.state_mut(mc);
            let e = error_msg(
                ctx,
                b"attempt to call a host function across a C-call boundary",
            );
            st.pending = None;
            Next::Continue(throw(ctx, cur, &mut st, e, 0).err().map(Inner::Error))
        }
        Inner::Host => Next::Return(Inner::Host),
        Inner::Resume(co) => {
            let mut st = cur.state_mut(mc);
            let r = match start_resume(ctx, cur, &mut st, co) {
                Ok(first) => first,
                Err(e) => throw(ctx, cur, &mut st, e, 0).err().map(Inner::Error),
            };
            Next::Continue(r)
        }
        Inner::BoundaryReturn => Next::Continue(None),
        Inner::Returned | Inner::Yield | Inner::Error(_) => {
            match finish_coroutine(ctx, base, cur, &r, floor) {
                Ok(()) => Next::Continue(None),
                Err((true, e)) => Next::Return(Inner::Error(e)),
                Err((false, e)) => Next::Continue(Some(Inner::Error(e))),
            }
        }
    }
}

/// A coroutine returned, yielded or failed: it leaves the running chain and its resumer gets
/// the outcome (`coroutine.resume`'s results, a wrap function's, or the error a wrap function
/// raises). An error that goes on from there is `(true, e)` if it ends the drive (raised in
/// the base thread), `(false, e)` if the new top thread has it.
fn finish_coroutine<'gc>(
    ctx: Context<'gc>,
    base: &mut BaseThread<'_, 'gc>,
    cur: Thread<'gc>,
    r: &Inner<'gc>,
    floor: usize,
) -> Result<(), (bool, Error<'gc>)> {
    let mc = ctx.mutation();
    let (vals, err) = coroutine_outcome(ctx, cur, r);
    ctx.state().chain.pop(mc);
    let resumer = ctx.state().chain.running();
    resumer.set_status(ThreadStatus::Running);
    let resumer_is_base = base.is(ctx, resumer);
    let mut err = err;
    if let Some(e) = err.as_mut().filter(|e| e.is_catchable()) {
        let kind = if resumer_is_base {
            base.with(ctx, |st| st.pending.map(|p| p.kind))
        } else {
            resumer.state_mut(mc).pending.map(|p| p.kind)
        };
        if kind == Some(PendingKind::Wrap) {
            // A wrapped coroutine that failed is closed before the error goes on.
            if let Some(c) = close_thread(ctx, cur) {
                if c.is_catchable() {
                    e.value = c.value;
                } else {
                    *e = c;
                }
            }
        }
    }
    if resumer_is_base {
        base.with(ctx, |st| {
            match deliver_outcome(ctx, st, &vals, err.as_ref()) {
                Some(e) => throw(ctx, resumer, st, e, floor),
                None => Ok(()),
            }
        })
        .map_err(|e| (true, e))
    } else {
        let mut st = resumer.state_mut(mc);
        match deliver_outcome(ctx, &mut st, &vals, err.as_ref()) {
            Some(e) => throw(ctx, resumer, &mut st, e, 0).map_err(|e| (false, e)),
            None => Ok(()),
        }
    }
}

/// The values a finished run of coroutine `cur` hands out (`Err`: the error that killed it),
/// its state updated: dead (its traceback kept) or suspended.
fn coroutine_outcome<'gc>(
    ctx: Context<'gc>,
    cur: Thread<'gc>,
    r: &Inner<'gc>,
) -> (crate::ValueList<'gc>, Option<Error<'gc>>) {
    let mut st = cur.state_mut(ctx.mutation());
    match r {
        Inner::Returned => {
            let v = outgoing_values(&st, true);
            kill_thread(ctx, cur, &mut st);
            (v, None)
        }
        Inner::Yield => {
            let v = outgoing_values(&st, false);
            cur.set_status(ThreadStatus::Suspended);
            (v, None)
        }
        Inner::Error(e) => {
            let e = e.clone();
            // Its to-be-closed variables wait for `coroutine.close` (or the wrap's close).
            let tbc = std::mem::take(&mut st.tbc);
            st.dead_traceback = Some(debug::error_traceback(ctx, &st, e.raised_by));
            kill_thread(ctx, cur, &mut st);
            st.tbc = tbc;
            st.error = Some(e.clone());
            (Default::default(), Some(e))
        }
        _ => unreachable!("not an end of a coroutine's run"),
    }
}

/// Hands a coroutine's outcome to the call that resumed it, waiting in `st`: the error to
/// raise there, if any (a wrap function's, or a stop).
fn deliver_outcome<'gc>(
    ctx: Context<'gc>,
    st: &mut ThreadState<'gc>,
    vals: &[Value<'gc>],
    err: Option<&Error<'gc>>,
) -> Option<Error<'gc>> {
    let kind = st.pending.map(|p| p.kind).unwrap_or(PendingKind::Resume);
    match (kind, err) {
        (PendingKind::Resume, None) => {
            let mut out = crate::ValueList::new();
            out.push(Value::Boolean(true));
            out.extend_from_slice(vals);
            finish_pending(st, &out);
            None
        }
        (PendingKind::Resume, Some(e)) => {
            if !e.is_catchable() {
                st.pending = None;
                return Some(e.clone());
            }
            finish_pending(st, &[Value::Boolean(false), e.value]);
            None
        }
        (_, None) => {
            finish_pending(st, vals);
            None
        }
        (_, Some(e)) => {
            let mut e = e.clone();
            if let Value::String(s) = e.value {
                let mut m = debug::where_(ctx, st, 1);
                if !m.is_empty() && e.is_catchable() {
                    m.extend_from_slice(s.as_bytes());
                    e.value = Value::String(ctx.intern(&m));
                }
            }
            if e.is_catchable() {
                // Raised anew by the wrap function (`auxwrap`'s lua_error).
                let wrap = st.pending.and_then(|p| st.stack.get(p.func).copied());
                if let Some(Value::Native(f)) = wrap {
                    e.raised_by = Some(f.name());
                }
            }
            st.pending = None;
            Some(e)
        }
    }
}

/// Checks that `co` can be resumed from `cur` and starts it; gives what the driver must do
/// first if the coroutine's function asked for it at once.
fn start_resume<'gc>(
    ctx: Context<'gc>,
    cur: Thread<'gc>,
    cur_st: &mut ThreadState<'gc>,
    co: Thread<'gc>,
) -> Result<Option<Inner<'gc>>, Error<'gc>> {
    let p = cur_st.pending.expect("resume pending");
    let first_arg = if p.kind == PendingKind::Wrap {
        p.func + 1
    } else {
        p.func + 2
    };
    let args: smallvec::SmallVec<[Value<'gc>; 8]> =
        smallvec::SmallVec::from_slice(&cur_st.stack[first_arg.min(cur_st.stack.len())..]);
    let status = co.status();
    if cur_st.c_calls() + 1 >= super::call::C_CALLS_MAX {
        // C Lua counts resumes against its C stack limit: `lua_resume` refuses at the
        // limit, and the coroutine's body cannot start at it either.
        let msg = b"C stack overflow";
        if p.kind == PendingKind::Wrap {
            cur_st.pending = None;
            let mut m = debug::where_(ctx, cur_st, 1);
            m.extend_from_slice(msg);
            return Err(Error::new(Value::String(ctx.intern(&m))));
        }
        finish_pending(
            cur_st,
            &[Value::Boolean(false), Value::String(ctx.intern(msg))],
        );
        return Ok(None);
    }
    if status != ThreadStatus::Suspended || co.ptr_eq(cur) {
        let msg: &[u8] = if status == ThreadStatus::Dead {
            b"cannot resume dead coroutine"
        } else {
            b"cannot resume non-suspended coroutine"
        };
        if p.kind == PendingKind::Wrap {
            cur_st.pending = None;
            let mut m = debug::where_(ctx, cur_st, 1);
            m.extend_from_slice(msg);
            return Err(Error::new(Value::String(ctx.intern(&m))));
        }
        finish_pending(
            cur_st,
            &[Value::Boolean(false), Value::String(ctx.intern(msg))],
        );
        return Ok(None);
    }
    cur.publish_stack(cur_st);
    let mut co_st = co.state_mut(ctx.mutation());
    // The coroutine's depth starts above its resumer's.
    co_st.depth_base = cur_st.depth_base + cur_st.frames.len();
    co_st.cbase = cur_st.c_calls() + 1;
    co_st.frame_cap =
        crate::thread::FrameCap::new(ctx.state().limits.max_depth(), co_st.depth_base);
    cur.set_status(ThreadStatus::Normal);
    co.set_status(ThreadStatus::Running);
    ctx.state().chain.push(ctx.mutation(), co);
    match transfer_to_coroutine(ctx, co, &mut co_st, &args) {
        Ok(Flow::Reload) => Ok(None),
        // Its function is a native that asks the driver at once (a yield, a resume, a host
        // function): the coroutine's first outcome.
        Ok(Flow::Exit(x)) => Ok(Some(x)),
        Err(e) => {
            // The coroutine's function failed at once (e.g. calling a non-function).
            co_st.error = Some(e.clone());
            drop(co_st);
            ctx.state().chain.pop(ctx.mutation());
            co.set_status(ThreadStatus::Dead);
            drop(co.0.live.take());
            cur.set_status(ThreadStatus::Running);
            if p.kind == PendingKind::Wrap {
                cur_st.pending = None;
                return Err(e);
            }
            finish_pending(cur_st, &[Value::Boolean(false), e.value]);
            Ok(None)
        }
    }
}

/// Fuel of one chunk of a nested call: between chunks, the host's limits are checked.
const NESTED_FUEL: i64 = 10_000;

/// Charges the fuel a nested call spent in its last chunk (`fuel` is what is left of it).
fn charge_nested(ctx: Context<'_>, fuel: i64) {
    if fuel <= NESTED_FUEL {
        ctx.state().limits.charge(NESTED_FUEL - fuel);
    }
}

/// A nested call ran out of fuel: charges the chunk, checks the host's limits (the
/// uncatchable error to raise if one is hit) and gives the next chunk. A chunk ended early
/// by a collection request goes on: the collector cannot run inside a nested call, so the
/// request waits (in `Collector::deferred`) until the nested call ends.
fn refuel_nested<'gc>(ctx: Context<'gc>, fuel: &mut i64) -> Option<Error<'gc>> {
    let state = ctx.state();
    if *fuel >= 0 && state.gc.requested.get() {
        state.gc.requested.set(false);
        state.gc.deferred.set(true);
        return None;
    }
    let limits = &state.limits;
    limits.charge(NESTED_FUEL - *fuel);
    *fuel = NESTED_FUEL;
    // The host's poll too: a nested call that runs long (a message handler, a finalizer, an
    // overflow handler run by a conversion) lets the host handle signals.
    limits
        .check_inside(0)
        .map(|reason| super::hooks::limit_error(ctx, reason))
}

/// Ends a nested call's driving: a collection requested inside it is requested again, for
/// the caller (or the end of the step) to see.
fn end_nested(ctx: Context<'_>, fuel: i64) {
    charge_nested(ctx, fuel);
    let state = ctx.state();
    if state.gc.deferred.replace(false) {
        state.gc.requested.set(true);
    }
}

/// Runs a nested call (made by a native function) until its boundary frame returns.
pub(crate) fn drive_nested<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    floor: usize,
) -> Result<(), Error<'gc>> {
    let mut fuel = NESTED_FUEL;
    let r = drive(ctx, thread, Some(st), floor, true, &mut fuel, None);
    end_nested(ctx, fuel);
    finish(r, ctx, thread, st, floor)
}

/// Handles a nested call whose callee (a native) asked the driver for something at once.
pub(crate) fn finish_exit_nested<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    floor: usize,
    inner: Inner<'gc>,
) -> Result<(), Error<'gc>> {
    let mut fuel = NESTED_FUEL;
    let inner = match inner {
        Inner::Yield | Inner::Host => {
            st.pending = None;
            return Err(error_msg(ctx, b"attempt to yield across a C-call boundary"));
        }
        other => other,
    };
    let r = drive(ctx, thread, Some(st), floor, true, &mut fuel, Some(inner));
    end_nested(ctx, fuel);
    finish(r, ctx, thread, st, floor)
}

fn finish<'gc>(
    r: Inner<'gc>,
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    floor: usize,
) -> Result<(), Error<'gc>> {
    match r {
        Inner::BoundaryReturn => Ok(()),
        Inner::Returned => Ok(()),
        Inner::Error(e) => Err(e),
        Inner::Yield | Inner::Host => {
            st.pending = None;
            let e = error_msg(ctx, b"attempt to yield across a C-call boundary");
            match throw(ctx, thread, st, e, floor) {
                Ok(()) => drive_nested(ctx, thread, st, floor),
                Err(e) => Err(e),
            }
        }
        Inner::OutOfFuel | Inner::Resume(_) | Inner::HookChanged => {
            Err(error_msg(ctx, b"internal error in nested call"))
        }
    }
}

// ----- host entry points -----

/// Frees what an idle main thread's buffers hold past their need (a call that failed deep
/// in a recursion leaves its stack large until the next call).
pub(crate) fn shrink_idle_main_thread<'gc>(ctx: Context<'gc>) {
    if !ctx.state().chain.is_empty() {
        return;
    }
    let mut st = ctx.state().main_thread.state_mut(ctx.mutation());
    if st.frames.is_empty() && st.pending.is_none() {
        st.stack.clear();
        st.top = 0;
        st.shrink_buffers();
    }
}

/// Prepares a call of `f(args)` from the host, and gives the thread it runs on: the main
/// thread when the runtime is idle; the thread waiting for a host function when that host
/// function calls (Lua -> host -> Lua: the call runs on that thread above its frames, as C
/// Lua's `lua_call` from a C function does; see [`ThreadState::host_calls`]); a fresh thread
/// otherwise. Step it with [`step`] and end it with [`end_call`].
pub(crate) fn start_host_call<'gc>(
    ctx: Context<'gc>,
    f: Value<'gc>,
    args: &[Value<'gc>],
) -> Thread<'gc> {
    let cur = ctx.state().chain.current();
    let Some(cur) = cur else {
        let main = ctx.state().main_thread;
        start_call(ctx, main, f, args);
        return main;
    };
    let waiting = cur
        .0
        .state
        .try_borrow()
        .is_ok_and(|st| st.pending.is_some_and(|p| p.kind == PendingKind::Host));
    if waiting {
        start_call_above(ctx, cur, f, args);
        cur
    } else {
        let th = Thread::new(ctx.mutation(), false);
        start_call(ctx, th, f, args);
        th
    }
}

/// Prepares a call of `f(args)` on `thread`, which waits for a host function: the host
/// function gets a frame (a C function's), and the call goes above it.
fn start_call_above<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    f: Value<'gc>,
    args: &[Value<'gc>],
) {
    let mut st = thread.state_mut(ctx.mutation());
    let p = st.pending.take().expect("a host function call");
    // As a C function's CallInfo: one C call more than its caller when called as a
    // metamethod (`luaT_callTM`), none when called by Lua code; the call from it counts one
    // more (`lua_call`).
    let parent = st.frames.last().map_or(0, |f| f.cdepth);
    let name = match st.stack.get(p.func) {
        Some(Value::Native(nf)) => nf.name(),
        _ => "?",
    };
    st.frames.push(crate::thread::Frame {
        closure: None,
        func: p.func,
        base: p.func + 1,
        pc: 0,
        nresults: p.nresults,
        nextra: 0,
        ret: p.ret,
        handler: None,
        protected: false,
        tail: false,
        calling: false,
        native: Some(name),
        cdepth: parent + u16::from(p.ret != ReturnTo::Caller),
    });
    let call = crate::thread::HostCall {
        floor: st.frames.len(),
        func: st.stack.len(),
        pending: p,
        top: st.top,
        host_resumed: std::mem::take(&mut st.host_resumed),
    };
    st.host_calls.push(call);
    thread.0.host_calls.set(thread.0.host_calls.get() + 1);
    st.stack.push(f);
    st.stack.extend_from_slice(args);
    st.top = st.stack.len();
    st.pending = Some(START);
    drop(st);
    push_chain(ctx, thread);
}

/// The pending call of a thread whose call from the host has not started: `step` makes it.
const START: crate::thread::PendingCall = crate::thread::PendingCall {
    func: usize::MAX,
    nresults: -1,
    kind: PendingKind::Host,
    ret: ReturnTo::Caller,
};

/// Ends the innermost call from the host on `thread` (see `start_call_above`): the host
/// function it ran above waits again, as before the call.
fn end_call_above<'gc>(ctx: Context<'gc>, thread: Thread<'gc>) {
    let mut st = thread.state_mut(ctx.mutation());
    let Some(call) = st.host_calls.pop() else {
        return;
    };
    thread.0.host_calls.set(thread.0.host_calls.get() - 1);
    // The call's frames are gone (it returned, or failed); what is left is the host
    // function's frame.
    st.close_upvalues(ctx.mutation(), call.func);
    st.tbc.retain(|&t| t < call.func);
    st.frames.truncate(call.floor - 1);
    st.stack.truncate(call.func);
    st.top = call.top;
    st.pending = Some(call.pending);
    st.host_resumed = call.host_resumed;
    st.hook.host_call_ended();
}

/// Prepares `thread` to call `f(args)` (its stack is reset).
pub(crate) fn start_call<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    f: Value<'gc>,
    args: &[Value<'gc>],
) {
    let mut st = thread.state_mut(ctx.mutation());
    st.stack.clear();
    st.frames.clear();
    st.shrink_buffers();
    st.tbc.clear();
    st.pending = None;
    st.depth_base = 0;
    // A call from the host is a `lua_pcall`: one C call.
    st.cbase = 1;
    st.frame_cap = crate::thread::FrameCap::new(ctx.state().limits.max_depth(), 0);
    st.stack.push(f);
    st.stack.extend_from_slice(args);
    st.top = st.stack.len();
    push_chain(ctx, thread);
    // The call is not yet started: `step` makes it.
    st.pending = Some(START);
}

/// Makes `thread` the base of a new running chain; the chain of a call waiting for a host
/// function (if any) is kept for [`end_call`].
fn push_chain<'gc>(ctx: Context<'gc>, thread: Thread<'gc>) {
    ctx.state().chain.begin_host_call(ctx.mutation(), thread);
}

/// Resumes the coroutine `co` from the host with `args` and runs the first step (lupa's
/// `send`, C Lua's `lua_resume`): `co` is the base of the running chain, so its yield ends
/// the step with [`Exit::Yielded`] (values from [`read_results`]). The host goes on with
/// [`step`] and ends with [`end_call`], as for a call from [`start_call`].
pub(crate) fn resume_step<'gc>(
    ctx: Context<'gc>,
    co: Thread<'gc>,
    args: &[Value<'gc>],
    fuel: i64,
) -> Result<Exit, Error<'gc>> {
    let status = co.status();
    if status != ThreadStatus::Suspended || co.is_main() {
        return Err(error_msg(
            ctx,
            if status == ThreadStatus::Dead {
                b"cannot resume dead coroutine"
            } else {
                b"cannot resume non-suspended coroutine"
            },
        ));
    }
    // The base of the chain: its depth starts at 0 (`lua_resume` from the host: one C call),
    // or above the thread waiting for a host function that resumes it.
    let waiting = ctx.state().chain.current();
    let (depth_base, cbase) = waiting
        .and_then(|t| {
            let st = t.0.state.try_borrow().ok()?;
            Some((st.depth_base + st.frames.len(), st.c_calls() + 1))
        })
        .unwrap_or((0, 1));
    if cbase >= super::call::C_CALLS_MAX {
        return Err(error_msg(ctx, b"C stack overflow"));
    }
    push_chain(ctx, co);
    let mut st = co.state_mut(ctx.mutation());
    st.host_resumed = true;
    st.depth_base = depth_base;
    st.cbase = cbase;
    st.frame_cap = crate::thread::FrameCap::new(ctx.state().limits.max_depth(), depth_base);
    let first = match transfer_to_coroutine(ctx, co, &mut st, args) {
        Ok(Flow::Reload) => None,
        Ok(Flow::Exit(x)) => Some(x),
        // The coroutine's function failed at once (e.g. calling a non-function).
        Err(e) => Some(Inner::Error(e)),
    };
    drop(st);
    Ok(run_step(ctx, co, fuel, first))
}

/// Ends a call started by [`start_call`]: restores the running chain of the call (if any)
/// that was waiting for a host function.
pub(crate) fn end_call<'gc>(ctx: Context<'gc>) {
    let mc = ctx.mutation();
    let base = ctx.state().chain.base();
    if let Some(base) = base.filter(|t| t.0.host_calls.get() > 0) {
        // A call above a host function (a thread with such calls is the base of no other
        // running chain: this call's).
        end_call_above(ctx, base);
    }
    ctx.state().chain.end_host_call(mc);
}

/// The host function the running thread waits for.
pub(crate) fn host_call_request_function<'gc>(ctx: Context<'gc>) -> Value<'gc> {
    let cur = ctx.state().chain.running();
    let st = cur.0.state.borrow();
    match st.pending {
        Some(p) if p.kind == PendingKind::Host => st.stack[p.func],
        _ => Value::Nil,
    }
}

/// The host function the running thread waits for, and its arguments.
pub(crate) fn host_call_request<'gc>(ctx: Context<'gc>) -> (Value<'gc>, crate::ValueList<'gc>) {
    let cur = ctx.state().chain.running();
    let st = cur.0.state.borrow();
    match st.pending {
        Some(p) if p.kind == PendingKind::Host => (
            st.stack[p.func],
            crate::ValueList::from_slice(&st.stack[p.func + 1..]),
        ),
        _ => (Value::Nil, crate::ValueList::new()),
    }
}

/// Runs `f` on the arguments of the host function the running thread waits for, where they
/// lie on its stack.
pub(crate) fn with_host_call_args<'gc, R>(
    ctx: Context<'gc>,
    f: impl FnOnce(&[Value<'gc>]) -> R,
) -> R {
    let cur = ctx.state().chain.running();
    let st = cur.0.state.borrow();
    match st.pending {
        Some(p) if p.kind == PendingKind::Host => f(&st.stack[p.func + 1..]),
        _ => f(&[]),
    }
}

/// Hands a host function's results (or error) to the thread waiting for it.
pub(crate) fn host_call_return<'gc>(ctx: Context<'gc>, result: Result<&[Value<'gc>], Error<'gc>>) {
    let cur = ctx.state().chain.running();
    match result {
        Ok(vals) => {
            let mut st = cur.state_mut(ctx.mutation());
            finish_pending(&mut st, vals);
            if st.hook.active() {
                super::hooks::returned_to_caller(&mut st);
            }
        }
        Err(e) => {
            cur.state_mut(ctx.mutation()).pending = None;
            ctx.state().chain.set_host_error(ctx.mutation(), e);
        }
    }
}

/// Runs one step of the call prepared by [`start_call`].
pub(crate) fn step<'gc>(ctx: Context<'gc>, thread: Thread<'gc>, fuel: i64) -> Exit {
    let mc = ctx.mutation();
    let mut first = None;
    // An error returned by a host function is raised where the thread waits for it.
    let host_err = ctx.state().chain.take_host_error(mc);
    if let Some(e) = host_err {
        let cur = ctx.state().chain.running();
        // (Not below the innermost call from the host on it: see `throw`.)
        let mut cst = cur.state_mut(mc);
        if let Err(e) = throw(ctx, cur, &mut cst, e, 0) {
            first = Some(Inner::Error(e));
        }
    }
    let mut st = thread.state_mut(mc);
    if st.pending.is_some_and(|p| p.func == usize::MAX) {
        st.pending = None;
        let (func, floor) = (st.host_base(), st.host_floor());
        let nargs = st.stack.len() - func - 1;
        // A call above a host function is a `lua_call` from C: one C call more, whatever it
        // calls (`precall` counts it for a Lua function); its results stop at its boundary.
        let (ret, counted) = if floor == 0 {
            (ReturnTo::Caller, Ok(()))
        } else if matches!(st.stack[func], Value::Closure(_)) {
            (ReturnTo::Boundary, Ok(()))
        } else {
            let n = st.c_calls() + 1;
            (
                ReturnTo::Boundary,
                super::call::check_c_calls(ctx, n, Vec::new),
            )
        };
        let started = counted.and_then(|()| precall(ctx, thread, &mut st, func, nargs, -1, ret));
        let r = match started {
            Ok(Flow::Reload) => Ok(()),
            Ok(Flow::Exit(x)) => {
                first = Some(x);
                Ok(())
            }
            // A protected call the function started may catch its error (`pcall` of a value
            // that cannot be called).
            Err(e) => throw(ctx, thread, &mut st, e, floor),
        };
        match r {
            Ok(()) if first.is_none() && st.frames.len() == floor => return Exit::Finished,
            Ok(()) => {}
            Err(mut e) => {
                if e.traceback.is_none() {
                    e.traceback = Some(debug::traceback_string(ctx, &st, 1));
                }
                return fail_call(ctx, thread, &mut st, e);
            }
        }
    }
    drop(st);
    run_step(ctx, thread, fuel, first)
}

/// Drives `thread` for one step (after `first`, an outcome already known) and says why the
/// step ended; a host-resumed coroutine leaves suspended or dead as with `coroutine.resume`.
fn run_step<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    mut fuel: i64,
    first: Option<Inner<'gc>>,
) -> Exit {
    let mc = ctx.mutation();
    let given = fuel;
    let floor = thread.0.state.borrow().host_floor();
    let r = drive(ctx, thread, None, floor, false, &mut fuel, first);
    // Fuel charged by a library call that no reload took from the step's fuel (the call
    // failed, or was the step's last act) counts too.
    let pending = ctx.state().fuel.take_charged();
    ctx.state().limits.charge(given - fuel + pending);
    let mut st = thread.state_mut(mc);
    let r = match r {
        Inner::Yield if !st.host_resumed => {
            st.pending = None;
            Inner::Error(error_msg(ctx, b"attempt to yield from outside a coroutine"))
        }
        r => r,
    };
    match r {
        Inner::Returned | Inner::BoundaryReturn => {
            if std::mem::take(&mut st.host_resumed) {
                kill_thread(ctx, thread, &mut st);
            }
            Exit::Finished
        }
        Inner::OutOfFuel | Inner::HookChanged => Exit::Pending,
        Inner::Yield => {
            st.host_resumed = false;
            thread.set_status(ThreadStatus::Suspended);
            Exit::Yielded
        }
        Inner::Host => Exit::Host,
        Inner::Error(mut e) => {
            if e.traceback.is_none() {
                e.traceback = Some(debug::error_traceback(ctx, &st, e.raised_by));
            }
            if std::mem::take(&mut st.host_resumed) {
                // A coroutine that died by an error: as in `drive`, its to-be-closed
                // variables wait for `coroutine.close`.
                let tbc = std::mem::take(&mut st.tbc);
                st.dead_traceback = Some(debug::error_traceback(ctx, &st, e.raised_by));
                kill_thread(ctx, thread, &mut st);
                st.tbc = tbc;
                st.error = Some(e);
                return Exit::Error;
            }
            fail_call(ctx, thread, &mut st, e)
        }
        Inner::Resume(_) => Exit::Error,
    }
}

/// An error ended the innermost call from the host on `thread` (a call the host made, not a
/// coroutine it resumed): the call's frames go, its to-be-closed variables are closed as
/// `lua_pcall` closes them (an error in a `__close` replaces the error; an uncatchable error
/// closes none), and the error waits for [`take_error`].
fn fail_call<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    mut e: Error<'gc>,
) -> Exit {
    let (func, floor) = (st.host_base(), st.host_floor());
    st.frames.truncate(floor);
    st.unwinding.retain(|&(m, _)| m < floor);
    st.resumption = Resumption::Run;
    if e.is_catchable() && st.tbc.last().is_some_and(|&t| t >= func) {
        if let Err(e2) = close_tbc(ctx, thread, st, func, Some(e.clone())) {
            e = Error {
                traceback: e2.traceback.or(e.traceback),
                ..e2
            };
        }
    }
    st.tbc.retain(|&t| t < func);
    st.close_upvalues(ctx.mutation(), func);
    st.stack.truncate(func);
    st.stack.push(e.value);
    st.top = func + 1;
    st.error = Some(e);
    Exit::Error
}

/// Runs `f` on the results of a finished call (with `yielded`: on the values a host-resumed
/// coroutine yielded) where they are on the stack, then drops the results: no copy of them.
pub(crate) fn read_results<'gc, R>(
    thread: Thread<'gc>,
    ctx: Context<'gc>,
    yielded: bool,
    f: impl FnOnce(&[Value<'gc>]) -> R,
) -> R {
    let (r, base) = {
        let st = thread.0.state.borrow();
        let base = st.host_base();
        let vals = match st.pending {
            Some(p) if yielded => &st.stack[p.func + 1..],
            _ => &st.stack[base.min(st.top)..st.top.min(st.stack.len())],
        };
        (f(vals), base)
    };
    if !yielded {
        let mut st = thread.state_mut(ctx.mutation());
        st.stack.truncate(base);
        st.top = base;
    }
    r
}

/// Takes the error of a failed call (a dead coroutine keeps a copy, for `coroutine.close`).
pub(crate) fn take_error<'gc>(thread: Thread<'gc>, ctx: Context<'gc>) -> Error<'gc> {
    let mut st = thread.state_mut(ctx.mutation());
    if thread.status() == ThreadStatus::Dead {
        return st.error.clone().unwrap_or_else(|| Error::new(Value::Nil));
    }
    let base = st.host_base();
    st.stack.truncate(base);
    st.top = base;
    st.error.take().unwrap_or_else(|| Error::new(Value::Nil))
}

/// Calls `f(args)` to completion from the host inside one `enter` (no stepping).
pub(crate) fn call_nested<'gc>(
    ctx: Context<'gc>,
    f: Value<'gc>,
    args: &[Value<'gc>],
) -> Result<Vec<Value<'gc>>, Error<'gc>> {
    call_on_main(ctx, f, args, false)
}

/// Calls a `__gc` finalizer as `call_nested` does (`debug.getinfo` names it "__gc").
pub(crate) fn call_finalizer<'gc>(
    ctx: Context<'gc>,
    f: Value<'gc>,
    args: &[Value<'gc>],
) -> Result<Vec<Value<'gc>>, Error<'gc>> {
    call_on_main(ctx, f, args, true)
}

fn call_on_main<'gc>(
    ctx: Context<'gc>,
    f: Value<'gc>,
    args: &[Value<'gc>],
    finalizer: bool,
) -> Result<Vec<Value<'gc>>, Error<'gc>> {
    // The call runs nested on the main thread (like C Lua's finalizers on the current
    // thread), whatever coroutine chain a paused step left running; the chain comes back
    // afterwards.
    let mc = ctx.mutation();
    let thread = ctx.state().main_thread;
    // A stopped call runs no more finalizers (nor other Lua code for its host).
    if let Some(stop) = super::call::pending_stop(ctx) {
        return Err(stop);
    }
    if thread.0.state.try_borrow().is_err() {
        // Inside a step, from a native function that holds the main thread (a host's code
        // run there must call through the native's `NativeCall::call`).
        return Err(error_msg(
            ctx,
            b"cannot call Lua here: its main thread is running",
        ));
    }
    let saved_chain = ctx.state().chain.replace(mc, vec![thread]);
    let saved_status = thread.status();
    thread.set_status(ThreadStatus::Running);
    let r = {
        let mut st = thread.state_mut(mc);
        let saved = std::mem::replace(&mut st.finalizing, finalizer);
        let hooks = finalizer.then(|| st.hook.pause());
        let r = super::call::nested_call(ctx, thread, &mut st, f, args);
        if let Some(h) = hooks {
            st.hook.resume(h);
        }
        st.finalizing = saved;
        r
    };
    thread.set_status(saved_status);
    ctx.state().chain.replace(mc, saved_chain);
    r
}

/// Closes a suspended or dead coroutine (`coroutine.close`): runs its pending `__close`
/// handlers and marks it dead. Returns the error if closing failed (or the one that killed
/// the coroutine); an uncatchable one (the host's limits stopped a handler) must go on.
pub fn close_thread<'gc>(ctx: Context<'gc>, co: Thread<'gc>) -> Option<Error<'gc>> {
    let mc = ctx.mutation();
    // A thread that runs (its state is borrowed) cannot be closed.
    let Some(mut st) = co.try_state_mut(mc) else {
        return Some(Error::new(ctx.str("cannot close a running coroutine")));
    };
    // The `__close` handlers run in the coroutine, as C Lua's `lua_closethread` does.
    ctx.state().chain.push(mc, co);
    let prev_err = st.error.take();
    // The frames are gone before the handlers run: an `xpcall` the coroutine was suspended
    // in does not handle their errors (C Lua's `luaE_resetthread`). The handlers get the
    // error that killed the coroutine, if any.
    st.frames.clear();
    st.pending = None;
    let r = close_tbc(ctx, co, &mut st, 0, prev_err.clone());
    kill_thread(ctx, co, &mut st);
    st.stack.clear();
    drop(st);
    ctx.state().chain.pop(mc);
    match r {
        Err(e) => Some(e),
        // The error that killed it is a value now, even a stop of an earlier call.
        Ok(()) => prev_err.map(|e| Error::new(e.value)),
    }
}
