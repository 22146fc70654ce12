//! Lua tables, laid out as C Lua 5.4.8's `ltable.c` lays them out.
//!
//! A table has an array part (integer keys `1..=n`) and a hash part: a power-of-two vector of
//! nodes, a chained scatter table with Brent's variation (a key that is not in its main
//! position was put there because its main position was taken by a key that is in its own).
//! The algorithms are ltable.c's, re-implemented: main positions (`hashint`, `l_hashfloat`,
//! `hashpow2` for booleans; strings and objects use our own hashes and addresses), `newkey`
//! with `getfreepos` walking `lastfree` down, `rehash` (`numusearray`, `numusehash`,
//! `computesizes`), `luaH_resize` (which re-inserts the vanishing array slice first, then the
//! old nodes from index 0 up), `luaH_getn` and `luaH_getint` moving `alimit`, and `luaH_next`.
//! So for tables without string (or object) keys, the border `#t` and the order of `next` are
//! the ones C Lua gives.
//!
//! A key whose value became nil keeps its node until the next rehash: assigning to it again
//! reuses the node, and `next` keeps working while a traversal assigns nil to fields. Such a
//! key is not traced by the collector (C Lua's dead keys), so when it is a collectable object
//! it may have been freed: it is compared by address only and never dereferenced.

use std::cell::{Cell, UnsafeCell};
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ptr::NonNull;

use gc_arena::{Collect, Gc, Mutation};

use super::{tag, LuaString, Value};

/// A Lua table: a pointer-sized `Copy` handle.
#[derive(Clone, Copy, Collect)]
#[collect(no_drop)]
pub struct Table<'gc>(pub Gc<'gc, TableCell<'gc>>);

/// The GC box of a table: its state, without a borrow flag (8 bytes less per table than a
/// `RefLock`). Access goes through `Table`'s methods, which uphold the aliasing rules (see
/// `Table::read`) and issue the write barrier (`Gc::write`) before mutation.
pub struct TableCell<'gc>(UnsafeCell<TableState<'gc>>);

// SAFETY: traces exactly what `TableState` traces; no `&mut TableState` is alive while the
// collector traces (collection runs between mutations, never inside a table method).
unsafe impl<'gc> Collect<'gc> for TableCell<'gc> {
    fn trace<T: gc_arena::collect::Trace<'gc>>(&self, cc: &mut T) {
        // SAFETY: see above.
        unsafe { &*self.0.get() }.trace(cc)
    }
}

/// One node of the hash part: a key, a value and the offset of the next node of its chain
/// (0: end of chain), in 24 bytes like C Lua's `Node`. Key and value are stored as a tag byte
/// and a payload word each ([`Value::to_parts`]). A node never used has a nil key; a node
/// whose value is nil is free for a key whose main position it is (see `new_key`).
#[derive(Clone, Copy)]
#[repr(C)]
struct Node<'gc> {
    val: MaybeUninit<u64>,
    key: MaybeUninit<u64>,
    val_tag: u8,
    key_tag: u8,
    next: i32,
    _values: PhantomData<Value<'gc>>,
}

impl<'gc> Node<'gc> {
    /// A node never used: nil key, nil value, no successor.
    const FREE: Node<'gc> = Node {
        val: MaybeUninit::uninit(),
        key: MaybeUninit::uninit(),
        val_tag: tag::NIL,
        key_tag: tag::NIL,
        next: 0,
        _values: PhantomData,
    };

    #[inline(always)]
    fn value(&self) -> Value<'gc> {
        // SAFETY: `val_tag`/`val` are only written together, from `to_parts` (or nil).
        unsafe { Value::from_parts(self.val_tag, self.val) }
    }

    #[inline(always)]
    fn key(&self) -> Value<'gc> {
        // SAFETY: `key_tag`/`key` are only written together, from `to_parts` (or nil).
        unsafe { Value::from_parts(self.key_tag, self.key) }
    }

    #[inline(always)]
    fn set_value(&mut self, v: Value<'gc>) {
        let (t, p) = v.to_parts();
        self.val_tag = t;
        self.val = p;
    }

    #[inline(always)]
    fn set_key(&mut self, k: Value<'gc>) {
        let (t, p) = k.to_parts();
        self.key_tag = t;
        self.key = p;
    }

    #[inline(always)]
    fn value_is_nil(&self) -> bool {
        self.val_tag == tag::NIL
    }

    /// True if the key is the integer `i`.
    #[inline(always)]
    fn key_is_int(&self, i: i64) -> bool {
        // SAFETY: an integer tag comes with an initialized i64 payload.
        self.key_tag == tag::INTEGER && unsafe { self.key.assume_init() } as i64 == i
    }

    /// True if the key is the string object `s` (pointer identity: no dereference, so also
    /// valid for a dead key).
    #[inline(always)]
    fn key_is_str(&self, s: LuaString<'gc>) -> bool {
        self.key_tag == tag::STRING
            && matches!(self.key(), Value::String(k) if Gc::ptr_eq(k.0, s.0))
    }
}

/// The array part's slots: `len` values (C Lua's real size) in an allocation of `cap`. Like
/// a `Vec` in 16 bytes (lengths fit in 32 bits: at most 2^31 slots). The capacity may exceed
/// the length, which C Lua's `realloc`s do not do: the layout (the length) is C Lua's, but a
/// small array starts with room for 2 and growth doubles, so `{x, f()}` and SETLIST over a long
/// constructor do not reallocate each time.
struct ArrayPart<'gc> {
    ptr: NonNull<Value<'gc>>,
    len: u32,
    cap: u32,
}

impl<'gc> ArrayPart<'gc> {
    const EMPTY: ArrayPart<'gc> = ArrayPart {
        ptr: NonNull::dangling(),
        len: 0,
        cap: 0,
    };

    /// Smallest allocation.
    const MIN_CAP: usize = 2;

    /// Allocated slots.
    fn capacity(&self) -> usize {
        self.cap as usize
    }

    /// Sets the length to `n`: new slots are nil; the allocation grows to at least `n`
    /// slots (at least twice what it was), and shrinks to `n` when that is under half of it.
    #[inline]
    fn resize(&mut self, n: usize) {
        let (len, cap) = (self.len as usize, self.cap as usize);
        if n > cap || n < cap / 2 || (n == 0 && cap > 0) {
            self.reallocate_for(n);
        }
        if n > len {
            // SAFETY: `n <= cap` slots are allocated; `len..n` are written before use.
            unsafe {
                for i in len..n {
                    self.ptr.as_ptr().add(i).write(Value::Nil);
                }
            }
        }
        self.len = n as u32;
    }

    /// The allocation for a length of `n` (see `resize`).
    #[inline(never)]
    fn reallocate_for(&mut self, n: usize) {
        assert!(n as u64 <= MAXASIZE, "array part of {n} slots");
        let cap = self.cap as usize;
        if n > cap {
            self.reallocate(n.max((2 * cap).min(MAXASIZE as usize)).max(Self::MIN_CAP));
        } else if n == 0 {
            self.reallocate(0);
        } else {
            self.reallocate(n.max(Self::MIN_CAP));
        }
    }

    /// Moves the slots to an allocation of `new_cap` slots (none for 0); the length is cut
    /// to fit.
    fn reallocate(&mut self, new_cap: usize) {
        use std::alloc::{alloc, dealloc, handle_alloc_error, realloc, Layout};
        let old = Layout::array::<Value<'gc>>(self.cap as usize).expect("array part size");
        let new = Layout::array::<Value<'gc>>(new_cap).expect("array part size");
        if new_cap == 0 {
            if self.cap > 0 {
                // SAFETY: `ptr` was allocated with layout `old` (`cap > 0`).
                unsafe { dealloc(self.ptr.as_ptr() as *mut u8, old) };
            }
            // (Field by field: assigning `*self` would drop the old part, freeing it again.)
            self.ptr = NonNull::dangling();
            self.len = 0;
            self.cap = 0;
            return;
        }
        let p = if self.cap == 0 {
            // SAFETY: `new` has a nonzero size.
            unsafe { alloc(new) }
        } else {
            // SAFETY: `ptr` was allocated with layout `old`; the new size is nonzero and
            // fits `isize` (`Layout::array` checked it).
            unsafe { realloc(self.ptr.as_ptr() as *mut u8, old, new.size()) }
        };
        self.ptr = NonNull::new(p as *mut Value<'gc>).unwrap_or_else(|| handle_alloc_error(new));
        self.cap = new_cap as u32;
        self.len = self.len.min(self.cap);
    }
}

