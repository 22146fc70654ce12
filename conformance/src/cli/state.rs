//! The Lua state of `lua-rs` and the ways `lua.c` runs code in it: protected calls with a
//! message handler that adds a traceback, chunks from strings and files, `-l` libraries, and
//! error reports on stderr.

use std::io::Write;

use interp::{Action, Error, Lua, NativeCall, StashedValue, Value};

/// A failed step: the error message to report.
pub type Failure = Vec<u8>;

/// The outcome of running something: its results, or the message of its error.
pub type Outcome = Result<Vec<StashedValue>, Failure>;

/// The interpreter's state: the Lua runtime and what `lua.c` keeps beside it.
pub struct Cli {
    /// The runtime.
    pub lua: Lua,
    /// The program name that prefixes error messages (none in interactive mode).
    pub progname: Option<String>,
    handler: StashedValue,
    protect: StashedValue,
    loadfile: StashedValue,
    tostring: StashedValue,
    close: StashedValue,
}

impl Cli {
    /// A runtime with the standard libraries; with `no_env`, they ignore environment
    /// variables (the registry's `LUA_NOENV`, set before they open).
    pub fn new(progname: &str, no_env: bool) -> Cli {
        let lua = Lua::new();
        let _ = super::signal::INTERRUPT.set(lua.limits().interrupt_handle());
        let (handler, protect, loadfile, tostring, close) = lua.enter(|ctx| {
            if no_env {
                let key = ctx.intern(b"LUA_NOENV");
                ctx.registry()
                    .set_str(ctx.mutation(), key, Value::Boolean(true));
            }
            stdlib::open_all(ctx);
            // `luaL_newstate`'s warning function: standard error, off until `@on`.
            ctx.set_warn_function(Some(stdlib::stderr_warnings()));
            // The stock `lua` command: built with LUA_COMPAT_5_3, and `lua.c` switches the
            // collector to generational mode.
            stdlib::enable_lua53_compat(ctx);
            ctx.gc_mode(b"generational");
            // lua.c's stack below the main chunk is its base entry, `pmain`, its two
            // arguments and the message handler: the default base entry and the slots
            // of our own protected call (`protect`) have the same size.
            (
                ctx.stash(ctx.native("?", msghandler)),
                ctx.stash(ctx.native("protect", protect)),
                ctx.stash(ctx.get_global("loadfile")),
                ctx.stash(ctx.get_global("tostring")),
                ctx.stash(ctx.native("close", close_state)),
            )
        });
        Cli {
            lua,
            progname: Some(progname.to_string()),
            handler,
            protect,
            loadfile,
            tostring,
            close,
        }
    }

    /// Calls `f` with `args` under the message handler (C Lua's `docall`).
    pub fn docall(&mut self, f: StashedValue, args: Vec<StashedValue>) -> Outcome {
        let mut argv = vec![self.handler.clone(), f];
        argv.extend(args);
        super::signal::catch_sigint();
        let r = self.protected(&argv);
        super::signal::default_sigint();
        r
    }

    /// Calls `f` with `args` in protected mode without a handler (`lua_pcall`).
    pub fn pcall(&mut self, f: StashedValue, args: Vec<StashedValue>) -> Outcome {
        let mut argv = vec![self.lua.enter(|ctx| ctx.stash(Value::Nil)), f];
        argv.extend(args);
        self.protected(&argv)
    }

    fn protected(&mut self, argv: &[StashedValue]) -> Outcome {
        let protect = self.protect.clone();
        match self.lua.call(&protect, argv) {
            Ok(mut r) => {
                let ok = self.lua.enter(|ctx| ctx.fetch(&r[0]).is_truthy());
                if ok {
                    r.remove(0);
                    Ok(r)
                } else {
                    Err(self.message(&r[1]))
                }
            }
            Err(e) => Err(self.message(&e.value)),
        }
    }

    /// The text of an error object as `report` shows it.
    pub fn message(&self, v: &StashedValue) -> Failure {
        self.lua.enter(|ctx| match ctx.fetch(v) {
            Value::String(s) => s.as_bytes().to_vec(),
            v @ (Value::Integer(_) | Value::Number(_)) => {
                interp::vm::number_to_string(ctx, v).as_bytes().to_vec()
            }
            v => format!("(error object is a {} value)", v.type_name()).into_bytes(),
        })
    }

    /// Compiles `source` as chunk `name` (`luaL_loadbuffer`).
    pub fn load(&mut self, source: &[u8], name: &[u8]) -> Result<StashedValue, Failure> {
        self.lua.enter(|ctx| match ctx.load(source, name, None) {
            Ok(c) => Ok(ctx.stash(Value::Closure(c))),
            Err(e) => Err(e.message),
        })
    }

