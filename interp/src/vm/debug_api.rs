//! The debug interface for library code (C Lua's `lua_getinfo`, `lua_getlocal`,
//! `lua_setlocal`, `lua_getupvalue`, `lua_sethook`...): what `debug` needs, without handing
//! out a thread's frames or stack.
//!
//! Every query takes the running call and a target: `None` for the thread that runs the call
//! (levels counted from the calling function: level 0 is the native function asking), or
//! another thread (suspended, normal or not started; its level 0 is the yield it waits in).
//! A thread whose state is borrowed (one that runs a nested call) answers as having no
//! levels.

use super::debug::{self as dbg, FunctionInfo};
use super::hooks::Hook;
use crate::closure::Closure;
use crate::native_call::NativeCall;
use crate::thread::{Thread, ThreadState};
use crate::value::Value;

/// A level past the end of the stack (the debug library's "level out of range").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelOutOfRange;

/// A thread that runs a nested call: its state cannot be changed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadBusy;

/// Information on the function running `level` levels up (`lua_getinfo` with a level) and
/// the function itself (nil for a level without one). `None`: no such level.
pub fn stack_info<'gc>(
    call: &mut NativeCall<'gc, '_>,
    target: Option<Thread<'gc>>,
    level: usize,
) -> Option<(FunctionInfo, Value<'gc>)> {
    match target {
        Some(t) => {
            let st = t.try_state_mut(call.ctx.mutation())?;
            dbg::coroutine_frame_info(&st, level).map(|(i, f)| (i, f.unwrap_or_default()))
        }
        None => {
            let st = call.thread_state();
            let info = dbg::frame_info(st, level)?;
            Some((info, dbg::frame_function(st, level).unwrap_or_default()))
        }
    }
}

/// `(ftransfer, ntransfer)` of the running thread's frame `level` levels up: the values its
/// call or return hook sees (zeros otherwise).
pub fn transfer(call: &mut NativeCall<'_, '_>, level: usize) -> (usize, usize) {
    dbg::frame_transfer(call.thread_state(), level)
}

/// The traceback of `target` from `level` (`luaL_traceback`), starting with
/// "stack traceback:".
pub fn traceback<'gc>(
    call: &mut NativeCall<'gc, '_>,
    target: Option<Thread<'gc>>,
    level: usize,
) -> String {
    match target {
        Some(t) => match t.try_state_mut(call.ctx.mutation()) {
            Some(st) => dbg::coroutine_traceback(call.ctx, &st, level),
            None => "stack traceback:".to_string(),
        },
        None => dbg::traceback(call, level),
    }
}

/// The position prefix (`source:line: `) of the running thread's function `level` levels up,
/// or empty (`luaL_where`).
pub fn position<'gc>(call: &mut NativeCall<'gc, '_>, level: usize) -> Vec<u8> {
    let ctx = call.ctx;
    dbg::where_(ctx, call.thread_state(), level)
}

/// The name and value of local `n` of the function `level` levels up (`lua_getlocal`):
/// `Ok(None)` if it has no such local, an error if there is no such level.
pub fn local<'gc>(
    call: &mut NativeCall<'gc, '_>,
    target: Option<Thread<'gc>>,
    level: i64,
    n: i64,
) -> Result<Option<(Vec<u8>, Value<'gc>)>, LevelOutOfRange> {
    with_local(call, target, level, n, |st, slot| st.stack[slot])
}

/// Sets local `n` of the function `level` levels up to `v` (`lua_setlocal`); its name, as
/// [`local`] answers.
pub fn set_local<'gc>(
    call: &mut NativeCall<'gc, '_>,
    target: Option<Thread<'gc>>,
    level: i64,
    n: i64,
    v: Value<'gc>,
) -> Result<Option<Vec<u8>>, LevelOutOfRange> {
    let r = with_local(call, target, level, n, |st, slot| {
        st.stack[slot] = v;
        v
    });
    r.map(|found| found.map(|(name, _)| name))
}

/// Finds local `n` of the frame at `level` and applies `f` to its slot.
fn with_local<'gc>(
    call: &mut NativeCall<'gc, '_>,
    target: Option<Thread<'gc>>,
    level: i64,
    n: i64,
    f: impl FnOnce(&mut ThreadState<'gc>, usize) -> Value<'gc>,
) -> Result<Option<(Vec<u8>, Value<'gc>)>, LevelOutOfRange> {
    if level < 0 {
        return Err(LevelOutOfRange);
    }
    let apply = |st: &mut ThreadState<'gc>, level: usize, top: usize| {
        if level > dbg::stack_levels(st) {
            return Err(LevelOutOfRange);
        }
        Ok(dbg::frame_local(st, level, n, top).map(|(name, slot)| (name, f(st, slot))))
    };
    match target {
        None => {
            if level == 0 {
                // The native function asking: its arguments are its C temporaries.
                let i = n.wrapping_sub(1) as usize;
                let found = (n >= 1 && i < call.nargs()).then(|| call.arg(i));
                return Ok(found.map(|v| (b"(C temporary)".to_vec(), v)));
            }
            let top = call.func_slot();
            apply(call.thread_state(), level as usize, top)
        }
        Some(t) => match t.try_state_mut(call.ctx.mutation()) {
            Some(mut st) => {
                if level == 0 {
                    return Ok(None); // the yield it waits in
                }
                let top = st.pending.map_or(st.top, |p| p.func);
                apply(&mut st, level as usize, top)
            }
            None => Err(LevelOutOfRange),
        },
    }
}

/// The value of upvalue `i` of `c` (`lua_getupvalue`; `i` must be below
/// [`Closure::num_upvalues`]), wherever it lives: closed, or open on a thread's stack (read
/// as the VM's `GETUPVAL` reads it).
pub fn upvalue<'gc>(call: &NativeCall<'gc, '_>, c: Closure<'gc>, i: usize) -> Value<'gc> {
    super::call::upvalue_get(c.upvalue(i).get(), call.thread, &call.st.stack)
}

/// Sets upvalue `i` of `c` to `v` (`lua_setupvalue`; `i` below [`Closure::num_upvalues`]),
/// as the VM's `SETUPVAL` does.
pub fn set_upvalue<'gc>(call: &mut NativeCall<'gc, '_>, c: Closure<'gc>, i: usize, v: Value<'gc>) {
    super::ops::upvalue_set(call.ctx, c.upvalue(i), call.thread, call.st, v);
}

/// The hook of `target` (`lua_gethook`); none for a thread whose state is borrowed.
pub fn hook<'gc>(call: &mut NativeCall<'gc, '_>, target: Option<Thread<'gc>>) -> Hook<'gc> {
    match target {
        None => call.thread_state().hook,
        Some(t) => match t.try_state_mut(call.ctx.mutation()) {
            Some(st) => st.hook,
            None => Hook::default(),
        },
    }
}

/// Sets the hook of `target` (`lua_sethook`); an error for a thread whose state is
/// borrowed (a coroutine running a nested call).
pub fn set_hook<'gc>(
    call: &mut NativeCall<'gc, '_>,
    target: Option<Thread<'gc>>,
    hook: Hook<'gc>,
) -> Result<(), ThreadBusy> {
    match target {
        None => call.thread_state().hook.replace(hook),
        Some(t) => match t.try_state_mut(call.ctx.mutation()) {
            Some(mut st) => st.hook.replace(hook),
            None => return Err(ThreadBusy),
        },
    }
    Ok(())
}
