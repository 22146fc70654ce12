//! Lua tables: an array part for keys `1..n` and an open-addressing hash part.
//!
//! The hash part keeps a key whose value was set to `nil` (a dead key) until the next rehash,
//! so `next` keeps working while a traversal assigns `nil` to existing fields, and traversal
//! order is stable while existing fields are assigned.

use std::cell::UnsafeCell;

use gc_arena::{Collect, Gc, Mutation};

use super::{LuaString, Value};

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

/// One slot of the hash part. An empty slot has a `nil` key.
#[derive(Clone, Copy, Collect, Default)]
#[collect(no_drop)]
struct Node<'gc> {
    key: Value<'gc>,
    value: Value<'gc>,
}

/// The contents of a table.
#[derive(Default)]
pub struct TableState<'gc> {
    array: Vec<Value<'gc>>,
    /// The hash part: a power-of-two number of slots, or none.
    nodes: Box<[Node<'gc>]>,
    metatable: Option<Table<'gc>>,
    /// Slots of `nodes` whose key is not nil (live or dead).
    used: u32,
    /// Metamethod-absent cache: bit `i` set means the metamethod `i` is known to be absent
    /// when this table is used as a metatable (C Lua's `flags`). Cleared on any string-keyed
    /// assignment.
    pub flags: std::cell::Cell<u8>,
    /// Weakness from the metatable's `__mode`: bit 0 weak keys, bit 1 weak values.
    pub weak: std::cell::Cell<u8>,
}

impl<'gc> Drop for TableState<'gc> {
    fn drop(&mut self) {
        crate::memory::release(TABLE_SIZE + self.heap_size());
    }
}

/// Bytes charged per table besides its parts.
const TABLE_SIZE: usize = 96;

/// Weak keys (`__mode` contains 'k').
pub const WEAK_KEYS: u8 = 1;
/// Weak values (`__mode` contains 'v').
pub const WEAK_VALUES: u8 = 2;

/// Traces a value weakly: collectable objects other than strings may be collected.
fn trace_weak<'gc, T: gc_arena::collect::Trace<'gc>>(v: &Value<'gc>, cc: &mut T) {
    use gc_arena::GcWeak;
    match *v {
        Value::Table(t) => cc.trace_gc_weak(GcWeak::erase(Gc::downgrade(t.0))),
        Value::Closure(c) => cc.trace_gc_weak(GcWeak::erase(Gc::downgrade(c.0))),
        Value::Native(f) => cc.trace_gc_weak(GcWeak::erase(Gc::downgrade(f.0))),
        Value::Thread(t) => cc.trace_gc_weak(GcWeak::erase(Gc::downgrade(t.0))),
        Value::UserData(u) => cc.trace_gc_weak(GcWeak::erase(Gc::downgrade(u.0))),
        _ => cc.trace(v),
    }
}

