//! The instruction loop and the drivers that switch between coroutines.

use gc_arena::{lock::Lock, Gc};

use crate::closure::{Closure, Upvalue, UpvalueState};
use crate::number::{self, Number};
use crate::opcode::{OpCode, MAXARG_C};
use crate::runtime::Context;
use crate::thread::{PendingKind, ReturnTo, Thread, ThreadState, ThreadStatus};
use crate::value::{Table, Value};

use super::arith::{arith, arith_numbers, primitive_less, ArithError};
use super::call::{
    close_tbc, complete_call, error_msg, finish_pending, kill_thread, outgoing_values, precall,
    throw, transfer_to_coroutine, upvalue_get, Flow, Inner,
};
use super::debug;
use super::meta::{tm_of, tm_of_table, Metamethod};
use super::{Error, Exit};

/// Runs Lua frames of one thread until something needs the driver.
pub(crate) fn execute<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    floor: usize,
    fuel: &mut i64,
) -> Inner<'gc> {
    let mc = ctx.mutation();
    'reload: loop {
        *fuel -= 1;
        if *fuel < 0 || (ctx.state().gc_requested.get() && *fuel < i64::MAX / 4) {
            return Inner::OutOfFuel;
        }
        let fi = match st.frames.len() {
            0 => return Inner::Returned,
            n => n - 1,
        };
        if ctx.state().memory.exceeded() {
            ctx.request_gc();
            let e = super::call::memory_error(ctx);
            match throw(ctx, thread, st, e, floor) {
                Ok(()) => continue 'reload,
                Err(e) => return Inner::Error(e),
            }
        }
        let (closure, base, mut pc, frame_func) = {
            let f = &st.frames[fi];
            let Some(c) = f.closure else {
                return Inner::Error(error_msg(ctx, b"internal error: protected frame on top"));
            };
            (c, f.base, f.pc, f.func)
        };
        let proto = Gc::as_ref(closure.proto());
        let code: &[crate::opcode::Instruction] = &proto.code;
        let k: &[Value<'gc>] = &proto.constants;
        debug_assert!(st.stack.len() >= base + proto.max_stack);
        // SAFETY: `precall`/`complete_call` guarantee `stack.len() >= base + max_stack` for the
        // top Lua frame, and the compiler never emits a register operand >= max_stack. The
        // pointer is refreshed (by `continue 'reload`) after anything that can reallocate the
        // stack.
        let mut regs: *mut Value<'gc> = unsafe { st.stack.as_mut_ptr().add(base) };

        macro_rules! reg {
            ($n:expr) => {
                // SAFETY: see `regs` above.
                unsafe { *regs.add($n as usize) }
            };
        }
        macro_rules! set_reg {
            ($n:expr, $v:expr) => {{
                let v = $v;
                // SAFETY: see `regs` above.
                unsafe { *regs.add($n as usize) = v }
            }};
        }
        macro_rules! save_pc {
            () => {
                st.frames[fi].pc = pc
            };
        }
        macro_rules! raise {
            ($e:expr) => {{
                st.frames[fi].pc = pc;
                let e = $e;
                match throw(ctx, thread, st, e, floor) {
                    Ok(()) => continue 'reload,
                    Err(e) => return Inner::Error(e),
                }
            }};
        }
        macro_rules! slow {
            ($e:expr) => {{
                st.frames[fi].pc = pc;
                match $e {
                    Ok(()) => continue 'reload,
                    Err(e) => match throw(ctx, thread, st, e, floor) {
                        Ok(()) => continue 'reload,
                        Err(e) => return Inner::Error(e),
                    },
                }
            }};
        }
        macro_rules! maybe_reload {
            ($e:expr) => {{
                st.frames[fi].pc = pc;
                match $e {
                    Ok(false) => {}
                    Ok(true) => continue 'reload,
                    Err(e) => match throw(ctx, thread, st, e, floor) {
                        Ok(()) => continue 'reload,
                        Err(e) => return Inner::Error(e),
                    },
                }
            }};
        }
        macro_rules! rk {
            ($i:expr) => {
                if $i.k() {
                    k[$i.c() as usize]
                } else {
                    reg!($i.c())
                }
            };
        }
        macro_rules! arith_fast {
            ($i:expr, $a:expr, $b:expr, $iop:expr, $fop:expr) => {{
                let (x, y) = ($a, $b);
                match (x, y) {
                    (Value::Integer(p), Value::Integer(q)) => {
                        set_reg!($i.a(), Value::Integer($iop(p, q)));
                        pc += 1;
                    }
                    (Value::Number(p), Value::Number(q)) => {
                        set_reg!($i.a(), Value::Number($fop(p, q)));
                        pc += 1;
                    }
                    (Value::Integer(p), Value::Number(q)) => {
                        set_reg!($i.a(), Value::Number($fop(p as f64, q)));
                        pc += 1;
                    }
                    (Value::Number(p), Value::Integer(q)) => {
                        set_reg!($i.a(), Value::Number($fop(p, q as f64)));
                        pc += 1;
                    }
                    _ => {}
                }
            }};
        }
        macro_rules! arith_general {
            ($i:expr, $op:expr, $a:expr, $b:expr) => {{
                let (x, y) = ($a, $b);
                if let (Some(p), Some(q)) = (num_of(x), num_of(y)) {
                    match arith_numbers($op, p, q) {
                        Ok(r) => {
                            set_reg!($i.a(), Value::from_number(r));
                            pc += 1;
                        }
                        Err(e) => raise!(arith_error(ctx, st, e, x, y, None)),
                    }
                }
            }};
        }
        macro_rules! bitwise {
            ($i:expr, $a:expr, $b:expr, $f:expr) => {{
                if let (Value::Integer(p), Value::Integer(q)) = ($a, $b) {
                    set_reg!($i.a(), Value::Integer($f(p, q)));
                    pc += 1;
                } else if let (Some(p), Some(q)) = (int_of($a), int_of($b)) {
                    set_reg!($i.a(), Value::Integer($f(p, q)));
                    pc += 1;
                }
            }};
        }
        macro_rules! cond_jump {
            ($i:expr, $cond:expr) => {{
                if $cond != $i.k() {
                    pc += 1;
                }
            }};
        }

        loop {
            debug_assert!(pc < code.len());
            // SAFETY: loaded code always ends with a return and every jump stays inside the
            // code (checked by `FunctionProto::load`), so `pc` is in bounds here.
            let i = unsafe { *code.get_unchecked(pc) };
            pc += 1;
            let op = i.opcode_verified();
            match op {
                OpCode::Move => set_reg!(i.a(), reg!(i.b())),
                OpCode::LoadI => set_reg!(i.a(), Value::Integer(i.sbx() as i64)),
                OpCode::LoadF => set_reg!(i.a(), Value::Number(i.sbx() as f64)),
                OpCode::LoadK => set_reg!(i.a(), k[i.bx() as usize]),
                OpCode::LoadKX => {
                    set_reg!(i.a(), k[code[pc].ax() as usize]);
                    pc += 1;
                }
                OpCode::LoadFalse => set_reg!(i.a(), Value::Boolean(false)),
                OpCode::LFalseSkip => {
                    set_reg!(i.a(), Value::Boolean(false));
                    pc += 1;
                }
                OpCode::LoadTrue => set_reg!(i.a(), Value::Boolean(true)),
                OpCode::LoadNil => {
                    for r in i.a()..=i.a() + i.b() {
                        set_reg!(r, Value::Nil);
                    }
                }
                OpCode::GetUpval => {
                    let uv = closure.upvalue(i.b() as usize);
                    let v = upvalue_get(uv.get(), thread, &st.stack);
                    set_reg!(i.a(), v);
                }
                OpCode::SetUpval => {
                    let uv = closure.upvalue(i.b() as usize);
                    let v = reg!(i.a());
                    upvalue_set(ctx, uv, thread, st, v);
                    regs = unsafe { st.stack.as_mut_ptr().add(base) };
                }
                OpCode::GetTabUp => {
                    let uv = closure.upvalue(i.b() as usize);
                    let t = upvalue_get(uv.get(), thread, &st.stack);
                    let key = k[i.c() as usize];
                    if let (Value::Table(tab), Value::String(s)) = (t, key) {
                        let v = tab.get_str(s);
                        if !v.is_nil() || tab.metatable().is_none() {
                            set_reg!(i.a(), v);
                            continue;
                        }
                    }
                    let dst = base + i.a() as usize;
                    maybe_reload!(index_slow(ctx, thread, st, t, key, dst, Some(IndexedBy::Upvalue(i.b()))));
                }
                OpCode::GetTable => {
                    let t = reg!(i.b());
                    let key = reg!(i.c());
                    if let Value::Table(tab) = t {
                        let v = match key {
                            Value::Integer(n) => tab.get_int(n),
                            _ => tab.get(key),
                        };
                        if !v.is_nil() || tab.metatable().is_none() {
                            set_reg!(i.a(), v);
                            continue;
                        }
                    }
                    let dst = base + i.a() as usize;
                    maybe_reload!(index_slow(ctx, thread, st, t, key, dst, Some(IndexedBy::Register(i.b()))));
                }
                OpCode::GetI => {
                    let t = reg!(i.b());
                    if let Value::Table(tab) = t {
                        let v = tab.get_int(i.c() as i64);
                        if !v.is_nil() || tab.metatable().is_none() {
                            set_reg!(i.a(), v);
                            continue;
                        }
                    }
                    let dst = base + i.a() as usize;
                    let key = Value::Integer(i.c() as i64);
                    maybe_reload!(index_slow(ctx, thread, st, t, key, dst, Some(IndexedBy::Register(i.b()))));
                }
                OpCode::GetField => {
                    let t = reg!(i.b());
                    let key = k[i.c() as usize];
                    if let (Value::Table(tab), Value::String(s)) = (t, key) {
                        let (v, mt) = tab.get_str_and_metatable(s);
                        if !v.is_nil() || mt.is_none() {
                            set_reg!(i.a(), v);
                            continue;
                        }
                        if let Some(r) = index_via_tables(ctx, mt.unwrap(), s) {
                            set_reg!(i.a(), r);
                            continue;
                        }
                    }
                    let dst = base + i.a() as usize;
                    maybe_reload!(index_slow(ctx, thread, st, t, key, dst, Some(IndexedBy::Register(i.b()))));
                }
                OpCode::SetTabUp => {
                    let uv = closure.upvalue(i.a() as usize);
                    let t = upvalue_get(uv.get(), thread, &st.stack);
                    let key = k[i.b() as usize];
                    let v = rk!(i);
                    if let (Value::Table(tab), Value::String(s)) = (t, key) {
                        if fast_set_str(ctx, tab, s, v) {
                            continue;
                        }
                    }
                    maybe_reload!(newindex_slow(ctx, thread, st, t, key, v, Some(IndexedBy::Upvalue(i.a()))));
                }
                OpCode::SetTable => {
                    let t = reg!(i.a());
                    let key = reg!(i.b());
                    let v = rk!(i);
                    if let (Value::Table(tab), Value::Integer(n)) = (t, key) {
                        if fast_set_int(ctx, tab, n, v) {
                            continue;
                        }
                    }
                    maybe_reload!(newindex_slow(ctx, thread, st, t, key, v, Some(IndexedBy::Register(i.a()))));
                }
                OpCode::SetI => {
                    let t = reg!(i.a());
                    let v = rk!(i);
                    if let Value::Table(tab) = t {
                        if fast_set_int(ctx, tab, i.b() as i64, v) {
                            continue;
                        }
                    }
                    let key = Value::Integer(i.b() as i64);
                    maybe_reload!(newindex_slow(ctx, thread, st, t, key, v, Some(IndexedBy::Register(i.a()))));
                }
                OpCode::SetField => {
                    let t = reg!(i.a());
                    let key = k[i.b() as usize];
                    let v = rk!(i);
                    if let (Value::Table(tab), Value::String(s)) = (t, key) {
                        if fast_set_str(ctx, tab, s, v) {
                            continue;
                        }
                    }
                    maybe_reload!(newindex_slow(ctx, thread, st, t, key, v, Some(IndexedBy::Register(i.a()))));
                }
                OpCode::NewTable => {
                    let mut narr = i.c() as usize;
                    if i.k() {
                        narr += code[pc].ax() as usize * (MAXARG_C as usize + 1);
                    }
                    let nhash = if i.b() > 0 { 1usize << (i.b() - 1) } else { 0 };
                    pc += 1;
                    set_reg!(i.a(), Value::Table(Table::with_capacity(mc, narr, nhash)));
                }
                OpCode::Self_ => {
                    let t = reg!(i.b());
                    let key = rk!(i);
                    set_reg!(i.a() + 1, t);
                    if let (Value::Table(tab), Value::String(s)) = (t, key) {
                        let (v, mt) = tab.get_str_and_metatable(s);
                        if !v.is_nil() || mt.is_none() {
                            set_reg!(i.a(), v);
                            continue;
                        }
                        if let Some(r) = index_via_tables(ctx, mt.unwrap(), s) {
                            set_reg!(i.a(), r);
                            continue;
                        }
                    }
                    let dst = base + i.a() as usize;
                    maybe_reload!(index_slow(ctx, thread, st, t, key, dst, Some(IndexedBy::Register(i.b()))));
                }
                OpCode::AddI => {
                    let x = reg!(i.b());
                    let c = i.sc() as i64;
                    match x {
                        Value::Integer(p) => {
                            set_reg!(i.a(), Value::Integer(p.wrapping_add(c)));
                            pc += 1;
                        }
                        Value::Number(p) => {
                            set_reg!(i.a(), Value::Number(p + c as f64));
                            pc += 1;
                        }
                        _ => {}
                    }
                }
                OpCode::AddK => arith_fast!(i, reg!(i.b()), k[i.c() as usize], i64::wrapping_add, |p: f64, q: f64| p + q),
                OpCode::SubK => arith_fast!(i, reg!(i.b()), k[i.c() as usize], i64::wrapping_sub, |p: f64, q: f64| p - q),
                OpCode::MulK => arith_fast!(i, reg!(i.b()), k[i.c() as usize], i64::wrapping_mul, |p: f64, q: f64| p * q),
                OpCode::ModK => arith_general!(i, Metamethod::Mod, reg!(i.b()), k[i.c() as usize]),
                OpCode::PowK => arith_general!(i, Metamethod::Pow, reg!(i.b()), k[i.c() as usize]),
                OpCode::DivK => arith_general!(i, Metamethod::Div, reg!(i.b()), k[i.c() as usize]),
                OpCode::IDivK => arith_general!(i, Metamethod::IDiv, reg!(i.b()), k[i.c() as usize]),
                OpCode::BAndK => bitwise!(i, reg!(i.b()), k[i.c() as usize], |p: i64, q: i64| p & q),
                OpCode::BOrK => bitwise!(i, reg!(i.b()), k[i.c() as usize], |p: i64, q: i64| p | q),
                OpCode::BXorK => bitwise!(i, reg!(i.b()), k[i.c() as usize], |p: i64, q: i64| p ^ q),
                OpCode::ShrI => bitwise!(i, reg!(i.b()), Value::Integer(i.sc() as i64), |p: i64, q: i64| number::shift_left(p, q.wrapping_neg())),
                OpCode::ShlI => bitwise!(i, Value::Integer(i.sc() as i64), reg!(i.b()), number::shift_left),
                OpCode::Add => arith_fast!(i, reg!(i.b()), reg!(i.c()), i64::wrapping_add, |p: f64, q: f64| p + q),
                OpCode::Sub => arith_fast!(i, reg!(i.b()), reg!(i.c()), i64::wrapping_sub, |p: f64, q: f64| p - q),
                OpCode::Mul => arith_fast!(i, reg!(i.b()), reg!(i.c()), i64::wrapping_mul, |p: f64, q: f64| p * q),
                OpCode::Mod => arith_general!(i, Metamethod::Mod, reg!(i.b()), reg!(i.c())),
                OpCode::Pow => arith_general!(i, Metamethod::Pow, reg!(i.b()), reg!(i.c())),
                OpCode::Div => arith_general!(i, Metamethod::Div, reg!(i.b()), reg!(i.c())),
                OpCode::IDiv => arith_general!(i, Metamethod::IDiv, reg!(i.b()), reg!(i.c())),
                OpCode::BAnd => bitwise!(i, reg!(i.b()), reg!(i.c()), |p: i64, q: i64| p & q),
                OpCode::BOr => bitwise!(i, reg!(i.b()), reg!(i.c()), |p: i64, q: i64| p | q),
                OpCode::BXor => bitwise!(i, reg!(i.b()), reg!(i.c()), |p: i64, q: i64| p ^ q),
                OpCode::Shl => bitwise!(i, reg!(i.b()), reg!(i.c()), number::shift_left),
                OpCode::Shr => bitwise!(i, reg!(i.b()), reg!(i.c()), |p: i64, q: i64| number::shift_left(p, q.wrapping_neg())),
                OpCode::MmBin | OpCode::MmBinI | OpCode::MmBinK => {
                    let prev = code[pc - 2];
                    let dst = base + prev.a() as usize;
                    let a = reg!(i.a());
                    let b = match i.opcode() {
                        OpCode::MmBin => reg!(i.b()),
                        OpCode::MmBinI => Value::Integer(i.sb() as i64),
                        _ => k[i.b() as usize],
                    };
                    let (x, y) = if i.opcode() != OpCode::MmBin && i.k() { (b, a) } else { (a, b) };
                    let tm = Metamethod::from_u32(i.c()).unwrap_or(Metamethod::Add);
                    slow!(arith_meta(ctx, thread, st, tm, x, y, dst));
                }
                OpCode::Unm => {
                    let x = reg!(i.b());
                    match x {
                        Value::Integer(p) => set_reg!(i.a(), Value::Integer(p.wrapping_neg())),
                        Value::Number(p) => set_reg!(i.a(), Value::Number(-p)),
                        _ => {
                            let dst = base + i.a() as usize;
                            slow!(arith_meta(ctx, thread, st, Metamethod::Unm, x, x, dst));
                        }
                    }
                }
                OpCode::BNot => {
                    let x = reg!(i.b());
                    match x {
                        Value::Integer(p) => set_reg!(i.a(), Value::Integer(!p)),
                        _ => {
                            let dst = base + i.a() as usize;
                            slow!(arith_meta(ctx, thread, st, Metamethod::BNot, x, x, dst));
                        }
                    }
                }
                OpCode::Not => set_reg!(i.a(), Value::Boolean(!reg!(i.b()).is_truthy())),
                OpCode::Len => {
                    let x = reg!(i.b());
                    match x {
                        Value::String(s) => set_reg!(i.a(), Value::Integer(s.len() as i64)),
                        Value::Table(t) if t.metatable().is_none_or(|mt| tm_of_table(ctx, mt, Metamethod::Len).is_nil()) => {
                            set_reg!(i.a(), Value::Integer(t.length()))
                        }
                        _ => {
                            let dst = base + i.a() as usize;
                            slow!(len_slow(ctx, thread, st, x, dst, i.b()));
                        }
                    }
                }
                OpCode::Concat => {
                    let first = base + i.a() as usize;
                    let n = i.b() as usize;
                    slow!(concat(ctx, thread, st, first, n));
                }
                OpCode::Close => {
                    let level = base + i.a() as usize;
                    slow!(close_level(ctx, thread, st, level));
                }
                OpCode::Tbc => {
                    let v = reg!(i.a());
                    if v.is_truthy() && tm_of(ctx, v, Metamethod::Close).is_nil() {
                        raise!(debug::tbc_error(ctx, st, i.a()));
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
                            save_pc!();
                            return Inner::OutOfFuel;
                        }
                    }
                }
                OpCode::Eq => {
                    let (x, y) = (reg!(i.a()), reg!(i.b()));
                    if x.raw_equals(y) {
                        cond_jump!(i, true);
                    } else {
                        let mm = match (x, y) {
                            (Value::Table(_), Value::Table(_)) | (Value::UserData(_), Value::UserData(_)) => {
                                let m = tm_of(ctx, x, Metamethod::Eq);
                                if m.is_nil() { tm_of(ctx, y, Metamethod::Eq) } else { m }
                            }
                            _ => Value::Nil,
                        };
                        if mm.is_nil() {
                            cond_jump!(i, false);
                        } else {
                            slow!(call_compare(ctx, thread, st, mm, x, y));
                        }
                    }
                }
                OpCode::Lt | OpCode::Le => {
                    let (x, y) = (reg!(i.a()), reg!(i.b()));
                    let le = i.opcode() == OpCode::Le;
                    match primitive_less(x, y, le) {
                        Some(r) => cond_jump!(i, r),
                        None => slow!(compare_meta(ctx, thread, st, x, y, le)),
                    }
                }
                OpCode::EqK => {
                    let r = reg!(i.a()).raw_equals(k[i.b() as usize]);
                    cond_jump!(i, r);
                }
                OpCode::EqI => {
                    let r = match reg!(i.a()) {
                        Value::Integer(p) => p == i.sb() as i64,
                        Value::Number(p) => p == i.sb() as f64,
                        _ => false,
                    };
                    cond_jump!(i, r);
                }
                OpCode::LtI | OpCode::LeI | OpCode::GtI | OpCode::GeI => {
                    let x = reg!(i.a());
                    let im = i.sb() as i64;
                    let r = match x {
                        Value::Integer(p) => Some(match i.opcode() {
                            OpCode::LtI => p < im,
                            OpCode::LeI => p <= im,
                            OpCode::GtI => p > im,
                            _ => p >= im,
                        }),
                        Value::Number(p) => {
                            let q = im as f64;
                            Some(match i.opcode() {
                                OpCode::LtI => p < q,
                                OpCode::LeI => p <= q,
                                OpCode::GtI => p > q,
                                _ => p >= q,
                            })
                        }
                        _ => None,
                    };
                    match r {
                        Some(r) => cond_jump!(i, r),
                        None => {
                            let imv = if i.c() != 0 { Value::Number(im as f64) } else { Value::Integer(im) };
                            let (a, b, le) = match i.opcode() {
                                OpCode::LtI => (x, imv, false),
                                OpCode::LeI => (x, imv, true),
                                OpCode::GtI => (imv, x, false),
                                _ => (imv, x, true),
                            };
                            slow!(compare_meta(ctx, thread, st, a, b, le));
                        }
                    }
                }
                OpCode::Test => {
                    let r = reg!(i.a()).is_truthy();
                    cond_jump!(i, r);
                }
                OpCode::TestSet => {
                    let v = reg!(i.b());
                    if v.is_truthy() != i.k() {
                        pc += 1;
                    } else {
                        set_reg!(i.a(), v);
                    }
                }
                OpCode::Call => {
                    let func = base + i.a() as usize;
                    let nargs = if i.b() != 0 { i.b() as usize - 1 } else { st.top - func - 1 };
                    let nresults = i.c() as i32 - 1;
                    save_pc!();
                    if let Value::Closure(c) = reg!(i.a()) {
                        let p = c.proto();
                        let nbase = func + 1;
                        let need = nbase + p.max_stack;
                        if !p.is_vararg && need <= super::call::MAX_STACK && st.frames.len() < super::call::MAX_FRAMES {
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
                            });
                            continue 'reload;
                        }
                    }
                    match precall(ctx, thread, st, func, nargs, nresults, ReturnTo::Caller) {
                        Ok(Flow::Reload) => continue 'reload,
                        Ok(Flow::Exit(x)) => return x,
                        Err(e) => raise!(e),
                    }
                }
                OpCode::TailCall => {
                    let func = base + i.a() as usize;
                    let nargs = if i.b() != 0 { i.b() as usize - 1 } else { st.top - func - 1 };
                    save_pc!();
                    if i.k() {
                        st.close_upvalues(mc, base);
                    }
                    // Calling a non-function: let precall raise the error with this frame.
                    if !st.stack[func].is_function() && tm_of(ctx, st.stack[func], Metamethod::Call).is_nil() {
                        match precall(ctx, thread, st, func, nargs, -1, ReturnTo::Caller) {
                            Ok(_) => continue 'reload,
                            Err(e) => raise!(e),
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
                        Err(e) => raise!(e),
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
                    save_pc!();
                    if op == OpCode::Return && i.k() {
                        if !st.tbc.is_empty() && *st.tbc.last().unwrap() >= base {
                            // Keep the results safe above the registers while closing.
                            if let Err(e) = close_tbc(ctx, thread, st, base, None) {
                                raise!(e);
                            }
                        }
                        st.close_upvalues(mc, base);
                    }
                    let f = st.frames.pop().unwrap();
                    if f.ret == ReturnTo::Caller && f.nresults >= 0 && st.frames.last().is_some_and(|c| !c.protected) {
                        // Fast path: a Lua caller wants a fixed number of results.
                        let want = f.nresults as usize;
                        let dst = f.func;
                        debug_assert!(dst + want <= st.stack.len() && first + n <= st.stack.len());
                        // SAFETY: `dst + want` is within the caller's registers (the call
                        // instruction's results fit its frame) and `first + n` within ours.
                        unsafe {
                            let sp = st.stack.as_mut_ptr();
                            for j in 0..want {
                                *sp.add(dst + j) = if j < n { *sp.add(first + j) } else { Value::Nil };
                            }
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
                    if let Value::Integer(step) = reg!(a + 2) {
                        let Value::Integer(count) = reg!(a + 1) else { unreachable!() };
                        if count > 0 {
                            let Value::Integer(idx) = reg!(a) else { unreachable!() };
                            let idx = idx.wrapping_add(step);
                            set_reg!(a + 1, Value::Integer(count - 1));
                            set_reg!(a, Value::Integer(idx));
                            set_reg!(a + 3, Value::Integer(idx));
                            pc -= i.bx() as usize;
                        }
                    } else if let (Value::Number(step), Value::Number(limit), Value::Number(idx)) =
                        (reg!(a + 2), reg!(a + 1), reg!(a))
                    {
                        let idx = idx + step;
                        if if step > 0.0 { idx <= limit } else { limit <= idx } {
                            set_reg!(a, Value::Number(idx));
                            set_reg!(a + 3, Value::Number(idx));
                            pc -= i.bx() as usize;
                        }
                    }
                    *fuel -= 1;
                    if *fuel < 0 {
                        save_pc!();
                        return Inner::OutOfFuel;
                    }
                }
                OpCode::ForPrep => {
                    let a = i.a();
                    match for_prep(reg!(a), reg!(a + 1), reg!(a + 2)) {
                        Ok(Some((init, limit, step))) => {
                            set_reg!(a, init);
                            set_reg!(a + 1, limit);
                            set_reg!(a + 2, step);
                            set_reg!(a + 3, init);
                        }
                        Ok(None) => pc += i.bx() as usize + 1,
                        Err(msg) => raise!(debug::runtime_error(ctx, st, msg)),
                    }
                }
                OpCode::TForPrep => {
                    let v = reg!(i.a() + 3);
                    if v.is_truthy() {
                        if tm_of(ctx, v, Metamethod::Close).is_nil() {
                            raise!(debug::tbc_error(ctx, st, i.a() + 3));
                        }
                        st.tbc.push(base + i.a() as usize + 3);
                    }
                    pc += i.bx() as usize;
                }
                OpCode::TForCall => {
                    let a = i.a();
                    set_reg!(a + 4, reg!(a));
                    set_reg!(a + 5, reg!(a + 1));
                    set_reg!(a + 6, reg!(a + 2));
                    let func = base + a as usize + 4;
                    save_pc!();
                    match precall(ctx, thread, st, func, 2, i.c() as i32, ReturnTo::Caller) {
                        Ok(Flow::Reload) => continue 'reload,
                        Ok(Flow::Exit(x)) => return x,
                        Err(e) => raise!(e),
                    }
                }
                OpCode::TForLoop => {
                    let v = reg!(i.a() + 4);
                    if !v.is_nil() {
                        set_reg!(i.a() + 2, v);
                        pc -= i.bx() as usize;
                        *fuel -= 1;
                        if *fuel < 0 {
                            save_pc!();
                            return Inner::OutOfFuel;
                        }
                    }
                }
                OpCode::SetList => {
                    let a = i.a() as usize;
                    let n = if i.b() != 0 { i.b() as usize } else { st.top - (base + a) - 1 };
                    let mut offset = i.c() as usize;
                    if i.k() {
                        offset += code[pc].ax() as usize * (MAXARG_C as usize + 1);
                        pc += 1;
                    }
                    if let Value::Table(t) = reg!(a) {
                        let mut ts = t.0.borrow_mut(mc);
                        for j in 1..=n {
                            ts.set_int((offset + j) as i64, st.stack[base + a + j]);
                        }
                    }
                }
                OpCode::Closure => {
                    let p = proto.protos[i.bx() as usize];
                    let c = make_closure(ctx, thread, st, closure, p, base);
                    regs = unsafe { st.stack.as_mut_ptr().add(base) };
                    set_reg!(i.a(), Value::Closure(c));
                }
                OpCode::VarArg => {
                    let a = base + i.a() as usize;
                    let nextra = st.frames[fi].nextra;
                    let wanted = i.c() as i32 - 1;
                    let src = base - 1 - nextra;
                    let n = if wanted < 0 { nextra } else { wanted as usize };
                    st.ensure_stack(a + n);
                    for j in 0..n {
                        st.stack[a + j] = if j < nextra { st.stack[src + j] } else { Value::Nil };
                    }
                    if wanted < 0 {
                        st.top = a + n;
                    }
                    regs = unsafe { st.stack.as_mut_ptr().add(base) };
                }
                OpCode::VarArgPrep => {
                    let nparams = proto.num_params;
                    let nargs = st.top - base;
                    let nextra = nargs.saturating_sub(nparams);
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

/// Which value was indexed, for error messages.
#[derive(Clone, Copy)]
pub(crate) enum IndexedBy {
    /// Register `.0` of the current frame.
    Register(u32),
    /// Upvalue `.0` of the current closure.
    Upvalue(u32),
}

/// Follows `__index` tables (the class pattern) for a string key without leaving the
/// instruction; `None` when a function metamethod or a non-table is involved.
#[inline]
fn index_via_tables<'gc>(ctx: Context<'gc>, mt: Table<'gc>, s: crate::value::LuaString<'gc>) -> Option<Value<'gc>> {
    let mut mt = mt;
    for _ in 0..8 {
        let Value::Table(next) = tm_of_table(ctx, mt, Metamethod::Index) else {
            return None;
        };
        let (v, nmt) = next.get_str_and_metatable(s);
        if !v.is_nil() {
            return Some(v);
        }
        match nmt {
            None => return Some(Value::Nil),
            Some(m) => mt = m,
        }
    }
    None
}

#[inline]
fn num_of(v: Value<'_>) -> Option<Number> {
    match v {
        Value::Integer(i) => Some(Number::Int(i)),
        Value::Number(f) => Some(Number::Float(f)),
        _ => None,
    }
}

#[inline]
fn int_of(v: Value<'_>) -> Option<i64> {
    match v {
        Value::Integer(i) => Some(i),
        Value::Number(f) => number::float_to_int_exact(f),
        _ => None,
    }
}

#[inline]
fn fast_set_str<'gc>(ctx: Context<'gc>, tab: Table<'gc>, s: crate::value::LuaString<'gc>, v: Value<'gc>) -> bool {
    tab.set_str_if_plain(ctx.mutation(), s, v)
}

#[inline]
fn fast_set_int<'gc>(ctx: Context<'gc>, tab: Table<'gc>, n: i64, v: Value<'gc>) -> bool {
    tab.set_int_if_plain(ctx.mutation(), n, v)
}

fn upvalue_set<'gc>(ctx: Context<'gc>, uv: Upvalue<'gc>, cur: Thread<'gc>, st: &mut ThreadState<'gc>, v: Value<'gc>) {
    let state = uv.get();
    match state {
        UpvalueState::Open { thread, index } => {
            if thread.ptr_eq(cur) {
                st.stack[index] = v;
            } else if let Ok(mut s) = thread.try_state_mut(ctx.mutation()).ok_or(()) {
                s.stack[index] = v;
            }
        }
        UpvalueState::Closed(_) => uv.set(ctx.mutation(), UpvalueState::Closed(v)),
    }
}

