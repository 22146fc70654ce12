//! The interface between the VM and functions written in Rust: what a [`NativeCall`] can
//! do (its types live in [`crate::native_call`], below the objects that hold them).

use crate::closure::NativeFunction;
use crate::native_call::{Action, NativeCall};
use crate::number::Number;
use crate::thread::ThreadState;
use crate::value::{LuaString, Table, Value};

use super::Error;
use crate::opcode::OpCode;

impl<'gc, 'a> NativeCall<'gc, 'a> {
    /// The native function being called, as a value.
    pub fn func_value(&self) -> Value<'gc> {
        Value::Native(self.func)
    }

    /// True if the step can be left for the host here ([`Action::Host`] runs): no nested
    /// call made by a native function (a `table.sort` comparator, a `__tostring` called by
    /// `tostring`, a finalizer, ...) is in progress.
    #[inline]
    pub fn can_leave_step(&self) -> bool {
        self.ctx.state().chain.nested() == 0
    }

    /// Number of arguments.
    #[inline]
    pub fn nargs(&self) -> usize {
        self.st.stack.len() - self.base
    }

    /// Argument `i` (0-based), or nil if absent.
    #[inline]
    pub fn arg(&self, i: usize) -> Value<'gc> {
        self.st
            .stack
            .get(self.base + i)
            .copied()
            .unwrap_or(Value::Nil)
    }

    /// All arguments.
    #[inline]
    pub fn args(&self) -> &[Value<'gc>] {
        &self.st.stack[self.base..]
    }

    /// The function's own upvalue `i`.
    pub fn upvalue(&self, i: usize) -> Value<'gc> {
        self.func.upvalue(i)
    }

    /// The function being called.
    pub fn function(&self) -> NativeFunction<'gc> {
        self.func
    }

    /// Pushes a value (a result, or an argument for a tail call).
    #[inline]
    pub fn push(&mut self, v: Value<'gc>) {
        self.st.stack.push(v);
    }

    /// Replaces the arguments with `values` and returns them all.
    pub fn ret(&mut self, values: &[Value<'gc>]) -> Result<Action<'gc>, Error<'gc>> {
        self.st.stack.truncate(self.base);
        self.st.stack.extend_from_slice(values);
        Ok(Action::Return(values.len()))
    }

    /// Returns one value.
    #[inline]
    pub fn ret1(&mut self, v: Value<'gc>) -> Result<Action<'gc>, Error<'gc>> {
        self.st.stack.push(v);
        Ok(Action::Return(1))
    }

    /// Returns nothing.
    #[inline]
    pub fn ret0(&mut self) -> Result<Action<'gc>, Error<'gc>> {
        Ok(Action::Return(0))
    }

    /// Truncates the arguments to `n` (keeping the first `n`, padding with nil).
    pub fn set_nargs(&mut self, n: usize) {
        self.st.stack.resize(self.base + n, Value::Nil);
    }

    /// Removes argument `i`, shifting the rest down.
    pub fn remove_arg(&mut self, i: usize) -> Value<'gc> {
        if self.base + i < self.st.stack.len() {
            self.st.stack.remove(self.base + i)
        } else {
            Value::Nil
        }
    }

    /// Calls `f` with `args` and returns all its results (a nested call: the callee cannot
    /// yield across it). While `f` runs, a stand-in frame for this function is on the stack,
    /// so stack levels, `debug.getinfo` and tracebacks see it as C Lua's do.
    pub fn call(
        &mut self,
        f: Value<'gc>,
        args: &[Value<'gc>],
    ) -> Result<Vec<Value<'gc>>, Error<'gc>> {
        self.call_in_frame(f, args, false)
    }

    /// Like [`NativeCall::call`]; an error that comes back carries the traceback of where it
    /// was raised (for hosts that report errors with one, as a message handler would).
    pub fn call_traced(
        &mut self,
        f: Value<'gc>,
        args: &[Value<'gc>],
    ) -> Result<Vec<Value<'gc>>, Error<'gc>> {
        self.call_in_frame(f, args, true)
    }

    fn call_in_frame(
        &mut self,
        f: Value<'gc>,
        args: &[Value<'gc>],
        traced: bool,
    ) -> Result<Vec<Value<'gc>>, Error<'gc>> {
        let depth = self.st.frames.len();
        super::call::push_native_frame(self.st, self.func.name(), self.base - 1);
        let r = super::call::nested_call_traced(self.ctx, self.thread, self.st, f, args, traced);
        self.st.frames.truncate(depth);
        r
    }

    /// Calls the `__close` handlers of all pending to-be-closed variables of the running
    /// thread, innermost first, with no error (as closing the state does).
    pub fn close_all_tbc(&mut self) -> Result<(), Error<'gc>> {
        super::call::close_tbc(self.ctx, self.thread, self.st, 0, None)
    }

    /// The value an error raised here would carry after the message handler of the innermost
    /// protected call (if any) ran on it: for errors that this function reports instead of
    /// raising, where C Lua runs the handler anyway (`lua_load` inside its protected parser
    /// raising "reader function must return a string", say).
    pub fn handled_error_value(&mut self, v: Value<'gc>) -> Value<'gc> {
        let mut e = Error::new(v);
        e.raised_by = Some(self.func.name());
        super::call::pre_handle(self.ctx, self.thread, self.st, &mut e);
        e.value
    }

    /// The C-call count this function runs at (C Lua's `nCcalls`, see `Frame::cdepth`): what
    /// [`crate::compiler::compile_at`] starts from.
    pub fn c_calls(&self) -> u32 {
        self.st.c_calls()
    }

    /// The current stack depth in frames (for diagnostics).
    pub fn depth(&self) -> usize {
        self.st.frames.len()
    }

    /// Charges fuel for work proportional to the data a library function handles (one unit
    /// per 64 bytes, say), so big operations end steps and count against budgets.
    pub fn charge(&self, units: usize) {
        self.ctx.state().fuel.charge(units);
    }

    /// Charges `units` of fuel for work done so far (one unit per matcher step or
    /// comparison, per 64 bytes copied, say) and, every few thousand units, looks at the
    /// host's limits: an `Err` is the uncatchable stop error, to return at once
    /// ([`crate::Context::tick`]). Long library functions call it as they go, so a single call
    /// stops promptly at the fuel budget, the deadline or an interrupt.
    #[inline]
    pub fn tick(&self, units: usize) -> Result<(), Error<'gc>> {
        self.ctx.tick(units)
    }

    /// Fails with `not enough memory` if `bytes` more would pass the memory limit: the check
    /// to make before a big allocation whose result is accounted only once it is a value.
    /// Call it before the function does anything else (changes its arguments, reads a file,
    /// ...): when the error comes back from the function, the VM may collect everything
    /// and call the function again, as C Lua's allocator collects and retries.
    pub fn reserve(&self, bytes: usize) -> Result<(), Error<'gc>> {
        let r = self.ctx.reserve(bytes);
        if r.is_err() {
            self.ctx.state().gc.native_retry.set(true);
        }
        r
    }

    /// True if `n` more values fit on the stack under C Lua's limit (`lua_checkstack`:
    /// `LUAI_MAXSTACK` slots, `EXTRA_STACK` kept free).
    pub fn stack_fits(&self, n: usize) -> bool {
        let in_use = self.st.slot_base + self.st.stack.len() + 5;
        in_use <= super::MAX_STACK && n <= super::MAX_STACK - in_use
    }

    /// C Lua's `luaL_checkstack`: fails with "stack overflow (`what`)" unless `n` more
    /// values fit on the stack.
    pub fn check_stack(&self, n: usize, what: &str) -> Result<(), Error<'gc>> {
        if self.stack_fits(n) {
            return Ok(());
        }
        Err(self.error(format!("stack overflow ({what})")))
    }

    /// True if `bytes` more would stay within the memory limit (no error, no retry: for a
    /// function that has already done something it cannot undo).
    pub fn fits(&self, bytes: usize) -> bool {
        self.ctx.reserve(bytes).is_ok()
    }

    /// Stack index of the function being called (the end of its caller's values).
    pub fn func_slot(&self) -> usize {
        self.base - 1
    }

    /// Access to the running thread's state (for the debug library and tracebacks).
    pub(crate) fn thread_state(&mut self) -> &mut ThreadState<'gc> {
        self.st
    }

    // ----- errors -----

    /// An error with a message; position information of the calling Lua code is prepended
    /// (`luaL_error`).
    pub fn error(&self, msg: impl AsRef<[u8]>) -> Error<'gc> {
        // Called by a native function (pcall, sort, ...), there is no Lua position.
        let mut m = match self.lua_caller() {
            Some(_) => super::debug::where_(self.ctx, self.st, 1),
            None => Vec::new(),
        };
        m.extend_from_slice(msg.as_ref());
        Error::new(Value::String(self.ctx.intern(&m)))
    }

    /// An error the VM raises while this function runs one of its operations (indexing,
    /// comparing, a length...): C Lua's `luaG_runerror` inside a C function, which has no
    /// position to add.
    pub fn op_error(&self, msg: impl AsRef<[u8]>) -> Error<'gc> {
        Error::new(Value::String(self.ctx.intern(msg.as_ref())))
    }

    /// If Lua code called this function: how its call site names it (`None` inside when
    /// unknown). `None` when a native function called it.
    fn lua_caller(&self) -> Option<Option<(&'static str, Vec<u8>)>> {
        let func = self.base - 1;
        if func == self.st.native_call_slot {
            return None;
        }
        let f = self.st.frames.last()?;
        let p = &f.closure?.proto().raw;
        let pc = f.pc.checked_sub(1)?;
        let i = *p.code.get(pc)?;
        let direct = match i.opcode() {
            OpCode::Call | OpCode::TailCall => f.base + i.a() as usize == func,
            // A generic `for` calls its iterator from a copy at A+4.
            OpCode::TForCall => f.base + i.a() as usize + 4 == func,
            _ => false,
        };
        // A metamethod's function is placed above the caller's registers.
        let meta = !matches!(
            i.opcode(),
            OpCode::Call | OpCode::TailCall | OpCode::TForCall
        ) && func >= f.base + p.max_stack_size as usize;
        (direct || meta).then(|| super::debug::call_site_name(p, pc))
    }

    /// `bad argument #i to 'name' (msg)` (`luaL_argerror`; `i` is 0-based).
    pub fn arg_error(&self, i: usize, msg: impl AsRef<[u8]>) -> Error<'gc> {
        let mut narg = i + 1;
        // Called from Lua code, C Lua names the function as the call site does ('rep');
        // otherwise by its global name ('string.rep').
        let (namewhat, fname) = match self.lua_caller() {
            Some(Some((what, name))) => (what, name),
            _ => ("", self.func.name().as_bytes().to_vec()),
        };
        // The name and the message as C's `%s` prints them: raw bytes, up to a zero byte.
        let cut = |b: &[u8]| b.split(|&c| c == 0).next().unwrap_or_default().to_vec();
        let (fname, msg) = (cut(&fname), cut(msg.as_ref()));
        let mut m = Vec::with_capacity(fname.len() + msg.len() + 32);
        if namewhat == "method" {
            narg -= 1;
            if narg == 0 {
                m.extend_from_slice(b"calling '");
                m.extend_from_slice(&fname);
                m.extend_from_slice(b"' on bad self (");
                m.extend_from_slice(&msg);
                m.push(b')');
                return self.error(m);
            }
        }
        m.extend_from_slice(format!("bad argument #{narg} to '").as_bytes());
        m.extend_from_slice(&fname);
        m.extend_from_slice(b"' (");
        m.extend_from_slice(&msg);
        m.push(b')');
        self.error(m)
    }

    /// `bad argument #i to 'name' (T expected, got U)` (`luaL_typeerror`).
    pub fn type_error(&self, i: usize, expected: &str) -> Error<'gc> {
        let v = self.arg(i);
        let got = if i >= self.nargs() {
            "no value".to_string()
        } else if let Value::LightUserData(_) = v {
            "light userdata".to_string()
        } else {
            self.type_name_of(v)
        };
        self.arg_error(i, format!("{} expected, got {}", expected, got))
    }

    /// The type name used in messages: `__name` from the metatable if it is a string.
    pub fn type_name_of(&self, v: Value<'gc>) -> String {
        super::debug::type_name_for_msg(self.ctx, v)
    }

    /// Argument `i` must be present (any value, even nil).
    pub fn check_any(&self, i: usize) -> Result<Value<'gc>, Error<'gc>> {
        if i >= self.nargs() {
            Err(self.arg_error(i, "value expected"))
        } else {
            Ok(self.arg(i))
        }
    }

    /// Argument `i` as a table.
    pub fn check_table(&self, i: usize) -> Result<Table<'gc>, Error<'gc>> {
        match self.arg(i) {
            Value::Table(t) => Ok(t),
            _ => Err(self.type_error(i, "table")),
        }
    }

    /// Argument `i` as an integer (`luaL_checkinteger`).
    pub fn check_integer(&self, i: usize) -> Result<i64, Error<'gc>> {
        let v = self.arg(i);
        match v.to_integer() {
            Some(n) => Ok(n),
            None => {
                if v.to_number().is_some() {
                    Err(self.arg_error(i, "number has no integer representation"))
                } else {
                    Err(self.type_error(i, "number"))
                }
            }
        }
    }

    /// Optional integer argument.
    pub fn opt_integer(&self, i: usize, default: i64) -> Result<i64, Error<'gc>> {
        if self.arg(i).is_nil() {
            Ok(default)
        } else {
            self.check_integer(i)
        }
    }

    /// Argument `i` as a number (`luaL_checknumber`).
    pub fn check_number(&self, i: usize) -> Result<Number, Error<'gc>> {
        self.arg(i)
            .to_number()
            .ok_or_else(|| self.type_error(i, "number"))
    }

    /// Argument `i` as a float.
    pub fn check_float(&self, i: usize) -> Result<f64, Error<'gc>> {
        Ok(self.check_number(i)?.to_float())
    }

    /// Argument `i` as a string; numbers are converted (`luaL_checklstring`).
    pub fn check_string(&self, i: usize) -> Result<LuaString<'gc>, Error<'gc>> {
        match self.arg(i) {
            Value::String(s) => Ok(s),
            v @ (Value::Integer(_) | Value::Number(_)) => {
                Ok(super::meta::number_to_string(self.ctx, v))
            }
            _ => Err(self.type_error(i, "string")),
        }
    }

    /// Optional string argument.
    pub fn opt_string(&self, i: usize) -> Result<Option<LuaString<'gc>>, Error<'gc>> {
        if self.arg(i).is_nil() {
            Ok(None)
        } else {
            self.check_string(i).map(Some)
        }
    }

    /// Converts any value to a string as `tostring` does (honouring `__tostring`/`__name`).
    pub fn to_string(&mut self, v: Value<'gc>) -> Result<LuaString<'gc>, Error<'gc>> {
        super::meta::tostring(self, v)
    }
}
