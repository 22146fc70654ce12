//! Debug hooks (C Lua's `luaD_hook`, `luaD_hookcall`, `rethook` and `luaG_traceexec`): a
//! function called on call, return, line and count events of one thread.
//!
//! A thread with a hook runs a separate copy of the instruction loop (`execute::<true>`) that
//! checks for line and count events before each instruction, so threads without hooks pay
//! nothing. Hooks run as nested calls on the hooked thread, with hooks disabled, as in C Lua.

use crate::runtime::Context;
use crate::thread::{Thread, ThreadState};
use crate::value::Value;

use crate::hook::StopHook;
pub use crate::hook::{Hook, MASK_CALL, MASK_COUNT, MASK_LINE, MASK_RETURN};

use super::call::nested_call;
use super::Error;
use crate::limits::StopReason;

/// Calls the hook of `st` for `event` (`line` for line events).
pub(crate) fn call_hook<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    event: &'static str,
    line: Option<i64>,
    transfer: (usize, usize),
) -> Result<(), Error<'gc>> {
    if let Some(kind) = st.hook.stop {
        return stop_now(ctx, st, kind);
    }
    let f = st.hook.func;
    let line = line.map_or(Value::Nil, Value::Integer);
    st.hook.running = true;
    st.hook.transfer = transfer;
    st.hook.hooked_frame = st.frames.len().wrapping_sub(1);
    let r = nested_call(ctx, thread, st, f, &[ctx.str(event), line]);
    st.hook.running = false;
    r.map(|_| ())
}

/// The tracing done before the instruction at `pc` of the top frame (`fi`) runs: the call
/// event of a new frame, count and line events. Returns true if a hook ran (the stack may
/// have moved: reload, and the same instruction then runs without tracing).
pub(crate) fn before_instruction<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    fi: usize,
    pc: usize,
) -> Result<bool, Error<'gc>> {
    if let Some(at) = st.hook.traced.take() {
        if at == (fi, pc) {
            return Ok(false);
        }
        // Another instruction runs first (a finalizer): the hooked one stays traced.
        st.hook.traced = Some(at);
    }
    if st.hook.running {
        // Instructions of hooks count, but fire nothing (C Lua's `allowhook`).
        if st.hook.mask & MASK_COUNT != 0 {
            st.hook.count = st.hook.count.saturating_sub(1);
            if st.hook.count == 0 {
                st.hook.count = st.hook.base_count;
            }
        }
        return Ok(false);
    }
    let Some(closure) = st.frames[fi].closure else {
        return Ok(false);
    };
    let proto = gc_arena::Gc::as_ref(closure.proto());
    if st.hook.call_pending {
        // A vararg function's call event comes after its VARARGPREP.
        if proto.is_vararg && pc == 0 {
            return Ok(false);
        }
        st.hook.call_pending = false;
        st.hook.old_pc = pc;
        if st.hook.mask & MASK_CALL != 0 {
            let event = if st.frames[fi].tail {
                "tail call"
            } else {
                "call"
            };
            let params = proto.num_params;
            fire(ctx, thread, st, fi, pc, event, None, (1, params))?;
            if !st.hook.active() {
                return Ok(true);
            }
        }
    }
    let mut fired = false;
    if st.hook.mask & MASK_COUNT != 0 {
        st.hook.count = st.hook.count.saturating_sub(1);
        if st.hook.count == 0 {
            st.hook.count = st.hook.base_count;
            fire(ctx, thread, st, fi, pc, "count", None, (0, 0))?;
            fired = true;
        }
    }
    if st.hook.mask & MASK_LINE != 0 {
        // Without line information (a stripped chunk) only backward jumps count.
        let lines = &proto.raw.line_info;
        let old = if st.hook.old_pc < proto.code.len() {
            st.hook.old_pc
        } else {
            0
        };
        let new_line = pc <= old || lines.get(old) != lines.get(pc);
        st.hook.old_pc = pc;
        if new_line {
            let line = lines.get(pc).map(|&l| l as i64);
            fire(ctx, thread, st, fi, pc, "line", line, (0, 0))?;
            fired = true;
        }
    }
    Ok(fired || st.hook.traced.is_some())
}