fn find_upvalue<'gc>(ctx: Context<'gc>, thread: Thread<'gc>, st: &mut ThreadState<'gc>, idx: usize) -> Upvalue<'gc> {
    match st.open_upvalues.binary_search_by_key(&idx, |e| e.0) {
        Ok(p) => st.open_upvalues[p].1,
        Err(p) => {
            let uv = Gc::new(ctx.mutation(), Lock::new(UpvalueState::Open { thread, index: idx }));
            st.open_upvalues.insert(p, (idx, uv));
            uv
        }
    }
}

fn make_closure<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    parent: Closure<'gc>,
    p: Gc<'gc, crate::closure::FunctionProto<'gc>>,
    base: usize,
) -> Closure<'gc> {
    let parent_uvs = &parent.0.upvalues;
    let uvs: Box<[Upvalue<'gc>]> = p
        .raw
        .upvalues
        .iter()
        .map(|d| {
            if d.in_stack {
                find_upvalue(ctx, thread, st, base + d.index as usize)
            } else {
                parent_uvs[d.index as usize].get()
            }
        })
        .collect();
    Closure::new(ctx.mutation(), p, uvs)
}

/// Numeric `for` preparation: returns (init, limit-or-count, step) or None to skip the loop.
fn for_prep<'gc>(
    init: Value<'gc>,
    limit: Value<'gc>,
    step: Value<'gc>,
) -> Result<Option<(Value<'gc>, Value<'gc>, Value<'gc>)>, &'static str> {
    if let (Value::Integer(i0), Value::Integer(st)) = (init, step) {
        if st == 0 {
            return Err("'for' step is zero");
        }
        let lim = match limit {
            Value::Integer(l) => l,
            Value::Number(f) => match number::for_limit_from_float(f, st) {
                Some(l) => l,
                None => return Ok(None),
            },
            Value::String(_) => return Err("'for' limit must be a number"),
            _ => return Err("'for' limit must be a number"),
        };
        if if st > 0 { i0 > lim } else { i0 < lim } {
            return Ok(None);
        }
        let count = if st > 0 {
            (lim as u64).wrapping_sub(i0 as u64) / st as u64
        } else {
            (i0 as u64).wrapping_sub(lim as u64) / ((-(st + 1)) as u64 + 1)
        };
        return Ok(Some((init, Value::Integer(count as i64), step)));
    }
    let l = match limit {
        Value::Integer(x) => x as f64,
        Value::Number(x) => x,
        _ => return Err("'for' limit must be a number"),
    };
    let s = match step {
        Value::Integer(x) => x as f64,
        Value::Number(x) => x,
        _ => return Err("'for' step must be a number"),
    };
    let i0 = match init {
        Value::Integer(x) => x as f64,
        Value::Number(x) => x,
        _ => return Err("'for' initial value must be a number"),
    };
    if s == 0.0 {
        return Err("'for' step is zero");
    }
    if if s > 0.0 { l < i0 } else { i0 < l } {
        return Ok(None);
    }
    Ok(Some((Value::Number(i0), Value::Number(l), Value::Number(s))))
}

/// Pushes `f(args)` as a metamethod call whose first result is handled by `ret`.
fn call_meta<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    f: Value<'gc>,
    args: &[Value<'gc>],
    ret: ReturnTo,
) -> Result<(), Error<'gc>> {
    let top = match st.frames.last() {
        Some(fr) => match fr.closure {
            Some(c) => fr.base + c.proto().max_stack,
            None => st.stack.len(),
        },
        None => st.stack.len(),
    };
    st.ensure_stack(top + args.len() + 1);
    st.stack[top] = f;
    st.stack[top + 1..top + 1 + args.len()].copy_from_slice(args);
    if st.stack.len() > top + 1 + args.len() && !f.is_function() {
        // keep the stack as is; precall handles __call
    }
    match precall(ctx, thread, st, top, args.len(), 1, ret)? {
        Flow::Reload => Ok(()),
        Flow::Exit(_) => Err(error_msg(ctx, b"attempt to yield across a C-call boundary")),
    }
}

