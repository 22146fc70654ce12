//! Lua errors as Rust values.

use gc_arena::Collect;

use crate::value::Value;

/// What kind of error is propagating.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Collect)]
#[collect(require_static)]
pub enum ErrorKind {
    /// A Lua error (`error()`, a failed operation): catchable by `pcall`.
    Runtime,
    /// `not enough memory`: catchable, like C Lua's LUA_ERRMEM.
    Memory,
    /// Execution stopped by the host (fuel, timeout, interrupt): not catchable by Lua code.
    Interrupt,
    /// "error in error handling" (C Lua's LUA_ERRERR): catchable, but no message handler
    /// runs on it.
    ErrorHandling,
}

/// A Lua error: any Lua value, with a traceback captured where it was raised when nothing in
/// Lua could catch it.
#[derive(Clone, Collect)]
#[collect(no_drop)]
pub struct Error<'gc> {
    /// The error object.
    pub value: Value<'gc>,
    /// What kind of error.
    pub kind: ErrorKind,
    /// The Lua traceback at the point of the error, when it escapes to the host.
    #[collect(require_static)]
    pub traceback: Option<String>,
    /// The native function that raised it, if any (first line of the traceback).
    #[collect(require_static)]
    pub raised_by: Option<&'static str>,
    /// The frame index of the `xpcall` marker whose message handler already ran on it.
    #[collect(require_static)]
    pub handled_at: Option<usize>,
}

impl<'gc> Error<'gc> {
    /// A runtime error carrying `value`.
    pub fn new(value: Value<'gc>) -> Error<'gc> {
        Error {
            value,
            kind: ErrorKind::Runtime,
            traceback: None,
            raised_by: None,
            handled_at: None,
        }
    }

    /// True if Lua code (pcall, coroutine.resume) may catch it.
    pub fn is_catchable(&self) -> bool {
        self.kind != ErrorKind::Interrupt
    }
}

impl<'gc> std::fmt::Debug for Error<'gc> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Error({:?})", self.value)
    }
}

/// The message as `lua.c` prints it: a string or number error object as text, else
/// `(error object is a X value)`; then the traceback, if one was captured.
impl<'gc> std::fmt::Display for Error<'gc> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::convert::FromLua;
        match String::from_lua(self.value) {
            Some(text) => f.write_str(&text)?,
            None => write!(f, "(error object is a {} value)", self.value.type_name())?,
        }
        if let Some(tb) = &self.traceback {
            write!(f, "\n{tb}")?;
        }
        Ok(())
    }
}

impl<'gc> std::error::Error for Error<'gc> {}