/// Calls the hook for an event before the instruction at `pc` of frame `fi`, which is the
/// current instruction while it runs; the instruction then runs without tracing.
#[allow(clippy::too_many_arguments)]
fn fire<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    fi: usize,
    pc: usize,
    event: &'static str,
    line: Option<i64>,
    transfer: (usize, usize),
) -> Result<(), Error<'gc>> {
    st.frames[fi].pc = pc + 1;
    let r = call_hook(ctx, thread, st, event, line, transfer);
    st.frames[fi].pc = pc;
    st.hook.traced = st.hook.active().then_some((fi, pc));
    r
}

/// The return event of the Lua frame on top: its `n` results are at stack index `first`
/// (its to-be-closed variables are closed).
pub(crate) fn on_return<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    first: usize,
    n: usize,
) -> Result<(), Error<'gc>> {
    if st.hook.wants(MASK_RETURN) {
        // Relative to the slot below register 0 (a vararg function's moved function slot).
        let base = st.frames.last().map_or(1, |f| f.base);
        call_hook(ctx, thread, st, "return", None, (first + 1 - base, n))?;
    }
    Ok(())
}

/// After a return into the Lua frame now on top: its next instruction is a new line only if
/// its line differs from the call's (C Lua's `rethook` setting `L->oldpc`).
#[inline]
pub(crate) fn returned_to_caller(st: &mut ThreadState<'_>) {
    if let Some(f) = st.frames.last() {
        if f.closure.is_some() {
            st.hook.old_pc = f.pc.saturating_sub(1);
        }
    }
}

/// The call or return event of a native function: a stand-in frame shows it to the hook;
/// `transfer` is (first slot, count) of its arguments or results.
pub(crate) fn native_event<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    name: &'static str,
    func: usize,
    event: &'static str,
    transfer: (usize, usize),
) -> Result<(), Error<'gc>> {
    let depth = st.frames.len();
    super::call::push_native_frame(st, name, func);
    let r = call_hook(ctx, thread, st, event, None, transfer);
    st.frames.truncate(depth);
    r
}

/// Makes the innermost running thread stop at its next instruction with an "interrupted!"
/// error (C Lua's `lstop` hook, which `lua.c` sets on a SIGINT).
pub(crate) fn interrupt(ctx: Context<'_>) {
    stop_running(ctx, StopHook::Interrupted);
}

/// Makes the innermost running thread stop at its next instruction with the uncatchable
/// error of the host's limits (see [`crate::limits::Limits`]).
pub(crate) fn stop_for_limits(ctx: Context<'_>) {
    stop_running(ctx, StopHook::Limits);
}

/// Hooks the innermost running thread to stop for `kind`, at every instruction.
fn stop_running(ctx: Context<'_>, kind: StopHook) {
    let th = ctx
        .state()
        .chain
        .current()
        .unwrap_or(ctx.state().main_thread);
    if let Some(mut st) = th.try_state_mut(ctx.mutation()) {
        st.hook = Hook {
            mask: MASK_CALL | MASK_RETURN | MASK_LINE | MASK_COUNT,
            base_count: 1,
            count: 1,
            stop: Some(kind),
            ..Hook::default()
        };
    }
}

/// The stop hook's event: it removes itself and raises its error. "interrupted!" is raised
/// as `lstop`'s `luaL_error` raises it, with the position of the hooked function's caller.
/// A limits hook left from a call that ended otherwise (its error was on its way out when
/// the hook was set: a host function's stop) finds no limit hit, and only removes itself:
/// the next call on the thread starts afresh.
fn stop_now<'gc>(
    ctx: Context<'gc>,
    st: &mut ThreadState<'gc>,
    kind: StopHook,
) -> Result<(), Error<'gc>> {
    st.hook = Hook::default();
    match kind {
        StopHook::Interrupted => {
            let mut m = super::debug::where_(ctx, st, 2);
            m.extend_from_slice(b"interrupted!");
            Err(Error::new(Value::String(ctx.intern(&m))))
        }
        StopHook::Limits => match ctx.state().limits.check() {
            Some(reason) => Err(limit_error(ctx, reason)),
            None => Ok(()),
        },
    }
}

/// The uncatchable error that stops a call for `reason`.
pub(crate) fn limit_error(ctx: Context<'_>, reason: StopReason) -> Error<'_> {
    Error {
        value: ctx.str(reason.message()),
        kind: super::ErrorKind::Interrupt,
        traceback: None,
        raised_by: None,
        handled_at: None,
    }
}