fn index_slow<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    t: Value<'gc>,
    key: Value<'gc>,
    dst: usize,
    by: Option<IndexedBy>,
) -> Result<bool, Error<'gc>> {
    let mut t = t;
    let mut by = by;
    for _ in 0..2000 {
        let mm = if let Value::Table(tab) = t {
            let v = tab.get(key);
            if !v.is_nil() {
                st.stack[dst] = v;
                return Ok(false);
            }
            match tab.metatable() {
                Some(mt) => tm_of_table(ctx, mt, Metamethod::Index),
                None => Value::Nil,
            }
        } else {
            let mm = tm_of(ctx, t, Metamethod::Index);
            if mm.is_nil() {
                return Err(debug::index_error(ctx, st, t, key, by));
            }
            mm
        };
        if mm.is_nil() {
            st.stack[dst] = Value::Nil;
            return Ok(false);
        }
        if mm.is_function() {
            return call_meta(ctx, thread, st, mm, &[t, key], ReturnTo::Store(dst)).map(|()| true);
        }
        t = mm;
        by = None;
    }
    Err(debug::runtime_error(ctx, st, "'__index' chain too long; possible loop"))
}

fn newindex_slow<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    t: Value<'gc>,
    key: Value<'gc>,
    v: Value<'gc>,
    by: Option<IndexedBy>,
) -> Result<bool, Error<'gc>> {
    let mut t = t;
    let mut by = by;
    for _ in 0..2000 {
        let mm = if let Value::Table(tab) = t {
            let mm = if tab.get(key).is_nil() {
                match tab.metatable() {
                    Some(mt) => tm_of_table(ctx, mt, Metamethod::NewIndex),
                    None => Value::Nil,
                }
            } else {
                Value::Nil
            };
            if mm.is_nil() {
                return tab
                    .set(ctx.mutation(), key, v)
                    .map(|()| false)
                    .map_err(|e| debug::runtime_error(ctx, st, e.message()));
            }
            mm
        } else {
            let mm = tm_of(ctx, t, Metamethod::NewIndex);
            if mm.is_nil() {
                return Err(debug::index_error(ctx, st, t, key, by));
            }
            mm
        };
        if mm.is_function() {
            return call_meta(ctx, thread, st, mm, &[t, key, v], ReturnTo::Discard).map(|()| true);
        }
        t = mm;
        by = None;
    }
    Err(debug::runtime_error(ctx, st, "'__newindex' chain too long; possible loop"))
}

