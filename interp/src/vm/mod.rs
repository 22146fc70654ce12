//! The virtual machine: the instruction loop, calls and returns, metamethods, errors.
//!
//! Lua->Lua calls and native functions run inside one loop (`execute`); calls that need the
//! host (a host function, a yield to the host, running out of fuel) leave it, with all state
//! in the thread's frames so execution can resume in a later step.

pub use crate::arith;
mod call;
mod chain;
mod debug;
pub mod debug_api;
mod driver;
mod execute;
pub(crate) mod hooks;
mod meta;
mod native;
mod ops;

pub use debug::{traceback, FunctionInfo};

pub use crate::error::{Error, ErrorKind};
pub use crate::native_call::{Action, NativeCall, NativeFn};
pub use hooks::{Hook, MASK_CALL, MASK_COUNT, MASK_LINE, MASK_RETURN};
pub(crate) use meta::default_tostring;
pub use meta::{
    equals as meta_equals, index as meta_index_value, len as meta_len, less_than as meta_less_than,
    new_index as meta_new_index, number_to_string, tm_of as metamethod, tostring as meta_tostring,
    Metamethod, METAMETHOD_NAMES,
};

pub use arith::arith_numbers;
pub(crate) use call::memory_error;
pub use call::{Exit, MAX_FRAMES, MAX_STACK};
pub(crate) use chain::RunningChain;
pub use driver::close_thread;
pub(crate) use driver::shrink_idle_main_thread;
pub(crate) use driver::{
    call_finalizer, call_nested, end_call, host_call_request, host_call_request_function,
    host_call_return, read_results, resume_step, start_host_call, step, take_error,
    with_host_call_args,
};

/// `a < b` for two numbers (exact across integer and float); false otherwise.
pub fn primitive_lt(a: crate::value::Value<'_>, b: crate::value::Value<'_>) -> bool {
    arith::num_lt(a, b).unwrap_or(false)
}
