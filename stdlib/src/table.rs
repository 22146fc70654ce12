//! The table library (manual §6.6): metamethod-aware like Lua 5.4.

use interp::vm::{
    meta_equals, meta_index_value as index, meta_len, meta_less_than, meta_new_index as new_index,
};
use interp::{Error, NativeCall, Value};

use crate::util::{new_lib, Ret};

/// Opens the `table` library.
pub fn open_table(ctx: interp::Context<'_>) {
    new_lib(
        ctx,
        "table",
        &[
            ("concat", concat),
            ("insert", insert),
            ("move", move_),
            ("pack", pack),
            ("remove", remove),
            ("sort", sort),
            ("unpack", unpack),
        ],
    );
}

/// What an operation needs of a value that stands for a table (`ltablib.c`'s `TAB_R`...).
const TAB_R: u8 = 1;
const TAB_W: u8 = 2;
const TAB_L: u8 = 4;
const TAB_RW: u8 = TAB_R | TAB_W;

/// Checks that argument `i` is a table or has a metatable with every metamethod `what`
/// needs (`__index` to read, `__newindex` to write, `__len` for the length): `checktab`.
fn check_tab<'gc>(
    call: &NativeCall<'gc, '_>,
    i: usize,
    what: u8,
) -> Result<Value<'gc>, Error<'gc>> {
    let v = call.arg(i);
    if let Value::Table(_) = v {
        return Ok(v);
    }
    if let Some(mt) = call.ctx.metatable(v) {
        let has = |n: &'static [u8]| !mt.get_str(call.ctx.intern_static(n)).is_nil();
        if (what & TAB_R == 0 || has(b"__index"))
            && (what & TAB_W == 0 || has(b"__newindex"))
            && (what & TAB_L == 0 || has(b"__len"))
        {
            return Ok(v);
        }
    }
    Err(call.type_error(i, "table"))
}

fn geti<'gc>(
    call: &mut NativeCall<'gc, '_>,
    t: Value<'gc>,
    i: i64,
) -> Result<Value<'gc>, Error<'gc>> {
    if let Value::Table(tab) = t {
        if tab.metatable().is_none() {
            return Ok(tab.get_int(i));
        }
    }
    index(call, t, Value::Integer(i))
}

fn seti<'gc>(
    call: &mut NativeCall<'gc, '_>,
    t: Value<'gc>,
    i: i64,
    v: Value<'gc>,
) -> Result<(), Error<'gc>> {
    if let Value::Table(tab) = t {
        if tab.metatable().is_none() {
            tab.set_int(call.ctx.mutation(), i, v);
            return Ok(());
        }
    }
    new_index(call, t, Value::Integer(i), v)
}

fn length<'gc>(call: &mut NativeCall<'gc, '_>, t: Value<'gc>) -> Result<i64, Error<'gc>> {
    if let Value::Table(tab) = t {
        if tab.metatable().is_none() {
            return Ok(tab.length());
        }
    }
    meta_len(call, t)
}

fn insert<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let t = check_tab(call, 0, TAB_RW | TAB_L)?;
    let e = length(call, t)?.wrapping_add(1);
    match call.nargs() {
        2 => {
            let v = call.arg(1);
            seti(call, t, e, v)?;
        }
        3 => {
            let pos = call.check_integer(1)?;
            if (pos as u64).wrapping_sub(1) >= e as u64 {
                return Err(call.arg_error(1, "position out of bounds"));
            }
            let mut i = e;
            while i > pos {
                // One unit of fuel per element moved (`__len` may give any length).
                call.tick(1)?;
                let v = geti(call, t, i - 1)?;
                seti(call, t, i, v)?;
                i -= 1;
            }
            let v = call.arg(2);
            seti(call, t, pos, v)?;
        }
        _ => return Err(call.error("wrong number of arguments to 'insert'")),
    }
    call.ret0()
}

fn remove<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let t = check_tab(call, 0, TAB_RW | TAB_L)?;
    let size = length(call, t)?;
    let mut pos = call.opt_integer(1, size)?;
    if pos != size && (pos as u64).wrapping_sub(1) > size as u64 {
        return Err(call.arg_error(1, "position out of bounds"));
    }
    let v = geti(call, t, pos)?;
    while pos < size {
        call.tick(1)?;
        let next = geti(call, t, pos + 1)?;
        seti(call, t, pos, next)?;
        pos += 1;
    }
    seti(call, t, pos, Value::Nil)?;
    call.ret1(v)
}

