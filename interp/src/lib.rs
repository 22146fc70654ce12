//! The Lua 5.4 language: compiler, bytecode, VM, values and garbage collection.
//!
//! `interp` knows nothing of Python or of library functions; `stdlib` builds the standard
//! libraries on its public API and `bridge` exposes it to Python.
//!
//! # Embedding
//!
//! A host creates a [`Lua`] and runs code with [`Lua::exec`] (source) or [`Lua::call`] (a
//! function): both run to completion in steps, collect garbage between steps and apply the
//! limits ([`Lua::limits`], [`Lua::set_memory_limit`]). Values live in the arena and are used
//! inside [`Lua::enter`]; one kept between visits is stashed ([`Context::stash`]) and fetched
//! back ([`Context::fetch`]). A Rust function becomes a Lua value with
//! [`Lua::create_function`]. (The step-wise entry points, [`Lua::call_first_step`] and
//! [`Lua::call_until_long`], are for hosts that interleave calls with their own work, as
//! the Python bridge does.) `stdlib/examples/embed.rs` is a guided tour with the standard
//! libraries.
//!
//! ```
//! use interp::{Lua, Value};
//! let mut lua = Lua::new();
//! lua.limits().set_max_fuel(Some(1_000_000));
//! let double = lua.create_function("double", std::rc::Rc::new(|lua: &mut Lua, args| {
//!     let n = lua.enter(|ctx| ctx.fetch(&args[0]).to_integer().unwrap_or(0));
//!     Ok(vec![lua.enter(|ctx| ctx.stash(Value::from(n * 2)))])
//! }));
//! lua.enter(|ctx| ctx.set_global("double", ctx.fetch(&double)));
//! let Ok(r) = lua.exec(b"return double(21)", b"=example") else { panic!() };
//! assert_eq!(lua.enter(|ctx| ctx.fetch(&r[0]).to_integer()), Some(42));
//! // An endless loop is stopped by the fuel budget, and the runtime goes on.
//! assert!(lua.exec(b"while true do end", b"=loop").is_err());
//! let Ok(r) = lua.exec(b"return 'still here'", b"=again") else { panic!() };
//! assert_eq!(lua.enter(|ctx| ctx.to_text(ctx.fetch(&r[0]))), "still here");
//! ```
//!
//! # Soundness
//!
//! No sequence of calls to public safe items causes undefined behaviour. In particular:
//! - only verified prototypes run ([`proto::VerifiedProto`]: the compiler's output, chunks the
//!   loader verified, or prototypes verified by hand);
//! - native functions see a narrow call interface ([`NativeCall`], [`vm::debug_api`]), never a
//!   thread's frames or stack:
//!   ```compile_fail,E0624
//!   fn native<'gc>(call: &mut interp::NativeCall<'gc, '_>) {
//!       call.thread_state();
//!   }
//!   ```
//! - a [`Lua`] is not `Send` (its values hold `Rc`s that a host may keep clones of, such as
//!   [`Lua::limits`]); a host that moves a runtime between threads wraps it in its own
//!   locked type, as the Python bridge does:
//!   ```compile_fail,E0277
//!   fn assert_send<T: Send>() {}
//!   assert_send::<interp::Lua>();
//!   ```

pub mod arith;
pub mod chunk;
pub mod clock;
pub mod closure;
pub mod collector;
pub mod compiler;
pub mod convert;
pub mod error;
pub mod hook;
pub mod host;
pub mod limits;
pub mod memory;
pub mod metamethod;
pub mod native_call;
pub mod native_stack;
pub mod number;
pub mod opcode;
pub mod proto;
pub mod runtime;
pub mod thread;
pub mod userdata;
pub mod value;
pub mod vm;

pub use clock::{HostClock, StdClock};
pub use closure::{Closure, FunctionProto, NativeFunction};
pub use collector::GcParams;
pub use convert::{FromLua, IntoLua};
pub use host::{CallProgress, FirstStep, HostEntry, HostFunction, RawHostFunction, RunningCall};
pub use limits::{InterruptHandle, Limits, StopReason};
pub use runtime::{
    Context, FinalizerRunner, Lua, StashedError, StashedValue, StepResult, WarnFunction,
};
pub use thread::{Thread, ThreadStatus};

/// A short list of values, inline up to 8 (arguments and results of host calls).
pub type ValueList<'gc> = smallvec::SmallVec<[value::Value<'gc>; 8]>;
pub use userdata::UserData;
pub use value::{LuaString, Table, Value, ValueType};
pub use vm::{Action, Error, ErrorKind, NativeCall, NativeFn};
