//! Conversions between Lua values and common Rust types, for hosts: [`IntoLua`] makes a value
//! (strings are interned, so it needs the [`Context`]), [`FromLua`] reads one with Lua's own
//! coercions (`lua_tointegerx`, `lua_tonumberx`, `lua_toboolean`; no metamethods).
//!
//! ```
//! use interp::{FromLua, IntoLua, Lua};
//! let lua = Lua::new();
//! lua.enter(|ctx| {
//!     let v = "42".into_lua(ctx);
//!     assert_eq!(i64::from_lua(v), Some(42)); // a numeric string converts, as in Lua
//!     assert_eq!(String::from_lua(7i64.into_lua(ctx)), Some("7".to_string()));
//!     assert_eq!(Option::<f64>::from_lua(().into_lua(ctx)), Some(None));
//! });
//! ```

use crate::runtime::Context;
use crate::value::{LuaString, Table, Value};

/// A Rust value that becomes a Lua value.
pub trait IntoLua<'gc> {
    /// The Lua value (strings interned in `ctx`).
    fn into_lua(self, ctx: Context<'gc>) -> Value<'gc>;
}

/// A Rust value read from a Lua value; `None` when Lua would not convert it.
pub trait FromLua<'gc>: Sized {
    /// The Rust value, with Lua's coercions.
    fn from_lua(v: Value<'gc>) -> Option<Self>;
}

impl<'gc> IntoLua<'gc> for Value<'gc> {
    fn into_lua(self, _: Context<'gc>) -> Value<'gc> {
        self
    }
}

impl<'gc> IntoLua<'gc> for () {
    fn into_lua(self, _: Context<'gc>) -> Value<'gc> {
        Value::Nil
    }
}

impl<'gc> IntoLua<'gc> for bool {
    fn into_lua(self, _: Context<'gc>) -> Value<'gc> {
        Value::Boolean(self)
    }
}

macro_rules! int_into_lua {
    ($($t:ty),*) => {$(
        impl<'gc> IntoLua<'gc> for $t {
            fn into_lua(self, _: Context<'gc>) -> Value<'gc> {
                Value::Integer(self as i64)
            }
        }
    )*};
}
int_into_lua!(i8, i16, i32, i64, u8, u16, u32);

impl<'gc> IntoLua<'gc> for f64 {
    fn into_lua(self, _: Context<'gc>) -> Value<'gc> {
        Value::Number(self)
    }
}

impl<'gc> IntoLua<'gc> for f32 {
    fn into_lua(self, _: Context<'gc>) -> Value<'gc> {
        Value::Number(self as f64)
    }
}

impl<'gc> IntoLua<'gc> for &str {
    fn into_lua(self, ctx: Context<'gc>) -> Value<'gc> {
        Value::String(ctx.intern(self.as_bytes()))
    }
}

impl<'gc> IntoLua<'gc> for String {
    fn into_lua(self, ctx: Context<'gc>) -> Value<'gc> {
        self.as_str().into_lua(ctx)
    }
}

impl<'gc> IntoLua<'gc> for &[u8] {
    fn into_lua(self, ctx: Context<'gc>) -> Value<'gc> {
        Value::String(ctx.intern(self))
    }
}

impl<'gc> IntoLua<'gc> for LuaString<'gc> {
    fn into_lua(self, _: Context<'gc>) -> Value<'gc> {
        Value::String(self)
    }
}

impl<'gc> IntoLua<'gc> for Table<'gc> {
    fn into_lua(self, _: Context<'gc>) -> Value<'gc> {
        Value::Table(self)
    }
}

impl<'gc, T: IntoLua<'gc>> IntoLua<'gc> for Option<T> {
    fn into_lua(self, ctx: Context<'gc>) -> Value<'gc> {
        self.map_or(Value::Nil, |v| v.into_lua(ctx))
    }
}

/// A sequence: a new table with the items at 1, 2, ...
impl<'gc, T: IntoLua<'gc>> IntoLua<'gc> for Vec<T> {
    fn into_lua(self, ctx: Context<'gc>) -> Value<'gc> {
        let t = ctx.new_table();
        for (i, v) in self.into_iter().enumerate() {
            let v = v.into_lua(ctx);
            // An integer key is never nil or NaN.
            let _ = t.set(ctx.mutation(), Value::Integer(i as i64 + 1), v);
        }
        Value::Table(t)
    }
}

impl<'gc> FromLua<'gc> for Value<'gc> {
    fn from_lua(v: Value<'gc>) -> Option<Self> {
        Some(v)
    }
}

/// Lua's truthiness: only nil and false are false (`lua_toboolean`).
impl<'gc> FromLua<'gc> for bool {
    fn from_lua(v: Value<'gc>) -> Option<Self> {
        Some(v.is_truthy())
    }
}

/// An integer, a float with an integer value or a numeric string (`lua_tointegerx`).
impl<'gc> FromLua<'gc> for i64 {
    fn from_lua(v: Value<'gc>) -> Option<Self> {
        v.to_integer()
    }
}

/// A number or a numeric string, as a float (`lua_tonumberx`).
impl<'gc> FromLua<'gc> for f64 {
    fn from_lua(v: Value<'gc>) -> Option<Self> {
        v.to_float()
    }
}

/// A string (its bytes as UTF-8, invalid sequences replaced) or a number formatted as
/// `tostring` does (`lua_tolstring`).
impl<'gc> FromLua<'gc> for String {
    fn from_lua(v: Value<'gc>) -> Option<Self> {
        Vec::<u8>::from_lua(v).map(|b| String::from_utf8_lossy(&b).into_owned())
    }
}

/// A string's bytes, or a number formatted as `tostring` does (`lua_tolstring`).
impl<'gc> FromLua<'gc> for Vec<u8> {
    fn from_lua(v: Value<'gc>) -> Option<Self> {
        let mut out = Vec::new();
        match v {
            Value::String(s) => out.extend_from_slice(s.as_bytes()),
            Value::Integer(i) => crate::number::fmt_lua_int(i, &mut out),
            Value::Number(f) => crate::number::fmt_lua_float(f, &mut out),
            _ => return None,
        }
        Some(out)
    }
}

impl<'gc> FromLua<'gc> for LuaString<'gc> {
    fn from_lua(v: Value<'gc>) -> Option<Self> {
        match v {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

impl<'gc> FromLua<'gc> for Table<'gc> {
    fn from_lua(v: Value<'gc>) -> Option<Self> {
        match v {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }
}

/// nil is `None`; anything else must convert.
impl<'gc, T: FromLua<'gc>> FromLua<'gc> for Option<T> {
    fn from_lua(v: Value<'gc>) -> Option<Self> {
        match v {
            Value::Nil => Some(None),
            v => T::from_lua(v).map(Some),
        }
    }
}
