//! Lua values and the garbage-collected objects they point to.

mod string;
mod table;

pub use string::{LuaString, StringInterner, StringObject, SHORT_STRING_MAX};
pub use table::{
    InvalidKey, KeyError, Table, TableCell, TableState, NODE_SIZE, WEAK_KEYS, WEAK_VALUES,
};

use gc_arena::{Collect, Gc};

use crate::closure::{Closure, NativeFunction};
use crate::thread::Thread;
use crate::userdata::UserData;

/// A Lua value: 16 bytes, `Copy`, with the tag in a whole 8-byte word (see
/// `shared/design/vm-speed.md`: split tag stores cost ~25% on table-heavy code).
///
/// The discriminants are explicit: table nodes store a value as its tag byte and payload
/// word (see `Value::to_parts`), and `tag` names them.
#[derive(Clone, Copy, Collect, Default)]
#[collect(no_drop)]
#[repr(C, u64)]
pub enum Value<'gc> {
    /// `nil`
    #[default]
    Nil = 0,
    /// `true` or `false`
    Boolean(bool) = 1,
    /// An integer (the integer subtype of number).
    Integer(i64) = 2,
    /// A float (the float subtype of number).
    Number(f64) = 3,
    /// A byte string.
    String(LuaString<'gc>) = 4,
    /// A table.
    Table(Table<'gc>) = 5,
    /// A Lua function (a closure over a prototype).
    Closure(Closure<'gc>) = 6,
    /// A function written in Rust.
    Native(NativeFunction<'gc>) = 7,
    /// A coroutine.
    Thread(Thread<'gc>) = 8,
    /// A full userdata.
    UserData(UserData<'gc>) = 9,
    /// A light userdata: a bare address with no metatable of its own (`debug.upvalueid`).
    LightUserData(usize) = 10,
}

/// The discriminants of [`Value`]'s variants (the tag word's value).
pub(crate) mod tag {
    /// `Value::Nil`
    pub const NIL: u8 = 0;
    /// `Value::Integer`
    pub const INTEGER: u8 = 2;
    /// `Value::String`
    pub const STRING: u8 = 4;
}

/// The basic types of Lua, in `lua.h` order (`LUA_TNIL` ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    /// nil
    Nil,
    /// boolean
    Boolean,
    /// light userdata
    LightUserData,
    /// number
    Number,
    /// string
    String,
    /// table
    Table,
    /// function
    Function,
    /// userdata
    UserData,
    /// thread
    Thread,
}

impl ValueType {
    /// The name `type()` returns.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Nil => "nil",
            ValueType::Boolean => "boolean",
            ValueType::LightUserData => "userdata",
            ValueType::Number => "number",
            ValueType::String => "string",
            ValueType::Table => "table",
            ValueType::Function => "function",
            ValueType::UserData => "userdata",
            ValueType::Thread => "thread",
        }
    }
}

impl<'gc> Value<'gc> {
    /// Reads the value at `p` as two 8-byte loads (tag, then payload).
    ///
    /// The VM writes registers with two 8-byte stores (`Value::Integer(n)` stores a constant
    /// tag and a payload); a 16-byte load of such a register right after cannot be forwarded
    /// from the store buffer and stalls for ~12 cycles. C Lua's `setobj` copies the two
    /// fields separately for the same reason. Volatile keeps LLVM from merging the loads.
    ///
    /// # Safety
    /// `p` must point to a valid, initialized `Value` (any alignment of 8).
    #[inline(always)]
    pub unsafe fn read_split(p: *const Value<'gc>) -> Value<'gc> {
        #[repr(C)]
        struct Words(u64, std::mem::MaybeUninit<u64>);
        let w = p as *const u64;
        // SAFETY: the caller guarantees `p` points to a valid value, 16 bytes, 8-aligned;
        // `Words` has the layout of `Value` (`repr(C, u64)`: tag word, payload word), and the
        // payload is read as `MaybeUninit` so pointer provenance and padding survive.
        unsafe {
            let tag = std::ptr::read_volatile(w);
            let payload = std::ptr::read_volatile(w.add(1) as *const std::mem::MaybeUninit<u64>);
            std::mem::transmute::<Words, Value<'gc>>(Words(tag, payload))
        }
    }

    /// Writes `v` at `p` as two 8-byte stores (tag, then payload), the counterpart of
    /// [`Value::read_split`]: a value that was itself assembled with two 8-byte stores (a
    /// table node's value, a result returned through memory) is then moved with two 8-byte
    /// loads, which store forwarding serves; a 16-byte copy of it would stall.
    ///
    /// # Safety
    /// `p` must be valid for writing a `Value` (any alignment of 8).
    #[inline(always)]
    pub unsafe fn write_split(p: *mut Value<'gc>, v: Value<'gc>) {
        use std::mem::MaybeUninit;
        // SAFETY: `Value` is `repr(C, u64)`: a tag word then a payload word, copied as
        // `MaybeUninit` (provenance and uninitialized bytes kept); the caller guarantees `p`.
        unsafe {
            let [t, w] = std::mem::transmute::<Value<'gc>, [MaybeUninit<u64>; 2]>(v);
            let q = p as *mut MaybeUninit<u64>;
            std::ptr::write_volatile(q, t);
            std::ptr::write_volatile(q.add(1), w);
        }
    }

    /// The value as its tag (the discriminant, which fits in a byte) and its payload word,
    /// uninitialized where the variant has no payload or a shorter one (`nil`, booleans).
    #[inline(always)]
    pub(crate) fn to_parts(self) -> (u8, std::mem::MaybeUninit<u64>) {
        use std::mem::MaybeUninit;
        // SAFETY: `Value` is `repr(C, u64)`: an initialized 8-byte tag then an 8-byte payload;
        // the payload is copied as `MaybeUninit`, which keeps pointer provenance and
        // uninitialized bytes as they are.
        let [t, p] = unsafe { std::mem::transmute::<Value<'gc>, [MaybeUninit<u64>; 2]>(self) };
        // SAFETY: the tag word is always initialized; its value is a discriminant (0..=10).
        (unsafe { t.assume_init() } as u8, p)
    }

    /// Rebuilds a value from [`Value::to_parts`].
    ///
    /// # Safety
    /// `tag` and `payload` must come from one call of `to_parts` (or `tag` is `tag::NIL`).
    #[inline(always)]
    pub(crate) unsafe fn from_parts(tag: u8, payload: std::mem::MaybeUninit<u64>) -> Value<'gc> {
        use std::mem::MaybeUninit;
        // SAFETY: the caller guarantees a valid tag with its own payload (see `to_parts`).
        unsafe {
            std::mem::transmute::<[MaybeUninit<u64>; 2], Value<'gc>>([
                MaybeUninit::new(tag as u64),
                payload,
            ])
        }
    }

    /// The value's basic type.
    #[inline]
    pub fn type_of(self) -> ValueType {
        match self {
            Value::Nil => ValueType::Nil,
            Value::Boolean(_) => ValueType::Boolean,
            Value::Integer(_) | Value::Number(_) => ValueType::Number,
            Value::String(_) => ValueType::String,
            Value::Table(_) => ValueType::Table,
            Value::Closure(_) | Value::Native(_) => ValueType::Function,
            Value::Thread(_) => ValueType::Thread,
            Value::UserData(_) => ValueType::UserData,
            Value::LightUserData(_) => ValueType::LightUserData,
        }
    }

    /// The name `type()` returns for this value.
    #[inline]
    pub fn type_name(self) -> &'static str {
        self.type_of().name()
    }

    /// False for `nil` and `false`, true for everything else.
    #[inline(always)]
    pub fn is_truthy(self) -> bool {
        !matches!(self, Value::Nil | Value::Boolean(false))
    }

    /// True for `nil`.
    #[inline(always)]
    pub fn is_nil(self) -> bool {
        matches!(self, Value::Nil)
    }

    /// True for functions of either kind.
    #[inline]
    pub fn is_function(self) -> bool {
        matches!(self, Value::Closure(_) | Value::Native(_))
    }

    /// Primitive equality (`rawequal`): no metamethods; 1 == 1.0.
    #[inline]
    pub fn raw_equals(self, other: Value<'gc>) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Boolean(a), Value::Boolean(b)) => a == b,
            (Value::Integer(a), Value::Integer(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::Integer(a), Value::Number(b)) => crate::number::eq_int_float(a, b),
            (Value::Number(a), Value::Integer(b)) => crate::number::eq_int_float(b, a),
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Table(a), Value::Table(b)) => Gc::ptr_eq(a.0, b.0),
            (Value::Closure(a), Value::Closure(b)) => Gc::ptr_eq(a.0, b.0),
            (Value::Native(a), Value::Native(b)) => a.same(b),
            (Value::Thread(a), Value::Thread(b)) => Gc::ptr_eq(a.0, b.0),
            (Value::UserData(a), Value::UserData(b)) => Gc::ptr_eq(a.0, b.0),
            (Value::LightUserData(a), Value::LightUserData(b)) => a == b,
            _ => false,
        }
    }

    /// True for objects a weak table can lose (tables, functions, coroutines, userdata);
    /// strings count as values, as in C Lua.
    #[inline]
    pub fn is_collectable(self) -> bool {
        matches!(
            self,
            Value::Table(_)
                | Value::Closure(_)
                | Value::Native(_)
                | Value::Thread(_)
                | Value::UserData(_)
        )
    }

    /// The address of a GC object (for `%p`, `tostring` and hashing), or `None`.
    pub fn gc_address(self) -> Option<usize> {
        Some(match self {
            Value::String(s) => Gc::as_ptr(s.0) as usize,
            Value::Table(t) => Gc::as_ptr(t.0) as usize,
            Value::Closure(c) => Gc::as_ptr(c.0) as usize,
            Value::Native(f) => Gc::as_ptr(f.0) as usize,
            Value::Thread(t) => Gc::as_ptr(t.0) as usize,
            Value::UserData(u) => Gc::as_ptr(u.0) as usize,
            Value::LightUserData(p) => p,
            _ => return None,
        })
    }

    /// Converts a number or a numeric string to a number (`lua_tonumber` semantics).
    pub fn to_number(self) -> Option<crate::number::Number> {
        use crate::number::Number;
        match self {
            Value::Integer(i) => Some(Number::Int(i)),
            Value::Number(f) => Some(Number::Float(f)),
            Value::String(s) => crate::number::str_to_number(s.as_bytes()),
            _ => None,
        }
    }

    /// Converts to a float (`tonumber` then float), for arithmetic.
    pub fn to_float(self) -> Option<f64> {
        match self {
            Value::Integer(i) => Some(i as f64),
            Value::Number(f) => Some(f),
            Value::String(_) => self.to_number().map(|n| n.to_float()),
            _ => None,
        }
    }

    /// Converts to an integer without loss (`lua_tointegerx` semantics: floats with an exact
    /// integer value and numeric strings convert).
    pub fn to_integer(self) -> Option<i64> {
        match self {
            Value::Integer(i) => Some(i),
            Value::Number(f) => crate::number::float_to_int_exact(f),
            Value::String(_) => match self.to_number()? {
                crate::number::Number::Int(i) => Some(i),
                crate::number::Number::Float(f) => crate::number::float_to_int_exact(f),
            },
            _ => None,
        }
    }

    /// From a [`crate::number::Number`].
    #[inline]
    pub fn from_number(n: crate::number::Number) -> Value<'gc> {
        match n {
            crate::number::Number::Int(i) => Value::Integer(i),
            crate::number::Number::Float(f) => Value::Number(f),
        }
    }
}