fn arith_error<'gc>(
    ctx: Context<'gc>,
    st: &ThreadState<'gc>,
    e: ArithError,
    x: Value<'gc>,
    y: Value<'gc>,
    tm: Option<Metamethod>,
) -> Error<'gc> {
    match e {
        ArithError::DivByZero => debug::runtime_error(ctx, st, "attempt to perform 'n//0'"),
        ArithError::ModByZero => debug::runtime_error(ctx, st, "attempt to perform 'n%%0'"),
        ArithError::NoIntegerRep => {
            let culprit = if int_of_coerced(x).is_none() { x } else { y };
            debug::operand_error(ctx, st, "number has no integer representation", culprit, true)
        }
        ArithError::NotNumbers => {
            let bitwise = matches!(
                tm,
                Some(Metamethod::BAnd | Metamethod::BOr | Metamethod::BXor | Metamethod::Shl | Metamethod::Shr | Metamethod::BNot)
            );
            let culprit = if x.to_number().is_none() { x } else { y };
            if bitwise {
                if culprit.to_number().is_some() || (x.to_number().is_some() && y.to_number().is_some()) {
                    let culprit = if int_of_coerced(x).is_none() { x } else { y };
                    return debug::operand_error(ctx, st, "number has no integer representation", culprit, true);
                }
                debug::operand_error(ctx, st, "attempt to perform bitwise operation on", culprit, false)
            } else {
                debug::operand_error(ctx, st, "attempt to perform arithmetic on", culprit, false)
            }
        }
    }
}

