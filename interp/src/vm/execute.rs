//! The instruction loop and the drivers that switch between coroutines.

use gc_arena::Gc;

use crate::number;
use crate::opcode::{OpCode, MAXARG_C};
use crate::runtime::Context;
use crate::thread::{MetaExit, Resumption, ReturnTo, Thread, ThreadState};
use crate::value::{Table, Value};

use super::arith::{arith_numbers, primitive_less};
use super::call::{
    complete_call, error_msg, precall, throw, upvalue_get, vararg_overflow, Flow, Inner,
};
use super::debug;
use super::meta::{tm_of, tm_of_table, Metamethod};
use super::ops::*;

/// What a native metamethod or an interrupted OP_CONCAT left to do at the next reload
/// (rare, so kept off the reload path): the exit to take, if the loop must leave.
#[cold]
fn finish_pending_op<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    floor: usize,
) -> Option<Inner<'gc>> {
    match std::mem::take(&mut st.resumption) {
        Resumption::Run => None,
        Resumption::Leave(x) => Some(match x {
            MetaExit::Host => Inner::Host,
            MetaExit::Yield => Inner::Yield,
            MetaExit::Resume(co) => Inner::Resume(co),
        }),
        Resumption::Unwind => match super::call::resume_unwind(ctx, thread, st) {
            Ok(()) => None,
            Err(e) => throw(ctx, thread, st, e, floor).err().map(Inner::Error),
        },
        // Unless its frame was unwound by an error.
        Resumption::Concat(c) if c.frames == st.frames.len() => {
            match concat(ctx, thread, st, c.first, c.n) {
                Ok(()) => None,
                Err(e) => throw(ctx, thread, st, e, floor).err().map(Inner::Error),
            }
        }
        Resumption::Concat(_) => None,
    }
}

/// Largest size OP_NEWTABLE preallocates (larger constructors grow as they are filled).
const MAX_TABLE_HINT: usize = 1 << 16;

/// How far past its budget a step may run before a call or slow path ends it (see
/// `'reload` in `execute`).
const RELOAD_FUEL_SLACK: i64 = 256;

/// Runs Lua frames of one thread until something needs the driver.
pub(crate) fn execute<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    floor: usize,
    fuel: &mut i64,
) -> Inner<'gc> {
    loop {
        let r = if st.hook.active() {
            run::<true>(ctx, thread, st, floor, fuel)
        } else {
            run::<false>(ctx, thread, st, floor, fuel)
        };
        match r {
            Inner::HookChanged => continue,
            x => return x,
        }
    }
}

// The instruction loop's macros (as `lvm.c` defines its own before `luaV_execute`). Each
// names the loop's locals it reads or writes: `regs` (the running frame's registers), `k`
// (its constants), `pc`, `fi` (its index in `st.frames`), and for the ones that raise or
// reload, the loop's label and `ctx, thread, st, floor`.

/// Register `n`, copied out whole: matching on a register in place reads tag and payload as
/// two 8-byte loads, and one 16-byte load of a register the previous instruction wrote with
/// two 8-byte stores stalls (store forwarding fails), as loops do with their control variable.
macro_rules! reg {
    ($regs:ident, $n:expr) => {
        // SAFETY: `$regs` covers the running frame's registers (see `run`).
        unsafe { Value::read_split($regs.add($n as usize)) }
    };
}

/// A reference to register `n`.
macro_rules! reg_ref {
    ($regs:ident, $n:expr) => {
        // SAFETY: as for `reg!`.
        unsafe { &*$regs.add($n as usize) }
    };
}

/// Writes register `n` as two 8-byte stores (see `Value::write_split`).
macro_rules! set_reg {
    ($regs:ident, $n:expr, $v:expr) => {{
        let v = $v;
        // SAFETY: as for `reg!`.
        unsafe { Value::write_split($regs.add($n as usize), v) }
    }};
}

/// Re-derives `regs` after the stack may have moved.
macro_rules! refresh_regs {
    ($regs:ident, $st:ident, $base:ident) => {
        // SAFETY: as for `regs` in `run`.
        $regs = unsafe { $st.stack.as_mut_ptr().add($base) }
    };
}

/// Operand C of `i` as a constant (its k bit) or a register.
macro_rules! rk {
    ($regs:ident, $k:ident, $i:expr) => {
        if $i.k() {
            $k[$i.c() as usize]
        } else {
            reg!($regs, $i.c())
        }
    };
}

/// Saves `pc` in the running frame (before anything that may read it: errors, calls).
macro_rules! save_pc {
    ($st:ident, $fi:ident, $pc:ident) => {
        $st.frames[$fi].pc = $pc
    };
}

/// Switches the loop's locals to the Lua frame now on top of `st.frames`, without the
/// checks of `'reload` (fast Lua->Lua calls and returns). The caller guarantees that the top
/// frame is a Lua frame whose registers the stack covers.
macro_rules! enter_top_frame {
    ($st:ident, $fi:ident, $closure:ident, $base:ident, $pc:ident, $frame_func:ident,
     $proto:ident, $code:ident, $k:ident, $regs:ident) => {{
        $fi = $st.frames.len() - 1;
        let f = &$st.frames[$fi];
        let Some(c) = f.closure else { unreachable!() };
        $closure = c;
        $base = f.base;
        $pc = f.pc;
        $frame_func = f.func;
        $proto = Gc::as_ref($closure.proto());
        $code = &$proto.code;
        $k = &$proto.constants;
        debug_assert!($st.stack.len() >= $base + $proto.max_stack);
        // SAFETY: as for `regs` in `run`.
        $regs = unsafe { $st.stack.as_mut_ptr().add($base) };
    }};
}

/// Unwinds error `e` to its handler and reloads, or leaves the loop with it (the running
/// frame's `pc` is saved).
macro_rules! unwind {
    ($l:lifetime, $ctx:ident, $thread:ident, $st:ident, $floor:ident; $e:expr) => {
        match throw($ctx, $thread, $st, $e, $floor) {
            Ok(()) => continue $l,
            Err(e) => return Inner::Error(e),
        }
    };
}