fn move_<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = call.check_integer(1)?;
    let e = call.check_integer(2)?;
    let t = call.check_integer(3)?;
    let dest = if call.arg(4).is_nil() { 0 } else { 4 };
    let a1 = check_tab(call, 0, TAB_R)?;
    let tt = check_tab(call, dest, TAB_W)?;
    if e >= f {
        if !(f > 0 || e < i64::MAX + f) {
            return Err(call.arg_error(2, "too many elements to move"));
        }
        if t > i64::MAX - (e - f) {
            return Err(call.arg_error(3, "destination wrap around"));
        }
        if t > e || t <= f || (dest != 0 && !meta_equals(call, a1, tt)?) {
            for i in 0..=(e - f) {
                // One unit of fuel per element moved.
                call.tick(1)?;
                let v = geti(call, a1, f + i)?;
                seti(call, tt, t + i, v)?;
            }
        } else {
            let mut i = e - f;
            while i >= 0 {
                call.tick(1)?;
                let v = geti(call, a1, f + i)?;
                seti(call, tt, t + i, v)?;
                i -= 1;
            }
        }
    }
    call.ret1(tt)
}

fn concat<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let t = check_tab(call, 0, TAB_R | TAB_L)?;
    let sep = call
        .opt_string(1)?
        .map(|s| s.as_bytes().to_vec())
        .unwrap_or_default();
    let i = call.opt_integer(2, 1)?;
    let j = if call.arg(3).is_nil() {
        length(call, t)?
    } else {
        call.check_integer(3)?
    };
    let mut out = Vec::new();
    let mut k = i;
    // Fuel: one unit per 64 bytes built and per 16 values, charged as it goes.
    let cost = |bytes: usize, k: i64| bytes / 64 + (k - i) as u64 as usize / 16;
    let mut paid = 0;
    while k <= j {
        let c = cost(out.len(), k);
        call.tick(c - paid)?;
        paid = c;
        let v = geti(call, t, k)?;
        match v {
            Value::String(s) => out.extend_from_slice(s.as_bytes()),
            Value::Integer(_) | Value::Number(_) => {
                out.extend_from_slice(interp::vm::number_to_string(call.ctx, v).as_bytes())
            }
            _ => {
                // `luaL_typename`: the basic type, not `__name`.
                return Err(call.error(format!(
                    "invalid value ({}) at index {} in table for 'concat'",
                    v.type_name(),
                    k
                )));
            }
        }
        if k != j {
            out.extend_from_slice(&sep);
        }
        if k == i64::MAX {
            break;
        }
        k += 1;
    }
    if j >= i {
        call.tick(cost(out.len(), j).saturating_sub(paid))?;
    }
    let s = call.ctx.intern(&out);
    call.ret1(Value::String(s))
}

fn pack<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let n = call.nargs();
    let t = interp::Table::with_capacity(call.ctx.mutation(), n, 1);
    for i in 0..n {
        t.set_int(call.ctx.mutation(), i as i64 + 1, call.arg(i));
    }
    t.set_str(
        call.ctx.mutation(),
        call.ctx.intern_static(b"n"),
        Value::Integer(n as i64),
    );
    call.ret1(Value::Table(t))
}

fn unpack<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let t = call.arg(0);
    let i = call.opt_integer(1, 1)?;
    let e = if call.arg(2).is_nil() {
        length(call, t)?
    } else {
        call.check_integer(2)?
    };
    if i > e {
        return call.ret0();
    }
    let n = (e as i128 - i as i128 + 1) as u128;
    if n >= i32::MAX as u128 || !call.stack_fits(n as usize + 1) {
        return Err(call.error("too many results to unpack"));
    }
    let mut out = Vec::with_capacity(n as usize);
    for k in i..=e {
        out.push(geti(call, t, k)?);
    }
    call.ret(&out)
}

fn sort<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let t = check_tab(call, 0, TAB_RW | TAB_L)?;
    let n = length(call, t)?;
    if n > 1 {
        if n >= i32::MAX as i64 {
            return Err(call.arg_error(0, "array too big"));
        }
        let cmp = call.arg(1);
        if !cmp.is_nil() && !cmp.is_function() {
            return Err(call.type_error(1, "function"));
        }
        Sorter { t, cmp }.auxsort(call, 1, n, 0)?;
    }
    call.ret0()
}

/// Intervals shorter than this use the middle element as pivot (ltablib.c's `RANLIMIT`).
const RANLIMIT: i64 = 100;

/// The quicksort of ltablib.c, reading and writing the table as it goes.
struct Sorter<'gc> {
    t: Value<'gc>,
    cmp: Value<'gc>,
}

type SortResult<'gc, T> = Result<T, Error<'gc>>;