fn int_of_coerced(v: Value<'_>) -> Option<i64> {
    v.to_integer()
}

fn arith_meta<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    tm: Metamethod,
    x: Value<'gc>,
    y: Value<'gc>,
    dst: usize,
) -> Result<(), Error<'gc>> {
    // Strings are coerced to numbers (the string library's arithmetic metamethods in C Lua).
    if !matches!(x, Value::Table(_) | Value::UserData(_)) && !matches!(y, Value::Table(_) | Value::UserData(_)) {
        let r = if tm == Metamethod::Unm {
            x.to_number().map(|n| arith_numbers(tm, n, n)).ok_or(ArithError::NotNumbers).and_then(|r| r.map(Value::from_number))
        } else if tm == Metamethod::BNot {
            match x.to_number() {
                Some(_) => x.to_integer().map(|i| Value::Integer(!i)).ok_or(ArithError::NoIntegerRep),
                None => Err(ArithError::NotNumbers),
            }
        } else {
            arith(tm, x, y)
        };
        match r {
            Ok(v) => {
                st.stack[dst] = v;
                return Ok(());
            }
            Err(ArithError::NotNumbers) => {}
            Err(e) => return Err(arith_error(ctx, st, e, x, y, Some(tm))),
        }
    }
    let mut mm = tm_of(ctx, x, tm);
    if mm.is_nil() {
        mm = tm_of(ctx, y, tm);
    }
    if mm.is_nil() {
        return Err(arith_error(ctx, st, ArithError::NotNumbers, x, y, Some(tm)));
    }
    call_meta(ctx, thread, st, mm, &[x, y], ReturnTo::Store(dst))
}

