//! The Lua 5.4 language: compiler, bytecode, VM, values and garbage collection.
//!
//! `interp` knows nothing of Python or of library functions; `stdlib` builds the standard
//! libraries on its public API and `bridge` exposes it to Python.
//!
//! A host creates a [`Lua`], loads code with [`Context::load`] inside [`Lua::enter`], and runs
//! it with [`Lua::call`], which steps the VM with a fuel budget and collects garbage between
//! steps.
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

pub mod chunk;
pub mod closure;
pub mod compiler;
pub mod host;
pub mod limits;
pub mod memory;
pub mod native_stack;
pub mod number;
pub mod opcode;
pub mod proto;
pub mod runtime;
pub mod thread;
pub mod userdata;
pub mod value;
pub mod vm;

pub use closure::{Closure, FunctionProto, NativeFunction};
pub use host::{CallProgress, FirstStep, HostEntry, HostFunction, RawHostFunction, RunningCall};
pub use limits::{Limits, StopReason};
pub use runtime::{
    Context, FinalizerRunner, GcParams, Lua, StashedError, StashedValue, StepResult,
};
pub use thread::{Thread, ThreadStatus};

/// A short list of values, inline up to 8 (arguments and results of host calls).
pub type ValueList<'gc> = smallvec::SmallVec<[value::Value<'gc>; 8]>;
pub use userdata::UserData;
pub use value::{LuaString, Table, Value, ValueType};
pub use vm::{Action, Error, ErrorKind, NativeCall, NativeFn};