impl<'gc> Sorter<'gc> {
    fn less(
        &self,
        call: &mut NativeCall<'gc, '_>,
        a: Value<'gc>,
        b: Value<'gc>,
    ) -> SortResult<'gc, bool> {
        // One unit of fuel per comparison (a Lua comparator charges its own as well).
        call.tick(1)?;
        if self.cmp.is_nil() {
            return meta_less_than(call, a, b, false);
        }
        let r = call.call(self.cmp, &[a, b])?;
        Ok(r.first().copied().unwrap_or_default().is_truthy())
    }

    fn get(&self, call: &mut NativeCall<'gc, '_>, i: i64) -> SortResult<'gc, Value<'gc>> {
        geti(call, self.t, i)
    }

    /// C's `set2` after pushing `vi` then `vj`: `t[i] = vj; t[j] = vi`.
    fn set2(
        &self,
        call: &mut NativeCall<'gc, '_>,
        i: i64,
        vj: Value<'gc>,
        j: i64,
        vi: Value<'gc>,
    ) -> SortResult<'gc, ()> {
        seti(call, self.t, i, vj)?;
        seti(call, self.t, j, vi)
    }

    /// Sorts `a[lo]`, `a[p]` and `a[up]`; returns false when the interval is done.
    fn median3(
        &self,
        call: &mut NativeCall<'gc, '_>,
        lo: i64,
        up: i64,
        rnd: u32,
    ) -> SortResult<'gc, Option<i64>> {
        let (a_lo, a_up) = (self.get(call, lo)?, self.get(call, up)?);
        if self.less(call, a_up, a_lo)? {
            self.set2(call, lo, a_up, up, a_lo)?;
        }
        if up - lo == 1 {
            return Ok(None);
        }
        let p = if up - lo < RANLIMIT || rnd == 0 {
            (lo + up) / 2
        } else {
            let r4 = (up - lo) / 4;
            i64::from(rnd) % (r4 * 2) + lo + r4
        };
        let (a_p, a_lo) = (self.get(call, p)?, self.get(call, lo)?);
        if self.less(call, a_p, a_lo)? {
            self.set2(call, p, a_lo, lo, a_p)?;
        } else {
            let a_up = self.get(call, up)?;
            if self.less(call, a_up, a_p)? {
                self.set2(call, p, a_up, up, a_p)?;
            }
        }
        Ok((up - lo != 2).then_some(p))
    }

    fn partition(
        &self,
        call: &mut NativeCall<'gc, '_>,
        lo: i64,
        up: i64,
        pivot: Value<'gc>,
    ) -> SortResult<'gc, i64> {
        let (mut i, mut j) = (lo, up - 1);
        loop {
            i += 1;
            let mut a_i = self.get(call, i)?;
            while self.less(call, a_i, pivot)? {
                if i == up - 1 {
                    return Err(call.error("invalid order function for sorting"));
                }
                i += 1;
                a_i = self.get(call, i)?;
            }
            j -= 1;
            let mut a_j = self.get(call, j)?;
            while self.less(call, pivot, a_j)? {
                if j < i {
                    return Err(call.error("invalid order function for sorting"));
                }
                j -= 1;
                a_j = self.get(call, j)?;
            }
            if j < i {
                self.set2(call, up - 1, a_i, i, pivot)?;
                return Ok(i);
            }
            self.set2(call, i, a_j, j, a_i)?;
        }
    }

    fn auxsort(
        &self,
        call: &mut NativeCall<'gc, '_>,
        mut lo: i64,
        mut up: i64,
        mut rnd: u32,
    ) -> SortResult<'gc, ()> {
        while lo < up {
            let Some(p) = self.median3(call, lo, up, rnd)? else {
                break;
            };
            let pivot = self.get(call, p)?;
            let a_up1 = self.get(call, up - 1)?;
            self.set2(call, p, a_up1, up - 1, pivot)?;
            let p = self.partition(call, lo, up, pivot)?;
            let n;
            if p - lo < up - p {
                self.auxsort(call, lo, p - 1, rnd)?;
                n = p - lo;
                lo = p + 1;
            } else {
                self.auxsort(call, p + 1, up, rnd)?;
                n = up - p;
                up = p - 1;
            }
            if (up - lo) / 128 > n {
                rnd = randomize_pivot(lo, up, rnd);
            }
        }
        Ok(())
    }
}

/// A varying value to randomize pivots after a bad partition (ltablib.c's
/// `l_randomizePivot`, which reads the clock): a hash of the interval and the previous value,
/// so a sort makes the same comparisons, and costs the same fuel, on every run.
fn randomize_pivot(lo: i64, up: i64, prev: u32) -> u32 {
    let mut x = (lo as u64) ^ (up as u64).rotate_left(32) ^ u64::from(prev) ^ 0x9e37_79b9_7f4a_7c15;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^= x >> 33;
    x as u32 | 1
}