fn call_compare<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    mm: Value<'gc>,
    x: Value<'gc>,
    y: Value<'gc>,
) -> Result<(), Error<'gc>> {
    call_meta(ctx, thread, st, mm, &[x, y], ReturnTo::Compare)
}

fn compare_meta<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    x: Value<'gc>,
    y: Value<'gc>,
    le: bool,
) -> Result<(), Error<'gc>> {
    let tm = if le { Metamethod::Le } else { Metamethod::Lt };
    let mut mm = tm_of(ctx, x, tm);
    if mm.is_nil() {
        mm = tm_of(ctx, y, tm);
    }
    if mm.is_nil() {
        return Err(debug::compare_error(ctx, st, x, y));
    }
    call_compare(ctx, thread, st, mm, x, y)
}

fn len_slow<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    x: Value<'gc>,
    dst: usize,
    reg: u32,
) -> Result<(), Error<'gc>> {
    let mm = tm_of(ctx, x, Metamethod::Len);
    if mm.is_nil() {
        if let Value::Table(t) = x {
            st.stack[dst] = Value::Integer(t.length());
            return Ok(());
        }
        return Err(debug::typed_error(ctx, st, "get length of", x, Some(st.frames.last().map_or(0, |f| f.base) + reg as usize)));
    }
    call_meta(ctx, thread, st, mm, &[x, x], ReturnTo::Store(dst))
}

fn close_level<'gc>(ctx: Context<'gc>, thread: Thread<'gc>, st: &mut ThreadState<'gc>, level: usize) -> Result<(), Error<'gc>> {
    close_tbc(ctx, thread, st, level, None)?;
    st.close_upvalues(ctx.mutation(), level);
    Ok(())
}

