//! Debug hooks (C Lua's `luaD_hook`, `luaD_hookcall`, `rethook` and `luaG_traceexec`): a
//! function called on call, return, line and count events of one thread.
//!
//! A thread with a hook runs a separate copy of the instruction loop (`execute::<true>`) that
//! checks for line and count events before each instruction, so threads without hooks pay
//! nothing. Hooks run as nested calls on the hooked thread, with hooks disabled, as in C Lua.

use gc_arena::Collect;

use crate::runtime::Context;
use crate::thread::{Thread, ThreadState};
use crate::value::Value;

use super::call::nested_call;
use super::Error;

/// Hook on calls.
pub const MASK_CALL: u8 = 1;
/// Hook on returns.
pub const MASK_RETURN: u8 = 2;
/// Hook on new lines.
pub const MASK_LINE: u8 = 4;
/// Hook every `count` instructions.
pub const MASK_COUNT: u8 = 8;

/// The hook of a thread and its bookkeeping.
#[derive(Collect, Clone, Copy, Default)]
#[collect(no_drop)]
pub struct Hook<'gc> {
    /// The hook function (nil: no hook).
    pub func: Value<'gc>,
    /// Events (`MASK_*`); zero when there is no hook.
    #[collect(require_static)]
    pub mask: u8,
    /// Instructions between count events.
    #[collect(require_static)]
    pub base_count: u32,
    /// Instructions left until the next count event.
    #[collect(require_static)]
    count: u32,
    /// A hook is running (hooks are off inside hooks).
    #[collect(require_static)]
    running: bool,
    /// Last instruction traced (C Lua's `L->oldpc`), in the function on top.
    #[collect(require_static)]
    old_pc: usize,
    /// A Lua frame was entered: its call event is due at its first instruction.
    #[collect(require_static)]
    call_pending: bool,
    /// The hooks of the instruction at the top frame's pc already ran.
    #[collect(require_static)]
    traced: bool,
}

impl<'gc> Hook<'gc> {
    /// A hook calling `func` on the events of `mask`, and every `count` instructions if
    /// `count > 0`.
    pub fn new(func: Value<'gc>, mask: u8, count: u32) -> Hook<'gc> {
        let mut mask = mask & (MASK_CALL | MASK_RETURN | MASK_LINE);
        if count > 0 {
            mask |= MASK_COUNT;
        }
        if func.is_nil() {
            return Hook::default();
        }
        Hook {
            func,
            mask,
            base_count: count,
            count,
            ..Hook::default()
        }
    }

    /// True when events must be traced.
    #[inline]
    pub fn active(&self) -> bool {
        self.mask != 0
    }

    /// True when an event of `mask` would call the hook now.
    #[inline]
    pub(crate) fn wants(&self, mask: u8) -> bool {
        self.mask & mask != 0 && !self.running
    }

    /// Notes that a Lua frame was pushed (its call event fires at its first instruction).
    #[inline]
    pub(crate) fn entered_lua(&mut self) {
        if self.mask != 0 && !self.running {
            self.call_pending = true;
        }
    }
}

/// Calls the hook of `st` for `event` (`line` for line events).
pub(crate) fn call_hook<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    event: &'static str,
    line: Option<i64>,
) -> Result<(), Error<'gc>> {
    let f = st.hook.func;
    let line = line.map_or(Value::Nil, Value::Integer);
    st.hook.running = true;
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
    if st.hook.traced {
        st.hook.traced = false;
        return Ok(false);
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
    let mut events: [Option<(&'static str, Option<i64>)>; 3] = [None; 3];
    if st.hook.call_pending {
        // A vararg function's call event comes after its VARARGPREP.
        if proto.is_vararg && pc == 0 {
            return Ok(false);
        }
        st.hook.call_pending = false;
        st.hook.old_pc = pc;
        if st.hook.mask & MASK_CALL != 0 {
            let tail = st.frames[fi].tail;
            events[0] = Some((if tail { "tail call" } else { "call" }, None));
        }
    }
    if st.hook.mask & MASK_COUNT != 0 {
        st.hook.count = st.hook.count.saturating_sub(1);
        if st.hook.count == 0 {
            st.hook.count = st.hook.base_count;
            events[1] = Some(("count", None));
        }
    }
    if st.hook.mask & MASK_LINE != 0 {
        let lines = &proto.raw.line_info;
        let old = if st.hook.old_pc < lines.len() {
            st.hook.old_pc
        } else {
            0
        };
        if pc <= old || lines.get(old) != lines.get(pc) {
            let line = lines.get(pc).map_or(-1, |&l| l as i64);
            events[2] = Some(("line", Some(line)));
        }
        st.hook.old_pc = pc;
    }
    if events.iter().all(Option::is_none) {
        return Ok(false);
    }
    // The hooked function's current instruction is `pc` while its hooks run.
    st.frames[fi].pc = pc + 1;
    for (event, line) in events.into_iter().flatten() {
        if let Err(e) = call_hook(ctx, thread, st, event, line) {
            st.frames[fi].pc = pc;
            return Err(e);
        }
        if !st.hook.active() {
            break;
        }
    }
    st.frames[fi].pc = pc;
    st.hook.traced = st.hook.active();
    Ok(true)
}

/// The return event of the Lua frame on top (its results are in place, its to-be-closed
/// variables closed).
pub(crate) fn on_return<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
) -> Result<(), Error<'gc>> {
    if st.hook.wants(MASK_RETURN) {
        call_hook(ctx, thread, st, "return", None)?;
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

/// The call or return event of a native function: a stand-in frame shows it to the hook.
pub(crate) fn native_event<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    name: &'static str,
    event: &'static str,
) -> Result<(), Error<'gc>> {
    let depth = st.frames.len();
    super::call::push_native_frame(st, name);
    let r = call_hook(ctx, thread, st, event, None);
    st.frames.truncate(depth);
    r
}

/// Makes the innermost running thread stop at its next instruction with an "interrupted!"
/// error (C Lua's `lstop` hook, which `lua.c` sets on a SIGINT).
pub(crate) fn interrupt(ctx: Context<'_>) {
    let th = ctx
        .state()
        .running
        .borrow()
        .last()
        .copied()
        .unwrap_or(ctx.state().main_thread);
    if let Some(mut st) = th.try_state_mut(ctx.mutation()) {
        let stop = ctx.native("interrupt", stop);
        st.hook = Hook::new(stop, MASK_CALL | MASK_RETURN | MASK_LINE, 1);
    }
}

/// The interrupting hook: removes itself and raises the error.
fn stop<'gc>(call: &mut super::NativeCall<'gc, '_>) -> Result<super::Action<'gc>, Error<'gc>> {
    call.thread_state().hook = Hook::default();
    Err(call.error("interrupted!"))
}
