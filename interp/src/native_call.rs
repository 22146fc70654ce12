//! The types of functions written in Rust, as the objects that hold them see them (C Lua's
//! `lua_CFunction` in `lua.h`): the function type [`NativeFn`], the call it gets
//! ([`NativeCall`], whose methods the VM defines in `vm::native`) and what it returns
//! ([`Action`]). Below the VM, so that closures can hold native functions without naming it.

use crate::closure::NativeFunction;
use crate::error::Error;
use crate::runtime::Context;
use crate::thread::{Thread, ThreadState};
use crate::value::Value;

/// A function written in Rust. Arguments are in `call`; results are pushed onto the stack and
/// returned as [`Action::Return`] with their count.
pub type NativeFn = for<'gc, 'a> fn(&mut NativeCall<'gc, 'a>) -> Result<Action<'gc>, Error<'gc>>;

/// What a native function asks the VM to do when it returns.
#[derive(Clone, Copy)]
pub enum Action<'gc> {
    /// Return the top `n` values of the stack.
    Return(usize),
    /// Call the value below the top `n` values with those `n` arguments, and return its
    /// results (a tail call: `pcall`-free calls like `select` helpers, `dofile`).
    TailCall(usize),
    /// Call the value below the top `args` values with those arguments, this function's
    /// frame kept on the stack while it runs (C Lua's `lua_callk`: `dofile`, `pairs` with a
    /// `__pairs`), and return its results, adjusted to `results` unless that is -1. The
    /// callee may yield.
    Call {
        /// The number of arguments.
        args: usize,
        /// The number of results, or -1 for all.
        results: i32,
    },
    /// Call the first argument with the rest in protected mode (`pcall`, and `xpcall` with a
    /// handler): results are `true, ...` or `false, err`.
    ProtectedCall(Option<Value<'gc>>),
    /// Like [`Action::ProtectedCall`], for a host function standing for its C entry (lua.c's
    /// `pmain`, which calls the main chunk through `lua_pcall`): tracebacks and stack levels
    /// see a C function without a name, `[C]: in ?`.
    HostProtectedCall(Option<Value<'gc>>),
    /// Resume a coroutine with the arguments after the first (`coroutine.resume`; with
    /// `wrap = true`, the results are returned as they are and errors propagate).
    Resume {
        /// The coroutine.
        thread: Thread<'gc>,
        /// True for a `coroutine.wrap` function.
        wrap: bool,
    },
    /// Yield all arguments (`coroutine.yield`).
    Yield,
    /// Leave the step: the host computes the results (a host function).
    Host,
}

/// A call in progress to a native function: its arguments and access to the VM.
pub struct NativeCall<'gc, 'a> {
    /// The context.
    pub ctx: Context<'gc>,
    /// The running thread.
    pub thread: Thread<'gc>,
    /// The running thread's state.
    pub(crate) st: &'a mut ThreadState<'gc>,
    /// Stack index of the first argument.
    pub(crate) base: usize,
    /// The function being called.
    pub(crate) func: NativeFunction<'gc>,
}