    /// Loads a file, or stdin when `path` is `None` (`luaL_loadfile`).
    pub fn load_file(&mut self, path: Option<&[u8]>) -> Result<StashedValue, Failure> {
        let args: Vec<StashedValue> = path
            .map(|p| {
                self.lua
                    .enter(|ctx| ctx.stash(Value::String(ctx.intern(p))))
            })
            .into_iter()
            .collect();
        let r = self.pcall(self.loadfile.clone(), args)?;
        let loaded = self
            .lua
            .enter(|ctx| r.first().is_some_and(|f| ctx.fetch(f).is_function()));
        if loaded {
            Ok(r[0].clone())
        } else {
            Err(r.get(1).map(|m| self.message(m)).unwrap_or_default())
        }
    }

    /// `v` converted by `tostring` (`luaL_tolstring`).
    pub fn tostring(&mut self, v: StashedValue) -> Result<Vec<u8>, Failure> {
        let r = self.pcall(self.tostring.clone(), vec![v])?;
        Ok(r.first().map(|s| self.message(s)).unwrap_or_default())
    }

    /// Runs a string as chunk `name` (`dostring`).
    pub fn do_string(&mut self, source: &[u8], name: &[u8]) -> Result<(), Failure> {
        let f = self.load(source, name)?;
        self.docall(f, Vec::new()).map(|_| ())
    }

    /// Runs a file, or stdin when `path` is `None` (`dofile`).
    pub fn do_file(&mut self, path: Option<&[u8]>) -> Result<(), Failure> {
        let f = self.load_file(path)?;
        self.docall(f, Vec::new()).map(|_| ())
    }

    /// `-l [g=]mod`: requires `mod` into global `g`, by default the module name up to a
    /// `-` (`dolibrary`).
    pub fn do_library(&mut self, spec: &[u8]) -> Result<(), Failure> {
        let (global, module) = match spec.iter().position(|&c| c == b'=') {
            Some(p) => (&spec[..p], &spec[p + 1..]),
            None => {
                let end = spec.iter().position(|&c| c == b'-').unwrap_or(spec.len());
                (&spec[..end], spec)
            }
        };
        let (require, name) = self.lua.enter(|ctx| {
            let req = ctx.globals().get_str(ctx.intern(b"require"));
            (ctx.stash(req), ctx.stash(Value::String(ctx.intern(module))))
        });
        let r = self.docall(require, vec![name])?;
        self.lua.enter(|ctx| {
            let v = r.first().map(|v| ctx.fetch(v)).unwrap_or_default();
            ctx.globals().set_str(ctx.mutation(), ctx.intern(global), v);
        });
        Ok(())
    }

    /// Writes `msg` to stderr after the program name, if any (`l_message`).
    pub fn message_out(&self, msg: &[u8]) {
        let mut e = std::io::stderr().lock();
        if let Some(p) = &self.progname {
            let _ = write!(e, "{p}: ");
        }
        let _ = e.write_all(msg);
        let _ = e.write_all(b"\n");
        let _ = e.flush();
    }

    /// Reports a failure on stderr and tells whether there was none (`report`).
    pub fn report<T>(&self, r: Result<T, Failure>) -> bool {
        match r {
            Ok(_) => true,
            Err(msg) => {
                self.message_out(&msg);
                false
            }
        }
    }

    /// Closes the state: pending to-be-closed variables and finalizers run (`lua_close`).
    pub fn close(&mut self) {
        let close = self.close.clone();
        let _ = self.lua.call(&close, &[]);
        // C's exit() flushes every stream (stdout's buffer included).
        stdlib::stdio::flush_all();
    }
}

/// `protect(h, f, ...)`: calls `f(...)` in protected mode with message handler `h` (none if
/// nil); returns `true, results...` or `false, message`.
fn protect<'gc>(call: &mut NativeCall<'gc, '_>) -> Result<Action<'gc>, Error<'gc>> {
    let h = call.remove_arg(0);
    // lua.c's `docall` is a `lua_pcall` from C: no frame Lua code would see.
    Ok(Action::HostProtectedCall((!h.is_nil()).then_some(h)))
}

/// The message handler of `lua.c`: a non-string error object becomes the result of its
/// `__tostring` (returned as it is) or "(error object is a %s value)"; a traceback follows.
fn msghandler<'gc>(call: &mut NativeCall<'gc, '_>) -> Result<Action<'gc>, Error<'gc>> {
    let v = call.arg(0);
    let mut msg = match v {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Integer(_) | Value::Number(_) => call.to_string(v)?.as_bytes().to_vec(),
        _ => {
            let mm = interp::vm::metamethod(call.ctx, v, interp::vm::Metamethod::ToString);
            if !mm.is_nil() {
                if let Some(Value::String(s)) = call.call(mm, &[v])?.first() {
                    return call.ret1(Value::String(*s));
                }
            }
            format!("(error object is a {} value)", v.type_name()).into_bytes()
        }
    };
    msg.push(b'\n');
    let tb = interp::vm::traceback(call, 1);
    msg.extend_from_slice(tb.as_bytes());
    let s = call.ctx.intern(&msg);
    call.ret1(Value::String(s))
}

/// Closes the state from inside it (see [`stdlib::close_state`]).
fn close_state<'gc>(call: &mut NativeCall<'gc, '_>) -> Result<Action<'gc>, Error<'gc>> {
    stdlib::close_state(call);
    call.ret0()
}