impl<'gc> std::ops::Deref for ArrayPart<'gc> {
    type Target = [Value<'gc>];

    #[inline(always)]
    fn deref(&self) -> &[Value<'gc>] {
        // SAFETY: `ptr` holds `len` initialized values (dangling and 0 when empty).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len as usize) }
    }
}

impl<'gc> std::ops::DerefMut for ArrayPart<'gc> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut [Value<'gc>] {
        // SAFETY: as in `deref`, and `&mut self` is exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len as usize) }
    }
}

impl<'gc> Drop for ArrayPart<'gc> {
    fn drop(&mut self) {
        self.reallocate(0);
    }
}

/// The contents of a table.
pub struct TableState<'gc> {
    /// The array part; its length is C Lua's "real size" (`luaH_realasize`).
    array: ArrayPart<'gc>,
    /// The hash part: a power-of-two number of nodes, or none (C Lua's dummy node).
    nodes: Box<[Node<'gc>]>,
    metatable: Option<Table<'gc>>,
    /// C Lua's `alimit`: at most the array's length, and a hint for `#` when smaller (C Lua's
    /// "real size" flag is clear exactly when `alimit` equals the length). `#` and integer
    /// reads move it, as in C Lua, hence the `Cell`.
    alimit: Cell<u32>,
    /// Nodes at or above this index are not free (`getfreepos` walks it down).
    lastfree: u32,
    /// False when the array part holds no GC pointer (so the collector skips it: arrays of
    /// numbers are common and C Lua's sizes leave nil tails). Every store of a collectable
    /// value into the array sets it; a trace that finds none clears it.
    array_gc: Cell<bool>,
    /// Metamethod-absent cache: bit `i` set means the metamethod `i` is known to be absent
    /// when this table is used as a metatable (C Lua's `flags`). Cleared on any string-keyed
    /// assignment.
    pub flags: Cell<u8>,
    /// Weakness from the metatable's `__mode`: bit 0 weak keys, bit 1 weak values.
    pub weak: Cell<u8>,
}

impl<'gc> Default for TableState<'gc> {
    fn default() -> Self {
        TableState {
            array: ArrayPart::EMPTY,
            nodes: Box::new([]),
            metatable: None,
            alimit: Cell::new(0),
            lastfree: 0,
            array_gc: Cell::new(false),
            flags: Cell::new(0),
            weak: Cell::new(0),
        }
    }
}

impl<'gc> Drop for TableState<'gc> {
    fn drop(&mut self) {
        crate::memory::release(TABLE_SIZE + self.heap_size());
    }
}

/// Bytes charged per table besides its parts (the state and the collector's header).
const TABLE_SIZE: usize = 96;

/// Bytes per array slot.
const SLOT_SIZE: usize = std::mem::size_of::<Value<'static>>();

/// Bytes per hash node.
pub const NODE_SIZE: usize = std::mem::size_of::<Node<'static>>();

/// Largest array part: keys `1..=2^31` can live in it (ltable.c's `MAXASIZE`).
const MAXABITS: usize = 31;
const MAXASIZE: u64 = 1 << MAXABITS;

/// Weak keys (`__mode` contains 'k').
pub const WEAK_KEYS: u8 = 1;
/// Weak values (`__mode` contains 'v').
pub const WEAK_VALUES: u8 = 2;

/// Traces a value held weakly: strings (values, never weak) are traced; collectable objects
/// are not traced at all, so that an object nothing else reaches is freed in this cycle's
/// sweep, as C Lua frees it (a weak trace would keep its memory for one more cycle, and
/// count it as remembered in the collector's pacing: a weak table filled with garbage then
/// made every cycle longer than the last). The collector clears such entries (or
/// resurrects what they must keep) in its finalization phase, while every object is still
/// allocated (`Collector::clear_weak`, `converge_ephemerons`, `separate_finalizable`).
#[inline]
fn trace_weak<'gc, T: gc_arena::collect::Trace<'gc>>(v: &Value<'gc>, cc: &mut T) {
    if !v.is_collectable() {
        cc.trace(v);
    }
}

/// True for values holding a pointer to a collected object.
#[inline(always)]
fn is_gc_pointer(v: Value<'_>) -> bool {
    matches!(
        v,
        Value::String(_)
            | Value::Table(_)
            | Value::Closure(_)
            | Value::Native(_)
            | Value::Thread(_)
            | Value::UserData(_)
    )
}

// SAFETY: traces every GC pointer the table holds, except (1) the keys of dead entries (their
// value is nil: C Lua's dead keys), which are never dereferenced: they are only compared by
// address and dropped at the next rehash; (2) the objects in weak parts, which the
// collector's finalization phase finds dead or alive while all of them are still allocated,
// clearing the entries of the dead ones (their keys become dead keys, case 1) before sweeping
// frees anything (`Collector::clear_weak`). The array part is skipped while `array_gc` says
// it holds no GC pointer (every store of one sets it).
unsafe impl<'gc> Collect<'gc> for TableState<'gc> {
    fn trace<T: gc_arena::collect::Trace<'gc>>(&self, cc: &mut T) {
        let weak = self.weak.get();
        if self.array_gc.get() {
            let mut any = false;
            for v in self.array.iter().filter(|v| is_gc_pointer(**v)) {
                any = true;
                if weak & WEAK_VALUES != 0 {
                    trace_weak(v, cc);
                } else {
                    cc.trace(v);
                }
            }
            self.array_gc.set(any);
        }
        for n in self.nodes.iter() {
            if n.value_is_nil() {
                continue;
            }
            let (key, value) = (n.key(), n.value());
            if weak == WEAK_KEYS | WEAK_VALUES {
                // C Lua marks no key of an all-weak table while traversing it: a string key
                // (never weak) lives on only if its entry does (`State::clear_weak`).
                match key {
                    Value::String(s) => {
                        cc.trace_gc_weak(gc_arena::GcWeak::erase(Gc::downgrade(s.0)))
                    }
                    _ => trace_weak(&key, cc),
                }
            } else if weak & WEAK_KEYS != 0 {
                trace_weak(&key, cc);
            } else {
                cc.trace(&key);
            }
            // An ephemeron (weak keys, strong values) keeps a value only while its key is
            // reachable: values under collectable keys are traced weakly here and resurrected
            // by the collector's convergence rounds (`State::converge_ephemerons`) when their
            // key turns out to be alive.
            if weak & WEAK_VALUES != 0 || (weak & WEAK_KEYS != 0 && key.is_collectable()) {
                trace_weak(&value, cc);
            } else {
                cc.trace(&value);
            }
        }
        cc.trace(&self.metatable);
    }
}

/// `next` was given a key that is not in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidKey;

/// Why a key cannot be stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// The key is `nil`.
    Nil,
    /// The key is a float NaN.
    NaN,
}

impl KeyError {
    /// C Lua's message.
    pub fn message(self) -> &'static str {
        match self {
            KeyError::Nil => "table index is nil",
            KeyError::NaN => "table index is NaN",
        }
    }
}

/// `frexp`: `x = m * 2^e` with `0.5 <= |m| < 1` (`x` itself for 0, infinities and NaN).
fn frexp(x: f64) -> (f64, i32) {
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    match exp {
        0 if x == 0.0 => (x, 0),
        0 => {
            // Subnormal: scale into the normal range first (exactly).
            let (m, e) = frexp(x * f64::from_bits(0x43f0_0000_0000_0000)); // 2^64
            (m, e - 64)
        }
        0x7ff => (x, 0),
        _ => (
            f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52)),
            exp - 1022,
        ),
    }
}