// SAFETY: traces every GC pointer the table holds, except the keys of dead entries (their value
// is nil: C Lua's dead keys), which are never dereferenced: they are only compared by address
// and dropped at the next rehash. Weak parts are traced weakly and cleared in the finalization
// phase (`clear_dead`) before anything they point to is freed.
unsafe impl<'gc> Collect<'gc> for TableState<'gc> {
    fn trace<T: gc_arena::collect::Trace<'gc>>(&self, cc: &mut T) {
        let weak = self.weak.get();
        for v in &self.array {
            if weak & WEAK_VALUES != 0 {
                trace_weak(v, cc);
            } else {
                cc.trace(v);
            }
        }
        for n in &self.nodes {
            if n.value.is_nil() {
                continue;
            }
            if weak & WEAK_KEYS != 0 {
                trace_weak(&n.key, cc);
            } else {
                cc.trace(&n.key);
            }
            // An ephemeron (weak keys, strong values) keeps a value only while its key is
            // reachable: values under collectable keys are traced weakly here and resurrected
            // by the collector's convergence rounds (`State::converge_ephemerons`) when their
            // key turns out to be alive.
            if weak & WEAK_VALUES != 0 || (weak & WEAK_KEYS != 0 && n.key.is_collectable()) {
                trace_weak(&n.value, cc);
            } else {
                cc.trace(&n.value);
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

#[inline(always)]
fn mix(x: u64) -> u64 {
    let x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^ (x >> 32)
}

#[inline]
fn hash_key(key: Value<'_>) -> u64 {
    match key {
        Value::String(s) => s.hash(),
        Value::Integer(i) => mix(i as u64),
        Value::Number(f) => mix(f.to_bits() ^ 0x5555),
        Value::Boolean(b) => mix(b as u64 + 7),
        other => mix(other.gc_address().unwrap_or(0) as u64),
    }
}

/// Key equality for normalized keys (no integral floats, no NaN). `a` is a slot's key; when
/// the slot is `dead` (its value is nil) the key is not traced and may have been freed, so it
/// is compared by address only, never dereferenced (C Lua's dead keys).
#[inline(always)]
fn key_eq<'gc>(a: Value<'gc>, b: Value<'gc>, dead: bool) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) if dead => Gc::ptr_eq(x.0, y.0),
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Integer(x), Value::Integer(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::Boolean(x), Value::Boolean(y)) => x == y,
        (Value::Nil, _) | (_, Value::Nil) => false,
        (x, y) => {
            std::mem::discriminant(&x) == std::mem::discriminant(&y)
                && x.gc_address() == y.gc_address()
        }
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

impl<'gc> TableState<'gc> {
    /// Raw get with an integer key.
    #[inline]
    pub fn get_int(&self, i: i64) -> Value<'gc> {
        let idx = (i as u64).wrapping_sub(1);
        if idx < self.array.len() as u64 {
            return self.array[idx as usize];
        }
        if self.nodes.is_empty() {
            return Value::Nil;
        }
        self.find(Value::Integer(i), mix(i as u64))
    }

    /// Raw get with a string key.
    #[inline]
    pub fn get_str(&self, s: LuaString<'gc>) -> Value<'gc> {
        match self.str_slot(s) {
            Some(i) => self.nodes[i].value,
            None => Value::Nil,
        }
    }

    /// The slot holding string key `s` (live or dead), if any.
    #[inline]
    fn str_slot(&self, s: LuaString<'gc>) -> Option<usize> {
        if self.nodes.is_empty() {
            return None;
        }
        let mask = self.nodes.len() - 1;
        let mut i = s.hash() as usize & mask;
        if s.is_short() {
            // Short strings are interned: pointer equality decides.
            loop {
                let n = &self.nodes[i];
                match n.key {
                    Value::String(k) if Gc::ptr_eq(k.0, s.0) => return Some(i),
                    Value::Nil => return None,
                    _ => i = (i + 1) & mask,
                }
            }
        }
        // A dead key (nil value) may have been freed: it is compared by address only, and a
        // live key equal to `s` further on wins over it.
        let mut dead = None;
        loop {
            let n = &self.nodes[i];
            match n.key {
                Value::Nil => return dead,
                Value::String(k) => {
                    if n.value.is_nil() {
                        if dead.is_none() && Gc::ptr_eq(k.0, s.0) {
                            dead = Some(i);
                        }
                    } else if k == s {
                        return Some(i);
                    }
                }
                _ => {}
            }
            i = (i + 1) & mask;
        }
    }

    /// Sets an existing string key's value; false if the key is absent (or dead and `value`
    /// is nil, which changes nothing).
    #[inline]
    pub fn replace_str(&mut self, s: LuaString<'gc>, value: Value<'gc>) -> bool {
        match self.str_slot(s) {
            Some(i) if !self.nodes[i].value.is_nil() => {
                self.nodes[i].value = value;
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
                None if f.is_nan() => Value::Nil,
                None => self.find(key, hash_key(key)),
            },
            _ => {
                if self.nodes.is_empty() {
                    return Value::Nil;
                }
                self.find(key, hash_key(key))
            }
        }
    }

    #[inline]
    fn find(&self, key: Value<'gc>, hash: u64) -> Value<'gc> {
        match self.slot_of(key, hash) {
            Some(i) => self.nodes[i].value,
            None => Value::Nil,
        }
    }

    #[inline]
    fn slot_of(&self, key: Value<'gc>, hash: u64) -> Option<usize> {
        if self.nodes.is_empty() {
            return None;
        }
        let mask = self.nodes.len() - 1;
        let mut i = hash as usize & mask;
        // A dead slot matches only if no live one does (see `key_eq`).
        let mut dead = None;
        loop {
            let n = &self.nodes[i];
            if n.key.is_nil() {
                return dead;
            }
            let is_dead = n.value.is_nil();
            if key_eq(n.key, key, is_dead) {
                if !is_dead {
                    return Some(i);
                }
                dead = dead.or(Some(i));
            }
            i = (i + 1) & mask;
        }
    }

    /// Raw set (`rawset`). Fails for a nil or NaN key.
    pub fn set(&mut self, key: Value<'gc>, value: Value<'gc>) -> Result<(), KeyError> {
        let key = match key {
            Value::Nil => return Err(KeyError::Nil),
            Value::Number(f) if f.is_nan() => return Err(KeyError::NaN),
            k => normalize(k),
        };
        if let Value::Integer(i) = key {
            self.set_int(i, value);
        } else {
            self.set_hashed(key, value);
        }
        Ok(())
    }

    /// Raw set with an integer key.
    #[inline]
    pub fn set_int(&mut self, i: i64, value: Value<'gc>) {
        let idx = (i as u64).wrapping_sub(1);
        let len = self.array.len() as u64;
        if idx < len {
            self.array[idx as usize] = value;
        } else if idx == len && !value.is_nil() {
            let cap = self.array.capacity();
            self.array.push(value);
            if self.array.capacity() != cap {
                crate::memory::charge((self.array.capacity() - cap) * 16);
            }
            self.migrate_to_array(len as usize + 1);
        } else {
            self.set_hashed(Value::Integer(i), value);
        }
    }

    /// Raw set with a string key.
    #[inline]
    pub fn set_str(&mut self, s: LuaString<'gc>, value: Value<'gc>) {
        self.flags.set(0);
        if let Some(i) = self.str_slot(s) {
            self.nodes[i].value = value;
            return;
        }
        self.set_hashed(Value::String(s), value);
    }

    /// Moves keys `from+1, from+2, ...` out of the hash part while they continue the array.
    fn migrate_to_array(&mut self, mut from: usize) {
        if self.nodes.is_empty() {
            return;
        }
        loop {
            let k = Value::Integer(from as i64 + 1);
            match self.slot_of(k, hash_key(k)) {
                Some(slot) if !self.nodes[slot].value.is_nil() => {
                    let v = std::mem::take(&mut self.nodes[slot].value);
                    let cap = self.array.capacity();
                    self.array.push(v);
                    crate::memory::charge((self.array.capacity() - cap) * 16);
                    from += 1;
                }
                _ => return,
            }
        }
    }

    fn set_hashed(&mut self, key: Value<'gc>, value: Value<'gc>) {
        if let Value::String(_) = key {
            self.flags.set(0);
        }
        let hash = hash_key(key);
        if let Some(slot) = self.slot_of(key, hash) {
            self.nodes[slot].value = value;
            return;
        }
        if value.is_nil() {
            return;
        }
        if (self.used as usize + 1) * 8 > self.nodes.len() * 7 {
            self.rehash();
        }
        let mask = self.nodes.len() - 1;
        let mut i = hash as usize & mask;
        while !self.nodes[i].key.is_nil() {
            i = (i + 1) & mask;
        }
        self.nodes[i] = Node { key, value };
        self.used += 1;
    }

    /// Rebuilds the hash part with room for the live entries (dead keys are dropped).
    fn rehash(&mut self) {
        let live = self
            .nodes
            .iter()
            .filter(|n| !n.key.is_nil() && !n.value.is_nil())
            .count();
        let cap = ((live + 1) * 2).next_power_of_two().max(4);
        crate::memory::charge(cap * 32);
        let old = std::mem::replace(
            &mut self.nodes,
            vec![Node::default(); cap].into_boxed_slice(),
        );
        crate::memory::release(old.len() * 32);
        self.used = 0;
        let mask = cap - 1;
        for &n in old.iter() {
            if n.key.is_nil() || n.value.is_nil() {
                continue;
            }
            let mut i = hash_key(n.key) as usize & mask;
            while !self.nodes[i].key.is_nil() {
                i = (i + 1) & mask;
            }
            self.nodes[i] = n;
            self.used += 1;
        }
    }

    /// The length operator without metamethods: a border of the table.
    pub fn length(&self) -> i64 {
        let n = self.array.len();
        if n > 0 && self.array[n - 1].is_nil() {
            // Binary search for a border inside the array part.
            let (mut lo, mut hi) = (0usize, n);
            while hi - lo > 1 {
                let m = (lo + hi) / 2;
                if self.array[m - 1].is_nil() {
                    hi = m;
                } else {
                    lo = m;
                }
            }
            return lo as i64;
        }
        if self.nodes.is_empty() || self.get_int(n as i64 + 1).is_nil() {
            return n as i64;
        }
        // Unbound search in the hash part.
        let mut i = n as u64 + 1;
        let mut j = i * 2;
        while !self.get_int(j as i64).is_nil() {
            i = j;
            if j > (i64::MAX as u64) / 2 {
                // Overflow: linear search.
                let mut k = 1i64;
                while !self.get_int(k).is_nil() {
                    k += 1;
                }
                return k - 1;
            }
            j *= 2;
        }
        while j - i > 1 {
            let m = (i + j) / 2;
            if self.get_int(m as i64).is_nil() {
                j = m;
            } else {
                i = m;
            }
        }
        i as i64
    }

    /// The entry after `key` in traversal order (`next`); `Err` if `key` is not in the table.
    pub fn next(&self, key: Value<'gc>) -> Result<Option<(Value<'gc>, Value<'gc>)>, InvalidKey> {
        let mut start_array = 0usize;
        let mut start_node = 0usize;
        match normalize(key) {
            Value::Nil => {}
            Value::Integer(i) if (i as u64).wrapping_sub(1) < self.array.len() as u64 => {
                start_array = i as usize;
            }
            k => {
                start_array = self.array.len();
                start_node = self.slot_of(k, hash_key(k)).ok_or(InvalidKey)? + 1;
            }
        }
        for i in start_array..self.array.len() {
            let v = self.array[i];
            if !v.is_nil() {
                return Ok(Some((Value::Integer(i as i64 + 1), v)));
            }
        }
        for n in &self.nodes[start_node.min(self.nodes.len())..] {
            if !n.key.is_nil() && !n.value.is_nil() {
                return Ok(Some((n.key, n.value)));
            }
        }
        Ok(None)
    }

    /// The metatable.
    #[inline]
    pub fn metatable(&self) -> Option<Table<'gc>> {
        self.metatable
    }

    /// Sets the metatable.
    pub fn set_metatable(&mut self, mt: Option<Table<'gc>>) {
        self.metatable = mt;
    }

    /// Length of the array part.
    pub fn array_len(&self) -> usize {
        self.array.len()
    }

    /// Reserves space: `narr` array slots and `nhash` hash entries (`lua_createtable`).
    pub fn reserve(&mut self, narr: usize, nhash: usize) {
        let before = self.heap_size();
        self.array.reserve(narr.min(1 << 24));
        if nhash > 0 && self.nodes.is_empty() {
            let cap = ((nhash.min(1 << 24) + 1) * 8 / 7 + 1)
                .next_power_of_two()
                .max(4);
            self.nodes = vec![Node::default(); cap].into_boxed_slice();
        }
        crate::memory::charge(self.heap_size() - before);
    }

    /// Approximate heap bytes owned by this table (for memory accounting).
    pub fn heap_size(&self) -> usize {
        self.array.capacity() * 16 + self.nodes.len() * 32
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
            .filter(|n| {
                !n.value.is_nil() && n.key.is_collectable() && !is_dead(n.key) && is_dead(n.value)
            })
            .map(|n| n.value)
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
            if !n.value.is_nil() && is_dead(n.value) {
                n.value = Value::Nil;
            }
        }
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
            if n.value.is_nil() {
                continue;
            }
            if (weak & WEAK_KEYS != 0 && is_dead(n.key))
                || (weak & WEAK_VALUES != 0 && is_dead(n.value))
            {
                n.value = Value::Nil;
            }
        }
    }

    /// Removes every entry for which `keep` is false.
    pub fn retain(&mut self, mut keep: impl FnMut(Value<'gc>, Value<'gc>) -> bool) {
        for (i, v) in self.array.iter_mut().enumerate() {
            if !v.is_nil() && !keep(Value::Integer(i as i64 + 1), *v) {
                *v = Value::Nil;
            }
        }
        for n in self.nodes.iter_mut() {
            if !n.key.is_nil() && !n.value.is_nil() && !keep(n.key, n.value) {
                n.value = Value::Nil;
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

    /// A new table with reserved space.
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
        let idx = (i as u64).wrapping_sub(1);
        if idx < st.array.len() as u64 && !st.array[idx as usize].is_nil() {
            if v.gc_address().is_some() {
                Gc::write(mc, self.0);
            }
            st.array[idx as usize] = v;
            return true;
        }
        if st.metatable.is_none() || !st.get_int(i).is_nil() {
            // A new integer key is not a GC pointer: only a GC value needs the barrier.
            if v.gc_address().is_some() {
                Gc::write(mc, self.0);
            }
            st.set_int(i, v);
            return true;
        }
        false
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

    #[test]
    fn array_and_hash_parts() {
        rootless_mutate(|mc| {
            let t = Table::new(mc);
            for i in 1..=100 {
                t.set_int(mc, i, Value::Integer(i * 10));
            }
            assert_eq!(t.length(), 100);
            assert_eq!(t.state().array_len(), 100);
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
    fn out_of_order_keys_migrate_to_the_array() {
        rootless_mutate(|mc| {
            let t = Table::new(mc);
            t.set_int(mc, 3, Value::Integer(3));
            t.set_int(mc, 2, Value::Integer(2));
            t.set_int(mc, 1, Value::Integer(1));
            assert_eq!(t.state().array_len(), 3);
            assert_eq!(t.length(), 3);
        });
    }

    #[test]
    fn border_with_holes() {
        rootless_mutate(|mc| {
            let t = Table::new(mc);
            for i in 1..=8 {
                t.set_int(mc, i, Value::Integer(i));
            }
            t.set_int(mc, 8, Value::Nil);
            let n = t.length();
            assert!(t.get_int(n + 1).is_nil() && (n == 0 || !t.get_int(n).is_nil()));
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
}