/// Raises error `e` at `pc`: unwinds to its handler and reloads, or leaves the loop with it.
macro_rules! raise {
    ($l:lifetime, $ctx:ident, $thread:ident, $st:ident, $floor:ident, $fi:ident, $pc:ident;
     $e:expr) => {{
        $st.frames[$fi].pc = $pc;
        let e = $e;
        unwind!($l, $ctx, $thread, $st, $floor; e)
    }};
}

/// Runs slow path `e` (a `Result<(), Error>`) at `pc`, then reloads the top frame.
macro_rules! slow {
    ($l:lifetime, $ctx:ident, $thread:ident, $st:ident, $floor:ident, $fi:ident, $pc:ident;
     $e:expr) => {{
        $st.frames[$fi].pc = $pc;
        match $e {
            Ok(()) => continue $l,
            Err(e) => unwind!($l, $ctx, $thread, $st, $floor; e),
        }
    }};
}

/// Runs slow path `e` (a `Result<bool, Error>`) at `pc`; reloads if it says so.
macro_rules! maybe_reload {
    ($l:lifetime, $ctx:ident, $thread:ident, $st:ident, $floor:ident, $fi:ident, $pc:ident;
     $e:expr) => {{
        $st.frames[$fi].pc = $pc;
        match $e {
            Ok(false) => {}
            Ok(true) => continue $l,
            Err(e) => unwind!($l, $ctx, $thread, $st, $floor; e),
        }
    }};
}

/// An arithmetic instruction's fast path on two numbers: the result in R[A], skipping the
/// OP_MMBIN that follows; nothing for other operands.
macro_rules! arith_fast {
    ($regs:ident, $pc:ident, $i:expr, $a:expr, $b:expr, $iop:expr, $fop:expr) => {{
        let (x, y) = ($a, $b);
        match (x, y) {
            (Value::Integer(p), Value::Integer(q)) => {
                set_reg!($regs, $i.a(), Value::Integer($iop(p, q)));
                $pc += 1;
            }
            (Value::Number(p), Value::Number(q)) => {
                set_reg!($regs, $i.a(), Value::Number($fop(p, q)));
                $pc += 1;
            }
            (Value::Integer(p), Value::Number(q)) => {
                set_reg!($regs, $i.a(), Value::Number($fop(p as f64, q)));
                $pc += 1;
            }
            (Value::Number(p), Value::Integer(q)) => {
                set_reg!($regs, $i.a(), Value::Number($fop(p, q as f64)));
                $pc += 1;
            }
            _ => {}
        }
    }};
}

/// Arithmetic `op` on two numbers through `arith_numbers` (its errors raised), skipping the
/// OP_MMBIN that follows; nothing for other operands.
macro_rules! arith_general {
    ($l:lifetime, $ctx:ident, $thread:ident, $st:ident, $floor:ident, $fi:ident, $pc:ident,
     $regs:ident; $i:expr, $op:expr, $a:expr, $b:expr) => {{
        let (x, y) = ($a, $b);
        if let (Some(p), Some(q)) = (num_of(x), num_of(y)) {
            match arith_numbers($op, p, q) {
                Ok(r) => {
                    set_reg!($regs, $i.a(), Value::from_number(r));
                    $pc += 1;
                }
                Err(e) => raise!($l, $ctx, $thread, $st, $floor, $fi, $pc;
                    arith_error($ctx, $st, e, x, y, None)),
            }
        }
    }};
}

/// A bitwise instruction on two integers (or floats with an integer value), skipping the
/// OP_MMBIN that follows; nothing for other operands.
macro_rules! bitwise {
    ($regs:ident, $pc:ident, $i:expr, $a:expr, $b:expr, $f:expr) => {{
        if let (Value::Integer(p), Value::Integer(q)) = ($a, $b) {
            set_reg!($regs, $i.a(), Value::Integer($f(p, q)));
            $pc += 1;
        } else if let (Some(p), Some(q)) = (int_of($a), int_of($b)) {
            set_reg!($regs, $i.a(), Value::Integer($f(p, q)));
            $pc += 1;
        }
    }};
}

/// A conditional jump: skips the next instruction (the jump) unless `cond` matches k.
macro_rules! cond_jump {
    ($pc:ident, $i:expr, $cond:expr) => {{
        if $cond != $i.k() {
            $pc += 1;
        }
    }};
}