/// OP_CONCAT over `stack[first..first+n]`, result in `stack[first]`.
fn concat<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    first: usize,
    n: usize,
) -> Result<(), Error<'gc>> {
    let mut top = first + n;
    let mut buf: Vec<u8> = Vec::new();
    while top - first > 1 {
        let (a, b) = (st.stack[top - 2], st.stack[top - 1]);
        if is_stringy(a) && is_stringy(b) {
            let mut j = top - 2;
            while j > first && is_stringy(st.stack[j - 1]) {
                j -= 1;
            }
            buf.clear();
            for idx in j..top {
                append_stringy(ctx, &mut buf, st.stack[idx]);
            }
            st.stack[j] = Value::String(ctx.intern(&buf));
            top = j + 1;
        } else {
            let mut mm = tm_of(ctx, a, Metamethod::Concat);
            if mm.is_nil() {
                mm = tm_of(ctx, b, Metamethod::Concat);
            }
            if mm.is_nil() {
                let (bad, idx) = if is_stringy(a) { (b, top - 1) } else { (a, top - 2) };
                return Err(debug::typed_error(ctx, st, "concatenate", bad, Some(idx)));
            }
            let r = super::call::nested_call(ctx, thread, st, mm, &[a, b])?;
            st.stack[top - 2] = r.first().copied().unwrap_or_default();
            top -= 1;
        }
    }
    Ok(())
}

#[inline]
fn is_stringy(v: Value<'_>) -> bool {
    matches!(v, Value::String(_) | Value::Integer(_) | Value::Number(_))
}

fn append_stringy(ctx: Context<'_>, buf: &mut Vec<u8>, v: Value<'_>) {
    match v {
        Value::String(s) => buf.extend_from_slice(s.as_bytes()),
        Value::Integer(i) => number::fmt_lua_int(i, buf),
        Value::Number(f) => number::fmt_lua_float(f, buf),
        _ => {
            let _ = ctx;
        }
    }
}

// ----- drivers -----

/// Runs the coroutine chain until the base thread returns, yields to the host, fails, runs out
/// of fuel or calls the host. `base_st` is the base thread's (borrowed) state.
fn drive<'gc>(
    ctx: Context<'gc>,
    base: Thread<'gc>,
    base_st: &mut ThreadState<'gc>,
    floor: usize,
    nested: bool,
    fuel: &mut i64,
    first: Option<Inner<'gc>>,
) -> Inner<'gc> {
    let mc = ctx.mutation();
    let chain_floor = ctx.state().running.borrow().len();
    let mut pending = first;
    loop {
        let cur = *ctx.state().running.borrow().last().expect("running thread");
        let is_base = cur.ptr_eq(base) && ctx.state().running.borrow().len() == chain_floor;
        let r = match pending.take() {
            Some(r) => r,
            None => {
                if is_base {
                    execute(ctx, cur, base_st, floor, fuel)
                } else {
                    let mut st = cur.state_mut(mc);
                    execute(ctx, cur, &mut st, 0, fuel)
                }
            }
        };
        if is_base {
            match r {
                Inner::OutOfFuel if nested => {
                    *fuel = i64::MAX / 2;
                    continue;
                }
                Inner::Resume(co) => {
                    if let Err(e) = start_resume(ctx, cur, base_st, co) {
                        match throw(ctx, cur, base_st, e, floor) {
                            Ok(()) => continue,
                            Err(e) => return Inner::Error(e),
                        }
                    }
                    continue;
                }
                other => return other,
            }
        }
        // A coroutine above the base thread.
        match r {
            Inner::OutOfFuel => {
                if nested {
                    *fuel = i64::MAX / 2;
                    continue;
                }
                return Inner::OutOfFuel;
            }
            Inner::Host => {
                if nested {
                    let mut st = cur.state_mut(mc);
                    let e = error_msg(ctx, b"attempt to call a host function across a C-call boundary");
                    st.pending = None;
                    match throw(ctx, cur, &mut st, e, 0) {
                        Ok(()) => continue,
                        Err(e) => {
                            drop(st);
                            pending = Some(Inner::Error(e));
                            continue;
                        }
                    }
                }
                return Inner::Host;
            }
            Inner::Resume(co) => {
                let mut st = cur.state_mut(mc);
                if let Err(e) = start_resume(ctx, cur, &mut st, co) {
                    if let Err(e) = throw(ctx, cur, &mut st, e, 0) {
                        drop(st);
                        pending = Some(Inner::Error(e));
                    }
                }
                continue;
            }
            Inner::BoundaryReturn => continue,
            Inner::Returned | Inner::Yield | Inner::Error(_) => {
                let (vals, ok, err) = {
                    let mut st = cur.state_mut(mc);
                    match &r {
                        Inner::Returned => {
                            let v = outgoing_values(&st, true);
                            kill_thread(ctx, cur, &mut st);
                            (v, true, None)
                        }
                        Inner::Yield => {
                            let v = outgoing_values(&st, false);
                            cur.set_status(ThreadStatus::Suspended);
                            (v, true, None)
                        }
                        Inner::Error(e) => {
                            let e = e.clone();
                            kill_thread(ctx, cur, &mut st);
                            st.error = Some(e.clone());
                            (Default::default(), false, Some(e))
                        }
                        _ => unreachable!(),
                    }
                };
                ctx.state().running.borrow_mut(mc).pop();
                let resumer = *ctx.state().running.borrow().last().unwrap();
                resumer.set_status(ThreadStatus::Running);
                let resumer_is_base = resumer.ptr_eq(base) && ctx.state().running.borrow().len() == chain_floor;
                let deliver = |st: &mut ThreadState<'gc>| -> Option<Error<'gc>> {
                    let kind = st.pending.map(|p| p.kind).unwrap_or(PendingKind::Resume);
                    match (kind, ok) {
                        (PendingKind::Resume, true) => {
                            let mut out = vec![Value::Boolean(true)];
                            out.extend_from_slice(&vals);
                            finish_pending(st, &out);
                            None
                        }
                        (PendingKind::Resume, false) => {
                            let e = err.clone().unwrap();
                            if !e.is_catchable() {
                                st.pending = None;
                                return Some(e);
                            }
                            finish_pending(st, &[Value::Boolean(false), e.value]);
                            None
                        }
                        (_, true) => {
                            finish_pending(st, &vals);
                            None
                        }
                        (_, false) => {
                            let mut e = err.clone().unwrap();
                            if let Value::String(s) = e.value {
                                let mut m = debug::where_(ctx, st, 1);
                                if !m.is_empty() && e.is_catchable() {
                                    m.extend_from_slice(s.as_bytes());
                                    e.value = Value::String(ctx.intern(&m));
                                }
                            }
                            st.pending = None;
                            Some(e)
                        }
                    }
                };
                if resumer_is_base {
                    if let Some(e) = deliver(base_st) {
                        match throw(ctx, resumer, base_st, e, floor) {
                            Ok(()) => {}
                            Err(e) => return Inner::Error(e),
                        }
                    }
                } else {
                    let mut st = resumer.state_mut(mc);
                    if let Some(e) = deliver(&mut st) {
                        if let Err(e) = throw(ctx, resumer, &mut st, e, 0) {
                            drop(st);
                            pending = Some(Inner::Error(e));
                        }
                    }
                }
            }
        }
    }
}