impl<'gc> From<bool> for Value<'gc> {
    fn from(b: bool) -> Self {
        Value::Boolean(b)
    }
}
impl<'gc> From<i64> for Value<'gc> {
    fn from(i: i64) -> Self {
        Value::Integer(i)
    }
}
impl<'gc> From<f64> for Value<'gc> {
    fn from(f: f64) -> Self {
        Value::Number(f)
    }
}
impl<'gc> From<LuaString<'gc>> for Value<'gc> {
    fn from(s: LuaString<'gc>) -> Self {
        Value::String(s)
    }
}
impl<'gc> From<Table<'gc>> for Value<'gc> {
    fn from(t: Table<'gc>) -> Self {
        Value::Table(t)
    }
}

impl<'gc> std::fmt::Debug for Value<'gc> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Value::Nil => write!(f, "nil"),
            Value::Boolean(b) => write!(f, "{b}"),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Number(n) => write!(f, "{n:?}"),
            Value::String(s) => write!(f, "{:?}", String::from_utf8_lossy(s.as_bytes())),
            other => write!(
                f,
                "{}: {:#x}",
                other.type_name(),
                other.gc_address().unwrap_or(0)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_is_two_words() {
        // Sixteen bytes on every target (a tag and a 64-bit number or a handle); a handle is
        // one pointer (4 bytes on wasm32).
        assert_eq!(std::mem::size_of::<Value<'static>>(), 16);
        assert_eq!(
            std::mem::size_of::<LuaString<'static>>(),
            size_of::<usize>()
        );
        assert_eq!(std::mem::size_of::<Table<'static>>(), size_of::<usize>());
    }

    #[test]
    fn parts_round_trip() {
        for (v, t) in [
            (Value::Nil, tag::NIL),
            (Value::Boolean(true), 1),
            (Value::Integer(-7), tag::INTEGER),
            (Value::Number(0.5), 3),
            (Value::LightUserData(12), 10),
        ] {
            let (tag, payload) = v.to_parts();
            assert_eq!(tag, t);
            // SAFETY: the parts of one value.
            let back = unsafe { Value::from_parts(tag, payload) };
            assert!(back.raw_equals(v));
        }
    }
}