/// The instruction loop; `HOOKED` traces events for the thread's debug hook. Returns
/// `Inner::HookChanged` when the hook was set or removed (run the other copy).
fn run<'gc, const HOOKED: bool>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    floor: usize,
    fuel: &mut i64,
) -> Inner<'gc> {
    let mc = ctx.mutation();
    'reload: loop {
        if st.hook.active() != HOOKED {
            return Inner::HookChanged;
        }
        // Calls and slow paths charge fuel here but end the step only well past the budget:
        // loops end their steps at their backward jumps, statement boundaries where dead
        // registers can be cleared before the collector runs (`clear_dead_registers`).
        // Recursion without loops still stops, `RELOAD_FUEL_SLACK` units late at most.
        *fuel -= 1 + ctx.state().fuel.take_charged();
        if *fuel < -RELOAD_FUEL_SLACK || (ctx.state().gc.requested.get() && *fuel < i64::MAX / 4) {
            return Inner::OutOfFuel;
        }
        if !st.resumption.is_run() {
            if let Some(x) = finish_pending_op(ctx, thread, st, floor) {
                return x;
            }
            continue 'reload;
        }
        let fi = match st.frames.len() {
            0 => return Inner::Returned,
            // The frames of a nested call are gone (its first frame was a native's, which
            // returned through the frames it pushed: `pcall`, a resume, a host function).
            n if n <= floor => return Inner::BoundaryReturn,
            n => n - 1,
        };
        if ctx.state().memory.exceeded() {
            // As C Lua's allocator does before it fails, collect everything and look again:
            // the step ends here for a full collection (not in a nested call, which cannot
            // leave the step), and resumes at this point.
            let tried = ctx.state().gc.emergency.replace(true);
            ctx.request_gc();
            if !tried && *fuel < i64::MAX / 4 {
                return Inner::OutOfFuel;
            }
            ctx.state().gc.emergency.set(false);
            let e = super::call::memory_error(ctx);
            match throw(ctx, thread, st, e, floor) {
                Ok(()) => continue 'reload,
                Err(e) => return Inner::Error(e),
            }
        }
        let mut fi = fi;
        let (mut closure, mut base, mut pc, mut frame_func) = {
            let f = &st.frames[fi];
            let Some(c) = f.closure else {
                return Inner::Error(error_msg(ctx, b"internal error: protected frame on top"));
            };
            (c, f.base, f.pc, f.func)
        };
        let mut proto = Gc::as_ref(closure.proto());
        let mut code: &[crate::opcode::Instruction] = &proto.code;
        let mut k: &[Value<'gc>] = &proto.constants;
        debug_assert!(st.stack.len() >= base + proto.max_stack);
        // SAFETY: `precall`/`complete_call` guarantee `stack.len() >= base + max_stack` for the
        // top Lua frame, and the compiler never emits a register operand >= max_stack. The
        // pointer is refreshed (by `continue 'reload` or `enter_top_frame!`) after anything
        // that can reallocate the stack.
        let mut regs: *mut Value<'gc> = unsafe { st.stack.as_mut_ptr().add(base) };

        loop {
            if HOOKED {
                match super::hooks::before_instruction(ctx, thread, st, fi, pc) {
                    Ok(false) => {}
                    Ok(true) => continue 'reload,
                    Err(e) => {
                        pc += 1;
                        raise!('reload, ctx, thread, st, floor, fi, pc; e)
                    }
                }
            }
            debug_assert!(pc < code.len());
            // SAFETY: loaded code always ends with a return and every jump stays inside the
            // code (checked by `FunctionProto::load`), so `pc` is in bounds here.
            let i = unsafe { *code.get_unchecked(pc) };
            pc += 1;
            let op = i.opcode_verified();
            match op {
                OpCode::Move => set_reg!(regs, i.a(), reg!(regs, i.b())),
                OpCode::LoadI => set_reg!(regs, i.a(), Value::Integer(i.sbx() as i64)),
                OpCode::LoadF => set_reg!(regs, i.a(), Value::Number(i.sbx() as f64)),
                OpCode::LoadK => set_reg!(regs, i.a(), k[i.bx() as usize]),
                OpCode::LoadKX => {
                    set_reg!(regs, i.a(), k[code[pc].ax() as usize]);
                    pc += 1;
                }
                OpCode::LoadFalse => set_reg!(regs, i.a(), Value::Boolean(false)),
                OpCode::LFalseSkip => {
                    set_reg!(regs, i.a(), Value::Boolean(false));
                    pc += 1;
                }
                OpCode::LoadTrue => set_reg!(regs, i.a(), Value::Boolean(true)),
                OpCode::LoadNil => {
                    for r in i.a()..=i.a() + i.b() {
                        set_reg!(regs, r, Value::Nil);
                    }
                }
                OpCode::GetUpval => {
                    let uv = closure.upvalue(i.b() as usize);
                    let v = upvalue_get(uv.get(), thread, &st.stack);
                    set_reg!(regs, i.a(), v);
                }
                OpCode::SetUpval => {
                    let uv = closure.upvalue(i.b() as usize);
                    let v = reg!(regs, i.a());
                    upvalue_set(ctx, uv, thread, st, v);
                    refresh_regs!(regs, st, base);
                }
                OpCode::GetTabUp => {
                    let uv = closure.upvalue(i.b() as usize);
                    let t = upvalue_get(uv.get(), thread, &st.stack);
                    let key = k[i.c() as usize];
                    if let (Value::Table(tab), Value::String(s)) = (t, key) {
                        let v = tab.get_str(s);
                        if !v.is_nil() || tab.metatable().is_none() {
                            set_reg!(regs, i.a(), v);
                            continue;
                        }
                    }
                    let dst = base + i.a() as usize;
                    maybe_reload!('reload, ctx, thread, st, floor, fi, pc; index_slow(
                        ctx,
                        thread,
                        st,
                        t,
                        key,
                        dst,
                        Some(IndexedBy::Upvalue(i.b()))
                    ));
                }
                OpCode::GetTable => {
                    if let Value::Table(tab) = *reg_ref!(regs, i.b()) {
                        let v = match *reg_ref!(regs, i.c()) {
                            Value::Integer(n) => tab.get_int(n),
                            key => tab.get(key),
                        };
                        if !v.is_nil() || tab.metatable().is_none() {
                            set_reg!(regs, i.a(), v);
                            continue;
                        }
                    }
                    let (t, key) = (reg!(regs, i.b()), reg!(regs, i.c()));
                    let dst = base + i.a() as usize;
                    maybe_reload!('reload, ctx, thread, st, floor, fi, pc; index_slow(
                        ctx,
                        thread,
                        st,
                        t,
                        key,
                        dst,
                        Some(IndexedBy::Register(i.b()))
                    ));
                }
                OpCode::GetI => {
                    if let Value::Table(tab) = *reg_ref!(regs, i.b()) {
                        let v = tab.get_int(i.c() as i64);
                        if !v.is_nil() || tab.metatable().is_none() {
                            set_reg!(regs, i.a(), v);
                            continue;
                        }
                    }
                    let dst = base + i.a() as usize;
                    let t = reg!(regs, i.b());
                    let key = Value::Integer(i.c() as i64);
                    maybe_reload!('reload, ctx, thread, st, floor, fi, pc; index_slow(
                        ctx,
                        thread,
                        st,
                        t,
                        key,
                        dst,
                        Some(IndexedBy::Register(i.b()))
                    ));
                }
                OpCode::GetField => {
                    let key = k[i.c() as usize];
                    if let (Value::Table(tab), Value::String(s)) = (*reg_ref!(regs, i.b()), key) {
                        let (v, mt) = tab.get_str_and_metatable(s);
                        if !v.is_nil() || mt.is_none() {
                            set_reg!(regs, i.a(), v);
                            continue;
                        }
                        if let Some(r) = index_via_tables(ctx, mt.unwrap(), s) {
                            set_reg!(regs, i.a(), r);
                            continue;
                        }
                    }
                    let t = reg!(regs, i.b());
                    let dst = base + i.a() as usize;
                    maybe_reload!('reload, ctx, thread, st, floor, fi, pc; index_slow(
                        ctx,
                        thread,
                        st,
                        t,
                        key,
                        dst,
                        Some(IndexedBy::Register(i.b()))
                    ));
                }
                OpCode::SetTabUp => {
                    let uv = closure.upvalue(i.a() as usize);
                    let t = upvalue_get(uv.get(), thread, &st.stack);
                    let key = k[i.b() as usize];
                    let v = rk!(regs, k, i);
                    if let (Value::Table(tab), Value::String(s)) = (t, key) {
                        if fast_set_str(ctx, tab, s, v) {
                            continue;
                        }
                    }
                    maybe_reload!('reload, ctx, thread, st, floor, fi, pc; newindex_slow(
                        ctx,
                        thread,
                        st,
                        t,
                        key,
                        v,
                        Some(IndexedBy::Upvalue(i.a()))
                    ));
                }
                OpCode::SetTable => {
                    let v = rk!(regs, k, i);
                    if let (Value::Table(tab), Value::Integer(n)) =
                        (*reg_ref!(regs, i.a()), *reg_ref!(regs, i.b()))
                    {
                        if fast_set_int(ctx, tab, n, v) {
                            continue;
                        }
                    }
                    let (t, key) = (reg!(regs, i.a()), reg!(regs, i.b()));
                    maybe_reload!('reload, ctx, thread, st, floor, fi, pc; newindex_slow(
                        ctx,
                        thread,
                        st,
                        t,
                        key,
                        v,
                        Some(IndexedBy::Register(i.a()))
                    ));
                }
                OpCode::SetI => {
                    let v = rk!(regs, k, i);
                    if let Value::Table(tab) = *reg_ref!(regs, i.a()) {
                        if fast_set_int(ctx, tab, i.b() as i64, v) {
                            continue;
                        }
                    }
                    let t = reg!(regs, i.a());
                    let key = Value::Integer(i.b() as i64);
                    maybe_reload!('reload, ctx, thread, st, floor, fi, pc; newindex_slow(
                        ctx,
                        thread,
                        st,
                        t,
                        key,
                        v,
                        Some(IndexedBy::Register(i.a()))
                    ));
                }
                OpCode::SetField => {
                    let key = k[i.b() as usize];
                    let v = rk!(regs, k, i);
                    if let (Value::Table(tab), Value::String(s)) = (*reg_ref!(regs, i.a()), key) {
                        if fast_set_str(ctx, tab, s, v) {
                            continue;
                        }
                    }
                    let t = reg!(regs, i.a());
                    maybe_reload!('reload, ctx, thread, st, floor, fi, pc; newindex_slow(
                        ctx,
                        thread,
                        st,
                        t,
                        key,
                        v,
                        Some(IndexedBy::Register(i.a()))
                    ));
                }
                OpCode::NewTable => {
                    let mut narr = i.c() as usize;
                    if i.k() {
                        narr += code[pc].ax() as usize * (MAXARG_C as usize + 1);
                    }
                    // Sizes are hints: a binary chunk may ask for any size, so cap them.
                    let narr = narr.min(MAX_TABLE_HINT);
                    let nhash = if i.b() > 0 {
                        1usize << (i.b() - 1).min(MAX_TABLE_HINT.ilog2())
                    } else {
                        0
                    };
                    pc += 1;
                    // Nor may they take the runtime past its memory limit: without room, the
                    // table starts empty and grows (and is charged) as it fills.
                    let bytes = narr * 16 + nhash * crate::value::NODE_SIZE;
                    let (narr, nhash) = if bytes <= 4096 || crate::memory::allows(bytes) {
                        (narr, nhash)
                    } else {
                        (0, 0)
                    };
                    set_reg!(
                        regs,
                        i.a(),
                        Value::Table(Table::with_capacity(mc, narr, nhash))
                    );
                }
                OpCode::Self_ => {
                    let t = reg!(regs, i.b());
                    let key = rk!(regs, k, i);
                    set_reg!(regs, i.a() + 1, t);
                    if let (Value::Table(tab), Value::String(s)) = (t, key) {
                        let (v, mt) = tab.get_str_and_metatable(s);
                        if !v.is_nil() || mt.is_none() {
                            set_reg!(regs, i.a(), v);
                            continue;
                        }
                        if let Some(r) = index_via_tables(ctx, mt.unwrap(), s) {
                            set_reg!(regs, i.a(), r);
                            continue;
                        }
                    }
                    let dst = base + i.a() as usize;
                    maybe_reload!('reload, ctx, thread, st, floor, fi, pc; index_slow(
                        ctx,
                        thread,
                        st,
                        t,
                        key,
                        dst,
                        Some(IndexedBy::Register(i.b()))
                    ));
                }
                OpCode::AddI => {
                    let x = reg!(regs, i.b());
                    let c = i.sc() as i64;
                    match x {
                        Value::Integer(p) => {
                            set_reg!(regs, i.a(), Value::Integer(p.wrapping_add(c)));
                            pc += 1;
                        }
                        Value::Number(p) => {
                            set_reg!(regs, i.a(), Value::Number(p + c as f64));
                            pc += 1;
                        }
                        _ => {}
                    }
                }
                OpCode::AddK => arith_fast!(
                    regs,
                    pc,
                    i,
                    reg!(regs, i.b()),
                    k[i.c() as usize],
                    i64::wrapping_add,
                    |p: f64, q: f64| p + q
                ),
                OpCode::SubK => arith_fast!(
                    regs,
                    pc,
                    i,
                    reg!(regs, i.b()),
                    k[i.c() as usize],
                    i64::wrapping_sub,
                    |p: f64, q: f64| p - q
                ),
                OpCode::MulK => arith_fast!(
                    regs,
                    pc,
                    i,
                    reg!(regs, i.b()),
                    k[i.c() as usize],
                    i64::wrapping_mul,
                    crate::number::float_mul
                ),
                OpCode::ModK => {
                    arith_general!('reload, ctx, thread, st, floor, fi, pc, regs; i, Metamethod::Mod, reg!(regs, i.b()), k[i.c() as usize])
                }
                OpCode::PowK => {
                    arith_general!('reload, ctx, thread, st, floor, fi, pc, regs; i, Metamethod::Pow, reg!(regs, i.b()), k[i.c() as usize])
                }
                OpCode::DivK => {
                    arith_general!('reload, ctx, thread, st, floor, fi, pc, regs; i, Metamethod::Div, reg!(regs, i.b()), k[i.c() as usize])
                }
                OpCode::IDivK => {
                    arith_general!('reload, ctx, thread, st, floor, fi, pc, regs; i, Metamethod::IDiv, reg!(regs, i.b()), k[i.c() as usize])
                }
                OpCode::BAndK => {
                    bitwise!(
                        regs,
                        pc,
                        i,
                        reg!(regs, i.b()),
                        k[i.c() as usize],
                        |p: i64, q: i64| p & q
                    )
                }
                OpCode::BOrK => bitwise!(
                    regs,
                    pc,
                    i,
                    reg!(regs, i.b()),
                    k[i.c() as usize],
                    |p: i64, q: i64| p | q
                ),
                OpCode::BXorK => {
                    bitwise!(
                        regs,
                        pc,
                        i,
                        reg!(regs, i.b()),
                        k[i.c() as usize],
                        |p: i64, q: i64| p ^ q
                    )
                }
                OpCode::ShrI => bitwise!(
                    regs,
                    pc,
                    i,
                    reg!(regs, i.b()),
                    Value::Integer(i.sc() as i64),
                    |p: i64, q: i64| number::shift_left(p, q.wrapping_neg())
                ),
                OpCode::ShlI => bitwise!(
                    regs,
                    pc,
                    i,
                    Value::Integer(i.sc() as i64),
                    reg!(regs, i.b()),
                    number::shift_left
                ),
                OpCode::Add => arith_fast!(
                    regs,
                    pc,
                    i,
                    reg!(regs, i.b()),
                    reg!(regs, i.c()),
                    i64::wrapping_add,
                    |p: f64, q: f64| p + q
                ),
                OpCode::Sub => arith_fast!(
                    regs,
                    pc,
                    i,
                    reg!(regs, i.b()),
                    reg!(regs, i.c()),
                    i64::wrapping_sub,
                    |p: f64, q: f64| p - q
                ),
                OpCode::Mul => arith_fast!(
                    regs,
                    pc,
                    i,
                    reg!(regs, i.b()),
                    reg!(regs, i.c()),
                    i64::wrapping_mul,
                    crate::number::float_mul
                ),
                OpCode::Mod => {
                    arith_general!('reload, ctx, thread, st, floor, fi, pc, regs; i, Metamethod::Mod, reg!(regs, i.b()), reg!(regs, i.c()))
                }
                OpCode::Pow => {
                    arith_general!('reload, ctx, thread, st, floor, fi, pc, regs; i, Metamethod::Pow, reg!(regs, i.b()), reg!(regs, i.c()))
                }
                OpCode::Div => {
                    arith_general!('reload, ctx, thread, st, floor, fi, pc, regs; i, Metamethod::Div, reg!(regs, i.b()), reg!(regs, i.c()))
                }
                OpCode::IDiv => {
                    arith_general!('reload, ctx, thread, st, floor, fi, pc, regs; i, Metamethod::IDiv, reg!(regs, i.b()), reg!(regs, i.c()))
                }
                OpCode::BAnd => bitwise!(
                    regs,
                    pc,
                    i,
                    reg!(regs, i.b()),
                    reg!(regs, i.c()),
                    |p: i64, q: i64| p & q
                ),
                OpCode::BOr => bitwise!(
                    regs,
                    pc,
                    i,
                    reg!(regs, i.b()),
                    reg!(regs, i.c()),
                    |p: i64, q: i64| p | q
                ),
                OpCode::BXor => bitwise!(
                    regs,
                    pc,
                    i,
                    reg!(regs, i.b()),
                    reg!(regs, i.c()),
                    |p: i64, q: i64| p ^ q
                ),
                OpCode::Shl => bitwise!(
                    regs,
                    pc,
                    i,
                    reg!(regs, i.b()),
                    reg!(regs, i.c()),
                    number::shift_left
                ),
                OpCode::Shr => bitwise!(
                    regs,
                    pc,
                    i,
                    reg!(regs, i.b()),
                    reg!(regs, i.c()),
                    |p: i64, q: i64| { number::shift_left(p, q.wrapping_neg()) }
                ),
                OpCode::MmBin | OpCode::MmBinI | OpCode::MmBinK => {
                    let prev = code[pc - 2];
                    let dst = base + prev.a() as usize;
                    let a = reg!(regs, i.a());
                    let b = match op {
                        OpCode::MmBin => reg!(regs, i.b()),
                        OpCode::MmBinI => Value::Integer(i.sb() as i64),
                        _ => k[i.b() as usize],
                    };
                    let (x, y) = if op != OpCode::MmBin && i.k() {
                        (b, a)
                    } else {
                        (a, b)
                    };
                    let tm = Metamethod::from_u32(i.c()).unwrap_or(Metamethod::Add);
                    slow!('reload, ctx, thread, st, floor, fi, pc; arith_meta(ctx, thread, st, tm, x, y, dst));
                }
                OpCode::Unm => {
                    let x = reg!(regs, i.b());
                    match x {
                        Value::Integer(p) => {
                            set_reg!(regs, i.a(), Value::Integer(p.wrapping_neg()))
                        }
                        Value::Number(p) => set_reg!(regs, i.a(), Value::Number(-p)),
                        _ => {
                            let dst = base + i.a() as usize;
                            slow!('reload, ctx, thread, st, floor, fi, pc; arith_meta(ctx, thread, st, Metamethod::Unm, x, x, dst));
                        }
                    }
                }
                OpCode::BNot => {
                    let x = reg!(regs, i.b());
                    match x {
                        Value::Integer(p) => set_reg!(regs, i.a(), Value::Integer(!p)),
                        _ => {
                            let dst = base + i.a() as usize;
                            slow!('reload, ctx, thread, st, floor, fi, pc; arith_meta(ctx, thread, st, Metamethod::BNot, x, x, dst));
                        }
                    }
                }
                OpCode::Not => {
                    set_reg!(regs, i.a(), Value::Boolean(!reg!(regs, i.b()).is_truthy()))
                }
                OpCode::Len => {
                    let x = reg!(regs, i.b());
                    match x {
                        Value::String(s) => set_reg!(regs, i.a(), Value::Integer(s.len() as i64)),
                        Value::Table(t)
                            if t.metatable().is_none_or(|mt| {
                                tm_of_table(ctx, mt, Metamethod::Len).is_nil()
                            }) =>
                        {
                            set_reg!(regs, i.a(), Value::Integer(t.length()))
                        }
                        _ => {
                            let dst = base + i.a() as usize;
                            slow!('reload, ctx, thread, st, floor, fi, pc; len_slow(ctx, thread, st, x, dst, i.b()));
                        }
                    }
                }
                OpCode::Concat => {
                    let first = base + i.a() as usize;
                    let n = i.b() as usize;
                    save_pc!(st, fi, pc);
                    if let Err(e) = concat(ctx, thread, st, first, n) {
                        raise!('reload, ctx, thread, st, floor, fi, pc; e);
                    }
                    // Building strings costs fuel by size, so allocation-heavy loops end their
                    // step (and let the collector run) as often as their size warrants.
                    if let Value::String(s) = st.stack[first] {
                        *fuel -= (s.len() / 64) as i64;
                    }
                    continue 'reload;
                }
                OpCode::Close => {
                    let level = base + i.a() as usize;
                    if st.tbc.last().is_none_or(|&t| t < level) {
                        st.close_upvalues(mc, level);
                        continue;
                    }
                    let top = st.top;
                    slow!('reload, ctx, thread, st, floor, fi, pc; close_next(ctx, thread, st, top));
                }
                OpCode::Tbc => {
                    let v = reg!(regs, i.a());
                    if v.is_truthy() && tm_of(ctx, v, Metamethod::Close).is_nil() {
                        raise!('reload, ctx, thread, st, floor, fi, pc; debug::tbc_error(ctx, st, i.a()));
                    }
                    if v.is_truthy() {
                        st.tbc.push(base + i.a() as usize);
                    }
                }
                OpCode::Jmp => {
                    let off = i.sj();
                    pc = (pc as isize + off as isize) as usize;
                    if off < 0 {
                        *fuel -= 1;
                        if *fuel < 0 {
                            save_pc!(st, fi, pc);
                            clear_dead_registers(st, base, proto, pc);
                            return Inner::OutOfFuel;
                        }
                    }
                }
                OpCode::Eq => {
                    let (x, y) = (reg!(regs, i.a()), reg!(regs, i.b()));
                    if x.raw_equals(y) {
                        cond_jump!(pc, i, true);
                    } else {
                        let mm = match (x, y) {
                            (Value::Table(_), Value::Table(_))
                            | (Value::UserData(_), Value::UserData(_)) => {
                                let m = tm_of(ctx, x, Metamethod::Eq);
                                if m.is_nil() {
                                    tm_of(ctx, y, Metamethod::Eq)
                                } else {
                                    m
                                }
                            }
                            _ => Value::Nil,
                        };
                        if mm.is_nil() {
                            cond_jump!(pc, i, false);
                        } else {
                            slow!('reload, ctx, thread, st, floor, fi, pc; call_compare(ctx, thread, st, mm, x, y));
                        }
                    }
                }
                OpCode::Lt | OpCode::Le => {
                    let (x, y) = (reg!(regs, i.a()), reg!(regs, i.b()));
                    let le = op == OpCode::Le;
                    match primitive_less(x, y, le) {
                        Some(r) => cond_jump!(pc, i, r),
                        None => {
                            slow!('reload, ctx, thread, st, floor, fi, pc; compare_meta(ctx, thread, st, x, y, le))
                        }
                    }
                }
                OpCode::EqK => {
                    let r = reg!(regs, i.a()).raw_equals(k[i.b() as usize]);
                    cond_jump!(pc, i, r);
                }
                OpCode::EqI => {
                    let r = match reg!(regs, i.a()) {
                        Value::Integer(p) => p == i.sb() as i64,
                        Value::Number(p) => p == i.sb() as f64,
                        _ => false,
                    };
                    cond_jump!(pc, i, r);
                }
                OpCode::LtI | OpCode::LeI | OpCode::GtI | OpCode::GeI => {
                    let x = reg!(regs, i.a());
                    let im = i.sb() as i64;
                    let r = match x {
                        Value::Integer(p) => Some(match op {
                            OpCode::LtI => p < im,
                            OpCode::LeI => p <= im,
                            OpCode::GtI => p > im,
                            _ => p >= im,
                        }),
                        Value::Number(p) => {
                            let q = im as f64;
                            Some(match op {
                                OpCode::LtI => p < q,
                                OpCode::LeI => p <= q,
                                OpCode::GtI => p > q,
                                _ => p >= q,
                            })
                        }
                        _ => None,
                    };
                    match r {
                        Some(r) => cond_jump!(pc, i, r),
                        None => {
                            let imv = if i.c() != 0 {
                                Value::Number(im as f64)
                            } else {
                                Value::Integer(im)
                            };
                            let (a, b, le) = match op {
                                OpCode::LtI => (x, imv, false),
                                OpCode::LeI => (x, imv, true),
                                OpCode::GtI => (imv, x, false),
                                _ => (imv, x, true),
                            };
                            slow!('reload, ctx, thread, st, floor, fi, pc; compare_meta(ctx, thread, st, a, b, le));
                        }
                    }
                }
                OpCode::Test => {
                    let r = reg!(regs, i.a()).is_truthy();
                    cond_jump!(pc, i, r);
                }
                OpCode::TestSet => {
                    let v = reg!(regs, i.b());
                    if v.is_truthy() != i.k() {
                        pc += 1;
                    } else {
                        set_reg!(regs, i.a(), v);
                    }
                }
                OpCode::Call => {
                    let func = base + i.a() as usize;
                    let nargs = if i.b() != 0 {
                        i.b() as usize - 1
                    } else {
                        st.top - func - 1
                    };
                    let nresults = i.c() as i32 - 1;
                    save_pc!(st, fi, pc);
                    if let Value::Closure(c) = reg!(regs, i.a()) {
                        let p = c.proto();
                        let nbase = func + 1;
                        let need = nbase + p.max_stack;
                        if !p.is_vararg
                            && !st.call_overflows(func, nargs, p.max_stack, 0)
                            && st.frames.len() < st.frame_cap.0
                        {
                            st.ensure_stack(need);
                            for j in nargs..p.num_params {
                                st.stack[nbase + j] = Value::Nil;
                            }
                            st.frames.push(crate::thread::Frame {
                                closure: Some(c),
                                func,
                                base: nbase,
                                pc: 0,
                                nresults,
                                nextra: 0,
                                ret: ReturnTo::Caller,
                                handler: None,
                                protected: false,
                                tail: false,
                                calling: false,
                                native: None,
                                cdepth: st.frames[fi].cdepth,
                            });
                            if HOOKED {
                                st.hook.entered_lua();
                            }
                            *fuel -= 1;
                            if *fuel < -RELOAD_FUEL_SLACK {
                                continue 'reload;
                            }
                            enter_top_frame!(
                                st, fi, closure, base, pc, frame_func, proto, code, k, regs
                            );
                            continue;
                        }
                    }
                    match precall(ctx, thread, st, func, nargs, nresults, ReturnTo::Caller) {
                        Ok(Flow::Reload) => continue 'reload,
                        Ok(Flow::Exit(x)) => return x,
                        Err(e) => raise!('reload, ctx, thread, st, floor, fi, pc; e),
                    }
                }
                OpCode::TailCall => {
                    let func = base + i.a() as usize;
                    let nargs = if i.b() != 0 {
                        i.b() as usize - 1
                    } else {
                        st.top - func - 1
                    };
                    save_pc!(st, fi, pc);
                    if i.k() {
                        st.close_upvalues(mc, base);
                    }
                    // Calling something whose `__call` chain does not end in a function:
                    // let precall raise the error with this frame (and its variable names).
                    let target = match st.stack[func] {
                        v if v.is_function() => Some(v),
                        v => call_target(ctx, v),
                    };
                    if target.is_none() {
                        match precall(ctx, thread, st, func, nargs, -1, ReturnTo::Caller) {
                            Ok(_) => continue 'reload,
                            Err(e) => raise!('reload, ctx, thread, st, floor, fi, pc; e),
                        }
                    }
                    // A native function (also through `__call`) is called normally, its
                    // frame kept (as C Lua's `luaD_pretailcall` does for C functions): errors
                    // then point at this line. The RETURN A 0 that the compiler emits after
                    // every TAILCALL returns its results.
                    if let Some(Value::Native(_)) = target {
                        match precall(ctx, thread, st, func, nargs, -1, ReturnTo::Caller) {
                            Ok(Flow::Reload) => continue 'reload,
                            Ok(Flow::Exit(x)) => return x,
                            Err(e) => raise!('reload, ctx, thread, st, floor, fi, pc; e),
                        }
                    }
                    let f = st.frames.pop().unwrap();
                    st.stack.copy_within(func..func + nargs + 1, f.func);
                    match precall(ctx, thread, st, f.func, nargs, f.nresults, f.ret) {
                        Ok(Flow::Reload) => {
                            if st.frames.len() == fi + 1 {
                                st.frames[fi].tail = true;
                            }
                            if st.frames.len() <= fi && f.ret == ReturnTo::Boundary {
                                return Inner::BoundaryReturn;
                            }
                            continue 'reload;
                        }
                        Ok(Flow::Exit(x)) => return x,
                        // The calling frame is gone (replaced by the tail call).
                        Err(e) => match throw(ctx, thread, st, e, floor) {
                            Ok(()) => continue 'reload,
                            Err(e) => return Inner::Error(e),
                        },
                    }
                }
                OpCode::Return | OpCode::Return0 | OpCode::Return1 => {
                    let first = base + i.a() as usize;
                    let n = match op {
                        OpCode::Return0 => 0,
                        OpCode::Return1 => 1,
                        _ if i.b() != 0 => i.b() as usize - 1,
                        _ => st.top - first,
                    };
                    save_pc!(st, fi, pc);
                    if op == OpCode::Return && i.k() {
                        if st.tbc.last().is_some_and(|&t| t >= base) {
                            // Each `__close` runs as a frame above the results; this
                            // instruction runs again when it returns.
                            slow!('reload, ctx, thread, st, floor, fi, pc; close_next(ctx, thread, st, first + n));
                        }
                        st.close_upvalues(mc, base);
                    }
                    if HOOKED && st.hook.wants(super::hooks::MASK_RETURN) {
                        if op != OpCode::Return {
                            st.top = first + n;
                        }
                        if let Err(e) = super::hooks::on_return(ctx, thread, st, first, n) {
                            raise!('reload, ctx, thread, st, floor, fi, pc; e);
                        }
                    }
                    let f = st.frames.pop().unwrap();
                    if HOOKED {
                        super::hooks::returned_to_caller(st);
                    }
                    if f.ret == ReturnTo::Caller
                        && f.nresults >= 0
                        && st.frames.last().is_some_and(|c| !c.protected && !c.calling)
                    {
                        // Fast path: a Lua caller wants a fixed number of results.
                        let want = f.nresults as usize;
                        let dst = f.func;
                        // A native called by the returning function may have shortened the
                        // stack below what the caller's registers need.
                        let caller = st.frames.last().unwrap();
                        let caller_is_lua = caller.closure.is_some();
                        if let Some(c) = caller.closure {
                            let need = caller.base + c.proto().max_stack;
                            st.ensure_stack(need);
                        }
                        debug_assert!(dst + want <= st.stack.len() && first + n <= st.stack.len());
                        // SAFETY: `dst + want` is within the caller's registers, which the stack
                        // now covers, and `first + n` within the returning frame's registers.
                        unsafe {
                            let sp = st.stack.as_mut_ptr();
                            for j in 0..want {
                                *sp.add(dst + j) = if j < n {
                                    *sp.add(first + j)
                                } else {
                                    Value::Nil
                                };
                            }
                        }
                        if caller_is_lua {
                            enter_top_frame!(
                                st, fi, closure, base, pc, frame_func, proto, code, k, regs
                            );
                            continue;
                        }
                        continue 'reload;
                    }
                    complete_call(st, f.func, first, n, f.nresults, f.ret);
                    if f.ret == ReturnTo::Boundary {
                        return Inner::BoundaryReturn;
                    }
                    continue 'reload;
                }
                OpCode::ForLoop => {
                    let a = i.a();
                    if let Value::Integer(step) = reg!(regs, a + 2) {
                        // FORPREP left integers in R[A] and R[A+1]; only a malformed
                        // binary chunk changes them inside the loop.
                        let (Value::Integer(count), Value::Integer(idx)) =
                            (reg!(regs, a + 1), reg!(regs, a))
                        else {
                            raise!('reload, ctx, thread, st, floor, fi, pc; debug::runtime_error(ctx, st, "'for' loop state corrupted"))
                        };
                        // The count is unsigned (C Lua's `lua_Unsigned count`): a loop
                        // over most of the integer range has a "negative" one.
                        if count != 0 {
                            let idx = idx.wrapping_add(step);
                            set_reg!(regs, a + 1, Value::Integer(count.wrapping_sub(1)));
                            set_reg!(regs, a, Value::Integer(idx));
                            set_reg!(regs, a + 3, Value::Integer(idx));
                            pc -= i.bx() as usize;
                        }
                    } else if let (Value::Number(step), Value::Number(limit), Value::Number(idx)) =
                        (reg!(regs, a + 2), reg!(regs, a + 1), reg!(regs, a))
                    {
                        let idx = idx + step;
                        if if step > 0.0 {
                            idx <= limit
                        } else {
                            limit <= idx
                        } {
                            set_reg!(regs, a, Value::Number(idx));
                            set_reg!(regs, a + 3, Value::Number(idx));
                            pc -= i.bx() as usize;
                        }
                    }
                    *fuel -= 1;
                    if *fuel < 0 {
                        save_pc!(st, fi, pc);
                        clear_dead_registers(st, base, proto, pc);
                        return Inner::OutOfFuel;
                    }
                }
                OpCode::ForPrep => {
                    let a = i.a();
                    match for_prep(ctx, reg!(regs, a), reg!(regs, a + 1), reg!(regs, a + 2)) {
                        Ok(Some((init, limit, step))) => {
                            set_reg!(regs, a, init);
                            set_reg!(regs, a + 1, limit);
                            set_reg!(regs, a + 2, step);
                            set_reg!(regs, a + 3, init);
                        }
                        Ok(None) => pc += i.bx() as usize + 1,
                        Err(msg) => {
                            raise!('reload, ctx, thread, st, floor, fi, pc; debug::runtime_error(ctx, st, &msg))
                        }
                    }
                }
                OpCode::TForPrep => {
                    let v = reg!(regs, i.a() + 3);
                    if v.is_truthy() {
                        if tm_of(ctx, v, Metamethod::Close).is_nil() {
                            raise!('reload, ctx, thread, st, floor, fi, pc; debug::tbc_error(ctx, st, i.a() + 3));
                        }
                        st.tbc.push(base + i.a() as usize + 3);
                    }
                    pc += i.bx() as usize;
                }
                OpCode::TForCall => {
                    let a = i.a();
                    set_reg!(regs, a + 4, reg!(regs, a));
                    set_reg!(regs, a + 5, reg!(regs, a + 1));
                    set_reg!(regs, a + 6, reg!(regs, a + 2));
                    let func = base + a as usize + 4;
                    save_pc!(st, fi, pc);
                    match precall(ctx, thread, st, func, 2, i.c() as i32, ReturnTo::Caller) {
                        Ok(Flow::Reload) => continue 'reload,
                        Ok(Flow::Exit(x)) => return x,
                        Err(e) => raise!('reload, ctx, thread, st, floor, fi, pc; e),
                    }
                }
                OpCode::TForLoop => {
                    let v = reg!(regs, i.a() + 4);
                    if !v.is_nil() {
                        set_reg!(regs, i.a() + 2, v);
                        pc -= i.bx() as usize;
                        *fuel -= 1;
                        if *fuel < 0 {
                            save_pc!(st, fi, pc);
                            clear_dead_registers(st, base, proto, pc);
                            return Inner::OutOfFuel;
                        }
                    }
                }
                OpCode::SetList => {
                    let a = i.a() as usize;
                    let n = if i.b() != 0 {
                        i.b() as usize
                    } else {
                        st.top - (base + a) - 1
                    };
                    let mut offset = i.c() as usize;
                    if i.k() {
                        offset += code[pc].ax() as usize * (MAXARG_C as usize + 1);
                        pc += 1;
                    }
                    if let Value::Table(t) = reg!(regs, a) {
                        // Like C Lua: the array part grows to hold them all at once, and the
                        // values go straight into it.
                        t.set_list(mc, offset, &st.stack[base + a + 1..base + a + 1 + n]);
                    }
                }
                OpCode::Closure => {
                    let p = proto.protos[i.bx() as usize];
                    let c = make_closure(ctx, thread, st, closure, p, base);
                    refresh_regs!(regs, st, base);
                    set_reg!(regs, i.a(), Value::Closure(c));
                }
                OpCode::VarArg => {
                    let a = base + i.a() as usize;
                    let nextra = st.frames[fi].nextra;
                    let wanted = i.c() as i32 - 1;
                    let src = base - 1 - nextra;
                    let n = if wanted < 0 { nextra } else { wanted as usize };
                    // All of them go above the frame's registers (C Lua's `checkstackGCp`);
                    // a message handler has C Lua's `ERRORSTACKSIZE` of extra room.
                    if wanted < 0 {
                        if let Some(e) = vararg_overflow(ctx, st, base + proto.max_stack + n) {
                            raise!('reload, ctx, thread, st, floor, fi, pc; e);
                        }
                    }
                    st.ensure_stack(a + n);
                    // The varargs lie below the frame, so `src + k <= a`: one move.
                    let k = n.min(nextra);
                    st.stack.copy_within(src..src + k, a);
                    st.stack[a + k..a + n].fill(Value::Nil);
                    if wanted < 0 {
                        st.top = a + n;
                    }
                    refresh_regs!(regs, st, base);
                }
                OpCode::VarArgPrep => {
                    let nparams = proto.num_params;
                    // Missing fixed parameters were filled with nil by the call.
                    let nargs = (st.top - base).max(nparams);
                    let nextra = nargs - nparams;
                    let new_func = base + nargs;
                    let new_base = new_func + 1;
                    st.ensure_stack(new_base + proto.max_stack);
                    st.stack[new_func] = st.stack[frame_func];
                    for j in 0..nparams {
                        st.stack[new_base + j] = st.stack[base + j];
                        st.stack[base + j] = Value::Nil;
                    }
                    let f = &mut st.frames[fi];
                    f.base = new_base;
                    f.nextra = nextra;
                    f.pc = pc;
                    continue 'reload;
                }
                OpCode::ExtraArg => {}
            }
        }
    }
}