/// ltable.c's `l_hashfloat`: a non-negative `int`.
fn hash_float(n: f64) -> u32 {
    let (m, e) = frexp(n);
    // Times -(INT_MIN); then `lua_numbertointeger`, which fails for infinities and NaN.
    let n = m * 2_147_483_648.0;
    if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&n) {
        return 0;
    }
    let u = (e as u32).wrapping_add(n as i64 as u32);
    if u <= i32::MAX as u32 {
        u
    } else {
        !u
    }
}

/// `luaO_ceillog2`: the smallest `l` with `2^l >= x`, for `x >= 1`.
#[inline]
fn ceil_log2(x: usize) -> usize {
    debug_assert!(x >= 1);
    (usize::BITS - (x - 1).leading_zeros()) as usize
}

/// `ispow2` of llimits.h (true for 0).
#[inline]
fn is_pow2(x: usize) -> bool {
    x & x.wrapping_sub(1) == 0
}

/// ltable.c's `arrayindex`: `k` if it may live in an array part, else 0.
#[inline]
fn array_index(k: i64) -> usize {
    if (k as u64).wrapping_sub(1) < MAXASIZE {
        k as usize
    } else {
        0
    }
}

/// ltable.c's `countint`: counts `key` in `nums` if it may live in an array part.
#[inline]
fn count_int(key: i64, nums: &mut [u32; MAXABITS + 1]) -> u32 {
    let k = array_index(key);
    if k != 0 {
        nums[ceil_log2(k)] += 1;
        1
    } else {
        0
    }
}

/// ltable.c's `computesizes`: the optimal array size for the counts in `nums` (`nums[i]`:
/// integer keys in `(2^(i-1), 2^i]`); `pna` enters with the number of integer keys and leaves
/// with the number that go to the array part.
fn compute_sizes(nums: &[u32; MAXABITS + 1], pna: &mut u32) -> u32 {
    let mut a = 0u32;
    let mut na = 0u32;
    let mut optimal = 0u32;
    let mut twotoi = 1u32;
    let mut i = 0;
    while twotoi > 0 && *pna > twotoi / 2 {
        a += nums[i];
        if a > twotoi / 2 {
            optimal = twotoi;
            na = a;
        }
        i += 1;
        twotoi = twotoi.wrapping_mul(2);
    }
    *pna = na;
    optimal
}

/// Binary search for a border in `array[i..j]` (1-based: `array[i]` is present or `i` is 0,
/// `array[j]` is absent).
fn binsearch(array: &[Value<'_>], mut i: usize, mut j: usize) -> usize {
    while j - i > 1 {
        let m = (i + j) / 2;
        if array[m - 1].is_nil() {
            j = m;
        } else {
            i = m;
        }
    }
    i
}

/// A fresh hash part for `size` entries (`setnodevector`): `2^ceil(log2 size)` free nodes,
/// none for 0.
fn node_vector<'gc>(size: usize) -> Box<[Node<'gc>]> {
    if size == 0 {
        return Box::new([]);
    }
    vec![Node::FREE; 1 << ceil_log2(size)].into_boxed_slice()
}

/// Charges or releases the change of a table's heap size.
fn account(before: usize, after: usize) {
    if after > before {
        crate::memory::charge(after - before);
    } else {
        crate::memory::release(before - after);
    }
}