/// Checks that `co` can be resumed from `cur` and starts it.
fn start_resume<'gc>(
    ctx: Context<'gc>,
    cur: Thread<'gc>,
    cur_st: &mut ThreadState<'gc>,
    co: Thread<'gc>,
) -> Result<(), Error<'gc>> {
    let p = cur_st.pending.expect("resume pending");
    let first_arg = if p.kind == PendingKind::Wrap { p.func + 1 } else { p.func + 2 };
    let args: smallvec::SmallVec<[Value<'gc>; 8]> =
        smallvec::SmallVec::from_slice(&cur_st.stack[first_arg.min(cur_st.stack.len())..]);
    let status = co.status();
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
        finish_pending(cur_st, &[Value::Boolean(false), Value::String(ctx.intern(msg))]);
        return Ok(());
    }
    let mut co_st = co.state_mut(ctx.mutation());
    cur.set_status(ThreadStatus::Normal);
    co.set_status(ThreadStatus::Running);
    ctx.state().running.borrow_mut(ctx.mutation()).push(co);
    match transfer_to_coroutine(ctx, co, &mut co_st, &args) {
        Ok(_) => Ok(()),
        Err(e) => {
            // The coroutine's function failed at once (e.g. calling a non-function).
            drop(co_st);
            ctx.state().running.borrow_mut(ctx.mutation()).pop();
            co.set_status(ThreadStatus::Dead);
            cur.set_status(ThreadStatus::Running);
            if p.kind == PendingKind::Wrap {
                cur_st.pending = None;
                return Err(e);
            }
            finish_pending(cur_st, &[Value::Boolean(false), e.value]);
            Ok(())
        }
    }
}

/// Runs a nested call (made by a native function) until its boundary frame returns.
pub(crate) fn drive_nested<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    floor: usize,
) -> Result<(), Error<'gc>> {
    let mut fuel = i64::MAX / 2;
    finish(drive(ctx, thread, st, floor, true, &mut fuel, None), ctx, thread, st, floor)
}

/// Handles a nested call whose callee (a native) asked the driver for something at once.
pub(crate) fn finish_exit_nested<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    floor: usize,
    inner: Inner<'gc>,
) -> Result<(), Error<'gc>> {
    let mut fuel = i64::MAX / 2;
    let inner = match inner {
        Inner::Yield | Inner::Host => {
            st.pending = None;
            return Err(error_msg(ctx, b"attempt to yield across a C-call boundary"));
        }
        other => other,
    };
    finish(drive(ctx, thread, st, floor, true, &mut fuel, Some(inner)), ctx, thread, st, floor)
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
        Inner::OutOfFuel | Inner::Resume(_) => Err(error_msg(ctx, b"internal error in nested call")),
    }
}

// ----- host entry points -----

/// Prepares `thread` to call `f(args)` (its stack is reset).
pub fn start_call<'gc>(ctx: Context<'gc>, thread: Thread<'gc>, f: Value<'gc>, args: &[Value<'gc>]) {
    let mut st = thread.state_mut(ctx.mutation());
    st.stack.clear();
    st.frames.clear();
    st.tbc.clear();
    st.pending = None;
    st.stack.push(f);
    st.stack.extend_from_slice(args);
    st.top = st.stack.len();
    let mut running = ctx.state().running.borrow_mut(ctx.mutation());
    running.clear();
    running.push(thread);
    thread.set_status(ThreadStatus::Running);
    drop(running);
    // Mark the call as not yet started: a pending "start" is represented by no frames and
    // `top > 0`; `step` performs the precall.
    st.pending = Some(crate::thread::PendingCall {
        func: usize::MAX,
        nresults: -1,
        kind: PendingKind::Host,
        ret: ReturnTo::Caller,
    });
}

/// Runs one step of the call prepared by [`start_call`].
pub fn step<'gc>(ctx: Context<'gc>, thread: Thread<'gc>, fuel: i64) -> Exit {
    let mc = ctx.mutation();
    let mut st = thread.state_mut(mc);
    let mut fuel = fuel;
    let mut first = None;
    if let Some(p) = st.pending {
        if p.func == usize::MAX {
            st.pending = None;
            let nargs = st.stack.len() - 1;
            match precall(ctx, thread, &mut st, 0, nargs, -1, ReturnTo::Caller) {
                Ok(Flow::Reload) => {
                    if st.frames.is_empty() {
                        return Exit::Finished;
                    }
                }
                Ok(Flow::Exit(x)) => first = Some(x),
                Err(e) => {
                    st.frames.clear();
                    store_error(ctx, &mut st, e);
                    return Exit::Error;
                }
            }
        }
    }
    let r = drive(ctx, thread, &mut st, 0, false, &mut fuel, first);
    match r {
        Inner::Returned | Inner::BoundaryReturn => Exit::Finished,
        Inner::OutOfFuel => Exit::Pending,
        Inner::Yield => Exit::Yielded,
        Inner::Host => Exit::Host,
        Inner::Error(mut e) => {
            if e.traceback.is_none() {
                e.traceback = Some(debug::traceback_string(ctx, &st, 1));
            }
            let mc = ctx.mutation();
            let _ = mc;
            st.close_upvalues(ctx.mutation(), 0);
            st.frames.clear();
            st.tbc.clear();
            store_error(ctx, &mut st, e);
            Exit::Error
        }
        Inner::Resume(_) => Exit::Error,
    }
}

fn store_error<'gc>(ctx: Context<'gc>, st: &mut ThreadState<'gc>, e: Error<'gc>) {
    let _ = ctx;
    st.stack.clear();
    st.stack.push(e.value);
    st.top = 1;
    st.error = Some(e);
}

/// Takes the results of a finished call.
pub fn take_results<'gc>(thread: Thread<'gc>, ctx: Context<'gc>) -> Vec<Value<'gc>> {
    let mut st = thread.state_mut(ctx.mutation());
    let v = st.stack[..st.top.min(st.stack.len())].to_vec();
    st.stack.clear();
    st.top = 0;
    v
}

/// Takes the error of a failed call.
pub fn take_error<'gc>(thread: Thread<'gc>, ctx: Context<'gc>) -> Error<'gc> {
    let mut st = thread.state_mut(ctx.mutation());
    st.stack.clear();
    st.top = 0;
    st.error.take().unwrap_or_else(|| Error::new(Value::Nil))
}

/// Resets a thread after an abandoned call.
pub fn reset_thread<'gc>(ctx: Context<'gc>, thread: Thread<'gc>) {
    let mut st = thread.state_mut(ctx.mutation());
    st.close_upvalues(ctx.mutation(), 0);
    st.stack.clear();
    st.frames.clear();
    st.tbc.clear();
    st.pending = None;
    st.top = 0;
}

/// Calls `f(args)` to completion from the host inside one `enter` (no stepping).
pub fn call_nested<'gc>(ctx: Context<'gc>, f: Value<'gc>, args: &[Value<'gc>]) -> Result<Vec<Value<'gc>>, Error<'gc>> {
    let thread = ctx.state().main_thread;
    let running_was_empty = ctx.state().running.borrow().is_empty();
    if running_was_empty {
        ctx.state().running.borrow_mut(ctx.mutation()).push(thread);
    }
    let r = {
        let mut st = thread.state_mut(ctx.mutation());
        super::call::nested_call(ctx, thread, &mut st, f, args)
    };
    if running_was_empty {
        ctx.state().running.borrow_mut(ctx.mutation()).clear();
    }
    r
}

/// Closes a suspended or dead coroutine (`coroutine.close`): runs its pending `__close`
/// handlers and marks it dead. Returns the error object if closing failed.
pub fn close_thread<'gc>(ctx: Context<'gc>, co: Thread<'gc>) -> Option<Value<'gc>> {
    let mut st = co.state_mut(ctx.mutation());
    let prev_err = st.error.take();
    let r = close_tbc(ctx, co, &mut st, 0, None);
    kill_thread(ctx, co, &mut st);
    st.stack.clear();
    match r {
        Err(e) => Some(e.value),
        Ok(()) => prev_err.map(|e| e.value),
    }
}