/// Converts a float with an integral value to an integer key.
#[inline]
fn normalize(key: Value<'_>) -> Value<'_> {
    if let Value::Number(f) = key {
        if let Some(i) = crate::number::float_to_int_exact(f) {
            return Value::Integer(i);
        }
    }
    key
}

/// Where a key's value lives.
#[derive(Clone, Copy)]
enum Slot {
    Array(usize),
    Node(usize),
    Absent,
}

impl<'gc> TableState<'gc> {
    // ----- main positions -----

    /// `hashmod`: for keys whose hashes may have many factors of 2.
    #[inline(always)]
    fn hash_mod(&self, h: u64) -> usize {
        let m = (self.nodes.len() - 1) | 1;
        if h <= u32::MAX as u64 {
            (h as u32 % m as u32) as usize
        } else {
            (h % m as u64) as usize
        }
    }

    /// `hashint`.
    #[inline(always)]
    fn main_position_int(&self, i: i64) -> usize {
        self.hash_mod(i as u64)
    }

    /// `hashstr`: strings use their own hash (C Lua's order is not reproduced for them).
    #[inline(always)]
    fn main_position_str(&self, s: LuaString<'gc>) -> usize {
        s.hash() as usize & (self.nodes.len() - 1)
    }

    /// `mainpositionTV`, for a non-nil key (which is alive: a dead key's main position is
    /// never needed). The hash part must not be empty.
    fn main_position(&self, key: Value<'gc>) -> usize {
        match key {
            Value::Integer(i) => self.main_position_int(i),
            Value::String(s) => self.main_position_str(s),
            Value::Number(f) => self.hash_mod(hash_float(f) as u64),
            Value::Boolean(b) => b as usize & (self.nodes.len() - 1),
            // `hashpointer`: the address's low 32 bits.
            other => self.hash_mod(other.gc_address().unwrap_or(0) as u32 as u64),
        }
    }

    /// Follows the chain from node `n`.
    #[inline(always)]
    fn chain_next(&self, n: usize) -> Option<usize> {
        let nx = self.nodes[n].next;
        (nx != 0).then(|| (n as isize + nx as isize) as usize)
    }

    // ----- lookups -----

    /// The node of integer key `i` (hash part only).
    #[inline]
    fn find_int_node(&self, i: i64) -> Option<usize> {
        if self.nodes.is_empty() {
            return None;
        }
        let mut n = self.main_position_int(i);
        loop {
            if self.nodes[n].key_is_int(i) {
                return Some(n);
            }
            n = self.chain_next(n)?;
        }
    }

    /// The node holding string key `s` (live or dead), if any.
    #[inline(always)]
    fn find_str_node(&self, s: LuaString<'gc>) -> Option<usize> {
        if !s.is_short() {
            return self.find_long_str_node(s);
        }
        let nodes = &*self.nodes;
        if nodes.is_empty() {
            return None;
        }
        // Short strings are interned: pointer equality decides.
        let mut n = s.hash() as usize & (nodes.len() - 1);
        loop {
            let node = &nodes[n];
            if node.key_is_str(s) {
                return Some(n);
            }
            if node.next == 0 {
                return None;
            }
            n = (n as isize + node.next as isize) as usize;
        }
    }

    /// `find_str_node` for a long string.
    #[inline(never)]
    fn find_long_str_node(&self, s: LuaString<'gc>) -> Option<usize> {
        if self.nodes.is_empty() {
            return None;
        }
        let mut n = self.main_position_str(s);
        // A dead key (nil value) may have been freed: it is compared by address only, and a
        // live key equal to `s` further on wins over it.
        let mut dead = None;
        loop {
            let node = &self.nodes[n];
            if node.key_tag == tag::STRING {
                if node.value_is_nil() {
                    if dead.is_none() && node.key_is_str(s) {
                        dead = Some(n);
                    }
                } else if matches!(node.key(), Value::String(k) if k == s) {
                    return Some(n);
                }
            }
            match self.chain_next(n) {
                Some(nx) => n = nx,
                None => return dead,
            }
        }
    }

    /// The node holding `key` (normalized, not nil), live or dead (`getgeneric` with
    /// `deadok`: a dead collectable key is compared by address, and a live equal long string
    /// further on wins over it).
    fn find_node(&self, key: Value<'gc>) -> Option<usize> {
        if self.nodes.is_empty() {
            return None;
        }
        match key {
            Value::Integer(i) => return self.find_int_node(i),
            Value::String(s) => return self.find_str_node(s),
            _ => {}
        }
        let (key_tag, _) = key.to_parts();
        let mut n = self.main_position(key);
        loop {
            let node = &self.nodes[n];
            if node.key_tag == key_tag {
                let same = match (node.key(), key) {
                    (Value::Number(x), Value::Number(y)) => x == y,
                    (Value::Boolean(x), Value::Boolean(y)) => x == y,
                    // Objects (live or dead) by address, never dereferenced.
                    (x, y) => x.gc_address() == y.gc_address(),
                };
                if same {
                    return Some(n);
                }
            }
            n = self.chain_next(n)?;
        }
    }

    /// Where integer key `i` lives (`luaH_getint`): like C Lua, a key past `alimit` but
    /// inside the array moves `alimit` to it.
    #[inline(always)]
    fn int_slot(&self, i: i64) -> Slot {
        let k1 = (i as u64).wrapping_sub(1);
        if k1 < self.alimit.get() as u64 {
            return Slot::Array(k1 as usize);
        }
        self.int_slot_slow(i)
    }

    #[inline(never)]
    fn int_slot_slow(&self, i: i64) -> Slot {
        let k1 = (i as u64).wrapping_sub(1);
        if k1 < self.array.len() as u64 {
            // Past `alimit` but inside the array (C Lua finds it with its "Xmilia trick").
            self.alimit.set(i as u32);
            return Slot::Array(k1 as usize);
        }
        match self.find_int_node(i) {
            Some(n) => Slot::Node(n),
            None => Slot::Absent,
        }
    }

    #[inline(always)]
    fn slot_value(&self, slot: Slot) -> Value<'gc> {
        match slot {
            Slot::Array(k) => self.array[k],
            Slot::Node(n) => self.nodes[n].value(),
            Slot::Absent => Value::Nil,
        }
    }

    /// Raw get with an integer key.
    #[inline(always)]
    pub fn get_int(&self, i: i64) -> Value<'gc> {
        let k1 = (i as u64).wrapping_sub(1);
        if k1 < self.alimit.get() as u64 {
            debug_assert!(self.alimit.get() as usize <= self.array.len());
            // SAFETY: `alimit <= array.len()` always (every write of `alimit` keeps it).
            return unsafe { *self.array.get_unchecked(k1 as usize) };
        }
        self.get_int_slow(i)
    }

    #[inline(never)]
    fn get_int_slow(&self, i: i64) -> Value<'gc> {
        self.slot_value(self.int_slot_slow(i))
    }

    /// Raw get with a string key.
    #[inline]
    pub fn get_str(&self, s: LuaString<'gc>) -> Value<'gc> {
        match self.find_str_node(s) {
            Some(n) => self.nodes[n].value(),
            None => Value::Nil,
        }
    }

    /// Sets an existing string key's value; false if the key is absent or its value is nil.
    #[inline]
    pub fn replace_str(&mut self, s: LuaString<'gc>, value: Value<'gc>) -> bool {
        match self.find_str_node(s) {
            Some(n) if !self.nodes[n].value_is_nil() => {
                self.nodes[n].set_value(value);
                true
            }
            _ => false,
        }
    }

    /// Raw get (`rawget`).
    #[inline]
    pub fn get(&self, key: Value<'gc>) -> Value<'gc> {
        match key {
            Value::Integer(i) => self.get_int(i),
            Value::String(s) => self.get_str(s),
            Value::Nil => Value::Nil,
            Value::Number(f) => match crate::number::float_to_int_exact(f) {
                Some(i) => self.get_int(i),
                None => self.get_generic(key),
            },
            _ => self.get_generic(key),
        }
    }

    fn get_generic(&self, key: Value<'gc>) -> Value<'gc> {
        match self.find_node(key) {
            Some(n) => self.nodes[n].value(),
            None => Value::Nil,
        }
    }

    // ----- assignment -----

    /// Raw set (`rawset`). Fails for a nil or NaN key.
    pub fn set(&mut self, key: Value<'gc>, value: Value<'gc>) -> Result<(), KeyError> {
        let key = match key {
            Value::Nil => return Err(KeyError::Nil),
            Value::Number(f) if f.is_nan() => return Err(KeyError::NaN),
            k => normalize(k),
        };
        self.set_normalized(key, value);
        Ok(())
    }

    /// `luaH_set` for a normalized key (not nil, not NaN, no integral float).
    fn set_normalized(&mut self, key: Value<'gc>, value: Value<'gc>) {
        match key {
            Value::Integer(i) => self.set_int(i, value),
            Value::String(s) => self.set_str(s, value),
            _ => match self.find_node(key) {
                Some(n) => self.nodes[n].set_value(value),
                None => self.new_key(key, value),
            },
        }
    }

    /// Raw set with an integer key (`luaH_setint`).
    #[inline]
    pub fn set_int(&mut self, i: i64, value: Value<'gc>) {
        match self.int_slot(i) {
            Slot::Array(k) => self.store_array(k, value),
            Slot::Node(n) => self.nodes[n].set_value(value),
            Slot::Absent => self.new_key(Value::Integer(i), value),
        }
    }

    /// Stores into array slot `k` (0-based), noting a GC pointer (see `array_gc`).
    #[inline(always)]
    fn store_array(&mut self, k: usize, v: Value<'gc>) {
        if is_gc_pointer(v) {
            self.array_gc.set(true);
        }
        self.array[k] = v;
    }

    /// Raw set with a string key.
    #[inline]
    pub fn set_str(&mut self, s: LuaString<'gc>, value: Value<'gc>) {
        self.flags.set(0);
        match self.find_str_node(s) {
            Some(n) => self.nodes[n].set_value(value),
            None => self.new_key(Value::String(s), value),
        }
    }

    /// `getfreepos`: the highest free node below `lastfree`.
    fn free_position(&mut self) -> Option<usize> {
        while self.lastfree > 0 {
            self.lastfree -= 1;
            if self.nodes[self.lastfree as usize].key_tag == tag::NIL {
                return Some(self.lastfree as usize);
            }
        }
        None
    }

    /// `luaH_newkey`: inserts a key known to be absent (normalized, not nil) into the hash
    /// part, rehashing when there is no free node. A nil value inserts nothing.
    fn new_key(&mut self, key: Value<'gc>, value: Value<'gc>) {
        if value.is_nil() {
            return;
        }
        if self.nodes.is_empty() {
            self.rehash(key);
            return self.set_normalized(key, value);
        }
        let mut mp = self.main_position(key);
        if !self.nodes[mp].value_is_nil() {
            // The main position is taken.
            let Some(f) = self.free_position() else {
                self.rehash(key);
                return self.set_normalized(key, value);
            };
            // The colliding node is live, so its key is alive.
            let mut othern = self.main_position(self.nodes[mp].key());
            if othern != mp {
                // It is out of its main position: move it to the free node and put the new
                // key in its place.
                // (Every live node is reachable from its key's main position.)
                while let Some(nx) = self.chain_next(othern).filter(|&nx| nx != mp) {
                    othern = nx;
                }
                debug_assert_eq!(self.chain_next(othern), Some(mp));
                self.nodes[othern].next = (f as isize - othern as isize) as i32;
                self.nodes[f] = self.nodes[mp];
                if self.nodes[mp].next != 0 {
                    self.nodes[f].next += (mp as isize - f as isize) as i32;
                    self.nodes[mp].next = 0;
                }
                self.nodes[mp].set_value(Value::Nil);
            } else {
                // It is in its main position: the new key goes to the free node.
                if self.nodes[mp].next != 0 {
                    let after = mp as isize + self.nodes[mp].next as isize;
                    self.nodes[f].next = (after - f as isize) as i32;
                } else {
                    debug_assert_eq!(self.nodes[f].next, 0);
                }
                self.nodes[mp].next = (f as isize - mp as isize) as i32;
                mp = f;
            }
        }
        let node = &mut self.nodes[mp];
        node.set_key(key);
        node.set_value(value);
    }

    // ----- rehash -----

    /// `setlimittosize`: `alimit` becomes the array's length.
    fn set_limit_to_size(&self) -> usize {
        let n = self.array.len();
        self.alimit.set(n as u32);
        n
    }

    /// `numusearray`: counts the array's entries into `nums`; returns their number.
    fn num_use_array(&self, nums: &mut [u32; MAXABITS + 1]) -> u32 {
        let asize = self.array.len();
        let mut ause = 0;
        let mut i = 1usize;
        let mut ttlg = 1usize;
        // Slice `lg` holds the keys in `(2^(lg-1), 2^lg]`.
        for count in nums.iter_mut() {
            let mut lim = ttlg;
            if lim > asize {
                lim = asize;
                if i > lim {
                    break;
                }
            }
            let lc = self.array[i - 1..lim]
                .iter()
                .filter(|v| !v.is_nil())
                .count() as u32;
            i = lim + 1;
            *count += lc;
            ause += lc;
            ttlg *= 2;
        }
        ause
    }

    /// `numusehash`: counts the hash part's entries (integer keys into `nums` and `pna`);
    /// returns their number.
    fn num_use_hash(&self, nums: &mut [u32; MAXABITS + 1], pna: &mut u32) -> u32 {
        let mut total = 0;
        let mut ause = 0;
        for n in self.nodes.iter().rev() {
            if !n.value_is_nil() {
                if n.key_tag == tag::INTEGER {
                    // SAFETY: an integer tag comes with an initialized i64 payload.
                    ause += count_int(unsafe { n.key.assume_init() } as i64, nums);
                }
                total += 1;
            }
        }
        *pna += ause;
        total
    }

    /// `rehash`: resizes both parts for the entries present plus the key `extra`.
    fn rehash(&mut self, extra: Value<'gc>) {
        let mut nums = [0u32; MAXABITS + 1];
        self.set_limit_to_size();
        let mut na = self.num_use_array(&mut nums);
        let mut total = na;
        total += self.num_use_hash(&mut nums, &mut na);
        if let Value::Integer(k) = extra {
            na += count_int(k, &mut nums);
        }
        total += 1;
        let asize = compute_sizes(&nums, &mut na);
        self.resize(asize as usize, (total - na) as usize);
    }

    /// `luaH_resize`: an array part of `new_asize` slots and a fresh hash part for `nhsize`
    /// entries; the entries of the vanishing array slice go to the new hash part first, then
    /// the old nodes are re-inserted from index 0 up.
    fn resize(&mut self, new_asize: usize, nhsize: usize) {
        if nhsize == 0 && self.nodes.is_empty() && new_asize >= self.array.len() {
            // Only the array part grows (`{f()}`, SETLIST on a table without a hash part).
            let before = self.heap_size();
            self.array.resize(new_asize);
            self.alimit.set(new_asize as u32);
            account(before, self.heap_size());
            return;
        }
        let before = self.heap_size();
        let old_asize = self.set_limit_to_size();
        let mut old_nodes = node_vector(nhsize);
        let mut old_lastfree = old_nodes.len() as u32;
        std::mem::swap(&mut self.nodes, &mut old_nodes);
        std::mem::swap(&mut self.lastfree, &mut old_lastfree);
        // `self` now has the new hash part, `old_*` the old one.
        if new_asize < old_asize {
            // The vanishing slice goes to the new hash part (where these keys are absent,
            // and which has room for them: no rehash).
            self.alimit.set(new_asize as u32);
            for i in new_asize..old_asize {
                let v = self.array[i];
                if !v.is_nil() {
                    self.new_key(Value::Integer(i as i64 + 1), v);
                }
            }
        }
        self.array.resize(new_asize);
        self.alimit.set(new_asize as u32);
        for n in old_nodes.iter() {
            if !n.value_is_nil() {
                let (k, v) = (n.key(), n.value());
                match k {
                    Value::Integer(i) => self.set_int(i, v),
                    // Absent from the fresh hash part.
                    _ => self.new_key(k, v),
                }
            }
        }
        drop(old_nodes);
        account(before, self.heap_size());
    }

    /// `luaH_resizearray`: resizes the array part, keeping the hash part's size.
    fn resize_array(&mut self, nasize: usize) {
        let nsize = self.nodes.len();
        self.resize(nasize, nsize);
    }

    /// Sizes a new table (`lua_createtable`, OP_NEWTABLE): `narr` array slots and room for
    /// `nhash` hash entries. Does nothing for two zeros.
    pub fn reserve(&mut self, narr: usize, nhash: usize) {
        if self.array.is_empty() && self.nodes.is_empty() {
            // A fresh table (the usual case): nothing to move.
            if narr > 0 {
                self.array.resize(narr);
                self.alimit.set(narr as u32);
            }
            if nhash > 0 {
                self.nodes = node_vector(nhash);
                self.lastfree = self.nodes.len() as u32;
            }
            crate::memory::charge(self.heap_size());
        } else if narr > 0 || nhash > 0 {
            self.resize(narr, nhash);
        }
    }

    /// OP_SETLIST: stores `values` at `offset + 1 ...`, growing the array part to hold them
    /// all first if it is shorter (`luaH_resizearray`).
    pub fn set_list(&mut self, offset: usize, values: &[Value<'gc>]) {
        if offset > self.array.len() {
            return self.set_list_past_array(offset, values);
        }
        let last = offset + values.len();
        if last > self.array.len() {
            self.resize_array(last);
        }
        if values.iter().any(|&v| is_gc_pointer(v)) {
            self.array_gc.set(true);
        }
        self.array[offset..last].copy_from_slice(values);
    }

    /// SETLIST past the end of the array part. Compiled constructors fill the array from
    /// where it ends (its size hint, or the previous SETLIST); only a malformed binary chunk
    /// skips slots, maybe billions: C Lua would try to allocate them, here the values are
    /// stored one by one.
    #[cold]
    #[inline(never)]
    fn set_list_past_array(&mut self, offset: usize, values: &[Value<'gc>]) {
        for (j, &v) in values.iter().enumerate() {
            self.set_int((offset + j) as i64 + 1, v);
        }
    }

    // ----- length -----

    /// The length operator without metamethods (`luaH_getn`): a border of the table, the one
    /// C Lua finds (it depends on `alimit`, which this moves as C Lua does).
    pub fn length(&self) -> i64 {
        let array = &self.array;
        let size = array.len();
        let mut limit = self.alimit.get() as usize;
        if limit > 0 && array[limit - 1].is_nil() {
            // There is a border before `limit`.
            if limit >= 2 && !array[limit - 2].is_nil() {
                if is_pow2(size) && !is_pow2(limit - 1) {
                    self.alimit.set((limit - 1) as u32);
                }
                return (limit - 1) as i64;
            }
            let border = binsearch(array, 0, limit);
            if is_pow2(size) && border > size / 2 {
                self.alimit.set(border as u32);
            }
            return border as i64;
        }
        if limit != size {
            // `limit` is present and the array goes on after it.
            if array[limit].is_nil() {
                return limit as i64;
            }
            limit = size;
            if array[limit - 1].is_nil() {
                let border = binsearch(array, self.alimit.get() as usize, limit);
                self.alimit.set(border as u32);
                return border as i64;
            }
        }
        // `limit` is the array's length, and zero or present.
        if self.nodes.is_empty() || self.hash_int_is_nil(limit as u64 + 1) {
            return limit as i64;
        }
        self.hash_search(limit as u64) as i64
    }

    /// True if integer key `k` (past the array part) is absent or nil.
    fn hash_int_is_nil(&self, k: u64) -> bool {
        match self.find_int_node(k as i64) {
            Some(n) => self.nodes[n].value_is_nil(),
            None => true,
        }
    }

    /// `hash_search`: a border past `j`, where `j` is zero or present and `j + 1` present.
    fn hash_search(&self, mut j: u64) -> u64 {
        let max = i64::MAX as u64;
        if j == 0 {
            j = 1;
        }
        let mut i;
        loop {
            i = j;
            if j <= max / 2 {
                j *= 2;
            } else {
                j = max;
                if self.hash_int_is_nil(j) {
                    break;
                }
                return j;
            }
            if self.hash_int_is_nil(j) {
                break;
            }
        }
        while j - i > 1 {
            let m = (i + j) / 2;
            if self.hash_int_is_nil(m) {
                j = m;
            } else {
                i = m;
            }
        }
        i
    }

    // ----- traversal -----

    /// The entry after `key` in traversal order (`luaH_next`): the array part, then the
    /// nodes in index order. `Err` if `key` is not in the table (a float with an integral
    /// value is not normalized here: C Lua rejects it too).
    pub fn next(&self, key: Value<'gc>) -> Result<Option<(Value<'gc>, Value<'gc>)>, InvalidKey> {
        let asize = self.array.len();
        let start = match key {
            Value::Nil => 0,
            Value::Integer(i) if (i as u64).wrapping_sub(1) < asize as u64 => i as usize,
            k => self.find_node(k).ok_or(InvalidKey)? + 1 + asize,
        };
        if start < asize {
            for (i, &v) in self.array[start..].iter().enumerate() {
                if !v.is_nil() {
                    return Ok(Some((Value::Integer((start + i) as i64 + 1), v)));
                }
            }
        }
        let from = start.saturating_sub(asize);
        for n in self.nodes.get(from..).unwrap_or(&[]) {
            if !n.value_is_nil() {
                return Ok(Some((n.key(), n.value())));
            }
        }
        Ok(None)
    }

    // ----- the rest -----

    /// The metatable.
    #[inline]
    pub fn metatable(&self) -> Option<Table<'gc>> {
        self.metatable
    }

    /// Sets the metatable.
    pub fn set_metatable(&mut self, mt: Option<Table<'gc>>) {
        self.metatable = mt;
    }

    /// Length of the array part (C Lua's real size).
    pub fn array_len(&self) -> usize {
        self.array.len()
    }

    /// Number of nodes of the hash part (0 for none).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Heap bytes owned by this table's parts (for memory accounting).
    pub fn heap_size(&self) -> usize {
        self.array.capacity() * SLOT_SIZE + self.nodes.len() * NODE_SIZE
    }

    /// Entries of an ephemeron table whose key is alive but whose value is not yet marked.
    pub fn ephemeron_values_to_mark(
        &self,
        is_dead: impl Fn(Value<'gc>) -> bool,
    ) -> Vec<Value<'gc>> {
        if self.weak.get() != WEAK_KEYS {
            return Vec::new();
        }
        self.nodes
            .iter()
            .filter(|n| !n.value_is_nil())
            .map(|n| (n.key(), n.value()))
            .filter(|&(k, v)| k.is_collectable() && !is_dead(k) && is_dead(v))
            .map(|(_, v)| v)
            .collect()
    }

    /// Clears the entries of a weak-values table whose value was found dead.
    pub fn clear_dead_values(&mut self, is_dead: impl Fn(Value<'gc>) -> bool) {
        if self.weak.get() & WEAK_VALUES == 0 {
            return;
        }
        for v in self.array.iter_mut() {
            if is_dead(*v) {
                *v = Value::Nil;
            }
        }
        for n in self.nodes.iter_mut() {
            if !n.value_is_nil() && is_dead(n.value()) {
                n.set_value(Value::Nil);
            }
        }
    }

    /// The string keys of an all-weak table's live entries (traced weakly: see `trace`).
    pub fn live_string_keys(&self) -> impl Iterator<Item = LuaString<'gc>> + '_ {
        let all_weak = self.weak.get() == WEAK_KEYS | WEAK_VALUES;
        self.nodes
            .iter()
            .filter(move |n| all_weak && !n.value_is_nil())
            .filter_map(|n| match n.key() {
                Value::String(s) => Some(s),
                _ => None,
            })
    }

    /// Clears entries whose weak key or weak value was found dead by the collector.
    pub fn clear_dead(&mut self, is_dead: impl Fn(Value<'gc>) -> bool) {
        let weak = self.weak.get();
        if weak & WEAK_VALUES != 0 {
            for v in self.array.iter_mut() {
                if is_dead(*v) {
                    *v = Value::Nil;
                }
            }
        }
        for n in self.nodes.iter_mut() {
            if n.value_is_nil() {
                continue;
            }
            if (weak & WEAK_KEYS != 0 && is_dead(n.key()))
                || (weak & WEAK_VALUES != 0 && is_dead(n.value()))
            {
                n.set_value(Value::Nil);
            }
        }
    }
}

impl<'gc> Table<'gc> {
    /// A new empty table.
    pub fn new(mc: &Mutation<'gc>) -> Table<'gc> {
        crate::memory::charge(TABLE_SIZE);
        Table(Gc::new(
            mc,
            TableCell(UnsafeCell::new(TableState::default())),
        ))
    }

    /// A new table sized for `narr` array entries and `nhash` others (`lua_createtable`).
    pub fn with_capacity(mc: &Mutation<'gc>, narr: usize, nhash: usize) -> Table<'gc> {
        crate::memory::charge(TABLE_SIZE);
        let mut st = TableState::default();
        st.reserve(narr, nhash);
        Table(Gc::new(mc, TableCell(UnsafeCell::new(st))))
    }

    /// The table state for mutation, after the write barrier.
    ///
    /// Callers keep the reference inside one table operation that never runs Lua code or
    /// touches another reference to this table's state (see `read`).
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    pub(crate) fn state_mut(self, mc: &Mutation<'gc>) -> &'gc mut TableState<'gc> {
        Gc::write(mc, self.0);
        // SAFETY: see `read`: no other reference to the state is alive during the operation.
        unsafe { &mut *self.0 .0.get() }
    }

    /// The table state for reading (see `read` for the aliasing rule).
    #[inline(always)]
    pub(crate) fn state(self) -> &'gc TableState<'gc> {
        // SAFETY: see `read`.
        unsafe { &*self.0 .0.get() }
    }

    /// Reads the table state (no borrow flag: see the SAFETY note).
    #[inline(always)]
    fn read<R>(self, f: impl FnOnce(&TableState<'gc>) -> R) -> R {
        // SAFETY: mutable borrows of a table only exist inside `Table`'s own methods and
        // `TableState` methods they call, which never run Lua code or call back into anything
        // that reads tables; the VM is single-threaded. So no `&mut TableState` is alive
        // while this shared reference is.
        f(unsafe { &*self.0 .0.get() })
    }

    /// Raw get.
    #[inline]
    pub fn get(self, key: Value<'gc>) -> Value<'gc> {
        self.read(|t| t.get(key))
    }

    /// Raw get by integer.
    #[inline]
    pub fn get_int(self, i: i64) -> Value<'gc> {
        self.read(|t| t.get_int(i))
    }

    /// Raw get by string.
    #[inline]
    pub fn get_str(self, s: LuaString<'gc>) -> Value<'gc> {
        self.read(|t| t.get_str(s))
    }

    /// The metatable, and the value of string key `s` (one read of the table).
    #[inline]
    pub fn get_str_and_metatable(self, s: LuaString<'gc>) -> (Value<'gc>, Option<Table<'gc>>) {
        self.read(|t| (t.get_str(s), t.metatable))
    }

    /// Assigns `t[s] = v` if the key is present or the table has no metatable (the cases
    /// where no `__newindex` can apply); returns false otherwise.
    #[inline]
    pub fn set_str_if_plain(self, mc: &Mutation<'gc>, s: LuaString<'gc>, v: Value<'gc>) -> bool {
        let is_gc = v.gc_address().is_some();
        // SAFETY: see `read`; the write barrier below keeps the collector's invariant.
        let st = unsafe { &mut *self.0 .0.get() };
        if st.replace_str(s, v) {
            if is_gc {
                Gc::write(mc, self.0);
            }
            return true;
        }
        if st.metatable.is_none() {
            Gc::write(mc, self.0);
            st.set_str(s, v);
            return true;
        }
        false
    }

    /// Assigns `t[i] = v` if the slot is non-nil or the table has no metatable.
    #[inline]
    pub fn set_int_if_plain(self, mc: &Mutation<'gc>, i: i64, v: Value<'gc>) -> bool {
        // SAFETY: see `read`; the write barrier below keeps the collector's invariant.
        let st = unsafe { &mut *self.0 .0.get() };
        let k1 = (i as u64).wrapping_sub(1);
        if k1 < st.alimit.get() as u64 {
            debug_assert!(st.alimit.get() as usize <= st.array.len());
            // SAFETY: `alimit <= array.len()` always (every write of `alimit` keeps it).
            let slot = unsafe { st.array.get_unchecked_mut(k1 as usize) };
            if slot.is_nil() && st.metatable.is_some() {
                return false;
            }
            if is_gc_pointer(v) {
                Gc::write(mc, self.0);
                st.array_gc.set(true);
            }
            *slot = v;
            return true;
        }
        self.set_int_if_plain_slow(mc, i, v)
    }

    #[inline(never)]
    fn set_int_if_plain_slow(self, mc: &Mutation<'gc>, i: i64, v: Value<'gc>) -> bool {
        // SAFETY: see `read`; the write barrier below keeps the collector's invariant.
        let st = unsafe { &mut *self.0 .0.get() };
        let slot = st.int_slot_slow(i);
        let plain = match slot {
            Slot::Array(k) => !st.array[k].is_nil(),
            Slot::Node(n) => !st.nodes[n].value_is_nil(),
            Slot::Absent => false,
        };
        if !plain && st.metatable.is_some() {
            return false;
        }
        // A new integer key is not a GC pointer: only a GC value needs the barrier.
        if is_gc_pointer(v) {
            Gc::write(mc, self.0);
        }
        match slot {
            Slot::Array(k) => st.store_array(k, v),
            Slot::Node(n) => st.nodes[n].set_value(v),
            Slot::Absent => st.new_key(Value::Integer(i), v),
        }
        true
    }

    /// Raw set.
    #[inline]
    pub fn set(
        self,
        mc: &Mutation<'gc>,
        key: Value<'gc>,
        value: Value<'gc>,
    ) -> Result<(), KeyError> {
        self.state_mut(mc).set(key, value)
    }

    /// Raw set by integer.
    #[inline]
    pub fn set_int(self, mc: &Mutation<'gc>, i: i64, value: Value<'gc>) {
        self.state_mut(mc).set_int(i, value)
    }

    /// Raw set by string.
    #[inline]
    pub fn set_str(self, mc: &Mutation<'gc>, s: LuaString<'gc>, value: Value<'gc>) {
        self.state_mut(mc).set_str(s, value)
    }

    /// OP_SETLIST: stores `values` at keys `offset + 1 ...` (see [`TableState::set_list`]).
    #[inline]
    pub fn set_list(self, mc: &Mutation<'gc>, offset: usize, values: &[Value<'gc>]) {
        self.state_mut(mc).set_list(offset, values)
    }

    /// Raw length.
    #[inline]
    pub fn length(self) -> i64 {
        self.read(|t| t.length())
    }

    /// The entry after `key` (`next`).
    pub fn next(self, key: Value<'gc>) -> Result<Option<(Value<'gc>, Value<'gc>)>, InvalidKey> {
        self.read(|t| t.next(key))
    }

    /// The metatable.
    #[inline]
    pub fn metatable(self) -> Option<Table<'gc>> {
        self.read(|t| t.metatable)
    }

    /// Sets the metatable.
    pub fn set_metatable(self, mc: &Mutation<'gc>, mt: Option<Table<'gc>>) {
        self.state_mut(mc).metatable = mt;
    }

    /// Pointer identity.
    #[inline]
    pub fn ptr_eq(self, other: Table<'gc>) -> bool {
        Gc::ptr_eq(self.0, other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gc_arena::arena::rootless_mutate;

    /// The keys in `next` order.
    fn keys<'gc>(t: Table<'gc>) -> Vec<Value<'gc>> {
        let mut out = Vec::new();
        let mut k = Value::Nil;
        while let Some((key, _)) = t.next(k).unwrap() {
            out.push(key);
            k = key;
        }
        out
    }

    fn ints(keys: &[Value<'_>]) -> Vec<i64> {
        keys.iter()
            .map(|k| match *k {
                Value::Integer(i) => i,
                _ => panic!("not an integer key: {k:?}"),
            })
            .collect()
    }

    #[test]
    fn sizes() {
        assert_eq!(NODE_SIZE, 24);
        assert_eq!(SLOT_SIZE, 16);
        // Five handles and words, and the sizes: 36 bytes where pointers are 4 bytes (wasm32).
        let state = if cfg!(target_pointer_width = "64") {
            56
        } else {
            36
        };
        assert_eq!(std::mem::size_of::<TableState<'static>>(), state);
    }

    #[test]
    fn float_hash_matches_c_lua() {
        // ltable.c's l_hashfloat compiled with gcc and glibc's frexp gives these.
        for (x, h) in [
            (0.5, 1_073_741_824),
            (1.5, 1_610_612_737),
            (-0.5, 1_073_741_823),
            (-1.5, 1_610_612_734),
            (3.25, 1_744_830_466),
            (1e300, 1_603_335_685),
            (-1e-300, 1_438_155_502),
            (f64::from_bits(1), 1_073_740_751),
            (0.1, 1_717_986_915),
            (-2.5e-310, 1_544_207_671),
            (123456.789, 2_022_716_047),
            (2.0e15 + 0.5, 1_907_348_683),
            (f64::INFINITY, 0),
            (f64::NAN, 0),
        ] {
            assert_eq!(hash_float(x), h, "{x}");
        }
        assert_eq!(frexp(f64::from_bits(1)), (0.5, -1073));
        assert_eq!(frexp(8.0), (0.5, 4));
        assert_eq!(frexp(-3.0), (-0.75, 2));
    }

    #[test]
    fn array_and_hash_parts() {
        rootless_mutate(|mc| {
            let t = Table::new(mc);
            for i in 1..=100 {
                t.set_int(mc, i, Value::Integer(i * 10));
            }
            assert_eq!(t.length(), 100);
            assert_eq!(t.state().array_len(), 128);
            t.set(mc, Value::Number(2.0), Value::Boolean(true)).unwrap();
            assert!(matches!(t.get_int(2), Value::Boolean(true)));
            assert_eq!(t.set(mc, Value::Nil, Value::Integer(1)), Err(KeyError::Nil));
            assert_eq!(
                t.set(mc, Value::Number(f64::NAN), Value::Integer(1)),
                Err(KeyError::NaN)
            );
            assert!(t.get(Value::Number(f64::NAN)).is_nil());
        });
    }

    #[test]
    fn constructor_with_holes_like_c_lua() {
        rootless_mutate(|mc| {
            // {nil, 2}: NEWTABLE with 2 array slots, SETLIST.
            let t = Table::with_capacity(mc, 2, 0);
            t.set_list(mc, 0, &[Value::Nil, Value::Integer(2)]);
            assert_eq!(t.length(), 2);
            // {...} with (nil, nil, 5).
            let t = Table::with_capacity(mc, 0, 0);
            t.set_list(mc, 0, &[Value::Nil, Value::Nil, Value::Integer(5)]);
            assert_eq!(t.length(), 3);
        });
    }

    #[test]
    fn zero_key_order_like_c_lua() {
        rootless_mutate(|mc| {
            // {[0]="a", [1]="b", [2]="c"}: NEWTABLE with a 4-node hash part.
            let t = Table::with_capacity(mc, 0, 3);
            for i in 0..3 {
                t.set_int(mc, i, Value::Integer(i));
            }
            assert_eq!(ints(&keys(t)), [0, 1, 2]);
        });
    }

    #[test]
    fn length_moves_alimit_like_c_lua() {
        rootless_mutate(|mc| {
            let t = Table::new(mc);
            for i in 1..=8 {
                t.set_int(mc, i, Value::Integer(i));
            }
            t.set_int(mc, 8, Value::Nil);
            assert_eq!(t.length(), 7);
            assert_eq!(t.state().alimit.get(), 7);
            t.set_int(mc, 7, Value::Nil);
            // C Lua: limit 7 is empty, 6 present: 6 is a power of 2? no: alimit becomes 6.
            assert_eq!(t.length(), 6);
            assert_eq!(t.state().alimit.get(), 6);
            // A read past alimit inside the array moves it there.
            assert!(t.get_int(8).is_nil());
            assert_eq!(t.state().alimit.get(), 8);
        });
    }

    #[test]
    fn next_rejects_integral_floats_like_c_lua() {
        rootless_mutate(|mc| {
            let t = Table::new(mc);
            t.set_int(mc, 1, Value::Integer(1));
            t.set_int(mc, 5, Value::Integer(5));
            assert!(t.next(Value::Number(1.0)).is_err());
            assert!(t.next(Value::Number(5.0)).is_err());
            assert!(t.next(Value::Integer(5)).is_ok());
            assert!(t.next(Value::Integer(6)).is_err());
        });
    }

    #[test]
    fn next_is_stable_while_assigning_existing_fields() {
        rootless_mutate(|mc| {
            let t = Table::new(mc);
            for i in 0..50 {
                t.set(mc, Value::Number(i as f64 + 0.5), Value::Integer(i))
                    .unwrap();
            }
            let mut seen = 0;
            let mut k = Value::Nil;
            while let Some((key, _)) = t.next(k).unwrap() {
                // Assigning to existing fields (including nil) must not disturb traversal.
                t.set(mc, key, Value::Nil).unwrap();
                seen += 1;
                k = key;
            }
            assert_eq!(seen, 50);
            assert!(t.next(Value::Number(1000.5)).is_err());
        });
    }

    #[test]
    fn array_part_shrinks_only_on_rehash() {
        rootless_mutate(|mc| {
            let t = Table::new(mc);
            for i in 1..=64 {
                t.set_int(mc, i, Value::Integer(i));
            }
            for i in 1..=64 {
                t.set_int(mc, i, Value::Nil);
            }
            assert_eq!(t.state().array_len(), 64);
            // A new key with the hash part full (none): the rehash finds no integer keys.
            t.set(mc, Value::Number(0.5), Value::Integer(1)).unwrap();
            assert_eq!(t.state().array_len(), 0);
            assert_eq!(t.state().node_count(), 1);
            for i in [3, 1, 2] {
                t.set_int(mc, i, Value::Integer(i));
            }
            assert_eq!(t.length(), 3);
        });
    }

    #[test]
    fn nil_valued_keys_keep_their_node() {
        rootless_mutate(|mc| {
            let t = Table::new(mc);
            for i in [10, 20, 30] {
                t.set_int(mc, i, Value::Integer(i));
            }
            let nodes = t.state().node_count();
            t.set_int(mc, 20, Value::Nil);
            t.set_int(mc, 20, Value::Integer(2));
            assert_eq!(t.state().node_count(), nodes);
            assert_eq!(ints(&keys(t)).len(), 3);
        });
    }

    /// Random operations on one table against a simple model (a list of key/value pairs):
    /// every read agrees, `next` visits each live key once, and `#t` is a border. Keys of
    /// every kind: small and huge integers, floats, booleans, short and long strings (long
    /// ones also as distinct equal copies), tables. Few steps under Miri.
    #[test]
    fn random_operations_agree_with_a_model() {
        use super::super::StringInterner;
        rootless_mutate(|mc| {
            let mut rng = 0x1234_5678_9abc_def1u64;
            let mut next = move |n: u64| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng % n
            };
            let mut strings = StringInterner::new(7);
            let long = "L".repeat(60);
            let mut keys: Vec<Value> = Vec::new();
            for i in -3..40 {
                keys.push(Value::Integer(i));
            }
            for i in [i64::MAX, i64::MIN, 1 << 31, 1 << 40] {
                keys.push(Value::Integer(i));
            }
            for f in [0.5, -2.25, 1e300, f64::INFINITY] {
                keys.push(Value::Number(f));
            }
            keys.push(Value::Boolean(true));
            keys.push(Value::Boolean(false));
            for i in 0..12 {
                keys.push(Value::String(
                    strings.intern(mc, format!("k{i}").as_bytes()),
                ));
                keys.push(Value::String(
                    strings.intern(mc, format!("{long}{i}").as_bytes()),
                ));
            }
            // A second object with the same contents as a long key.
            let long_copy = Value::String(strings.intern(mc, format!("{long}3").as_bytes()));
            for _ in 0..4 {
                keys.push(Value::Table(Table::new(mc)));
            }
            let steps = if cfg!(miri) { 300 } else { 20_000 };
            for round in 0..if cfg!(miri) { 2 } else { 6 } {
                let t = if round % 2 == 0 {
                    Table::new(mc)
                } else {
                    Table::with_capacity(mc, round as usize * 3, round as usize)
                };
                let mut model: Vec<(Value, i64)> = Vec::new();
                fn find<'gc>(m: &[(Value<'gc>, i64)], k: Value<'gc>) -> Option<usize> {
                    m.iter().position(|&(mk, _)| mk.raw_equals(k))
                }
                for step in 0..steps {
                    let k = keys[next(keys.len() as u64) as usize];
                    match next(10) {
                        0..=4 => {
                            t.set(mc, k, Value::Integer(step)).unwrap();
                            match find(&model, k) {
                                Some(i) => model[i].1 = step,
                                None => model.push((k, step)),
                            }
                        }
                        5..=6 => {
                            t.set(mc, k, Value::Nil).unwrap();
                            if let Some(i) = find(&model, k) {
                                model.remove(i);
                            }
                        }
                        7 => {
                            let n = t.length();
                            assert!(n == 0 || !t.get_int(n).is_nil(), "border {n}");
                            assert!(t.get_int(n.wrapping_add(1)).is_nil(), "border {n}");
                        }
                        8 => {
                            let n = next(6) as usize;
                            let vals: Vec<Value> =
                                (0..n).map(|j| Value::Integer(step + j as i64)).collect();
                            t.set_list(mc, 0, &vals);
                            for (j, &v) in vals.iter().enumerate() {
                                let k = Value::Integer(j as i64 + 1);
                                match find(&model, k) {
                                    Some(i) => model[i].1 = step + j as i64,
                                    None => model.push((k, step + j as i64)),
                                }
                                assert!(t.get(k).raw_equals(v));
                            }
                        }
                        _ => {
                            // A traversal sees exactly the model's keys.
                            let mut seen = 0;
                            let mut key = Value::Nil;
                            while let Some((nk, v)) = t.next(key).unwrap() {
                                let i = find(&model, nk).expect("next gave a key not set");
                                assert!(v.raw_equals(Value::Integer(model[i].1)));
                                seen += 1;
                                key = nk;
                            }
                            assert_eq!(seen, model.len());
                        }
                    }
                    let probe = keys[next(keys.len() as u64) as usize];
                    let want = find(&model, probe).map(|i| Value::Integer(model[i].1));
                    assert!(t.get(probe).raw_equals(want.unwrap_or(Value::Nil)));
                }
                // The equal copy of a long key finds its value.
                let orig = keys
                    .iter()
                    .copied()
                    .find(|k| k.raw_equals(long_copy))
                    .unwrap();
                assert!(t.get(long_copy).raw_equals(t.get(orig)));
            }
        });
    }
}
