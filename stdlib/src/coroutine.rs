//! The coroutine library (manual §6.2).

use interp::{Action, NativeCall, Thread, ThreadStatus, Value};

use crate::util::{new_lib, Ret};

/// Opens the `coroutine` library.
pub fn open_coroutine(ctx: interp::Context<'_>) {
    new_lib(
        ctx,
        "coroutine",
        &[
            ("create", create),
            ("resume", resume),
            ("yield", yield_),
            ("status", status),
            ("wrap", wrap),
            ("isyieldable", isyieldable),
            ("running", running),
            ("close", close),
        ],
    );
}

fn check_co<'gc>(call: &NativeCall<'gc, '_>, i: usize) -> Result<Thread<'gc>, interp::Error<'gc>> {
    match call.arg(i) {
        Value::Thread(t) => Ok(t),
        _ => Err(call.type_error(i, "thread")),
    }
}

/// A coroutine running `f`; "too many coroutines" past the host's limit on live ones (a
/// collection is requested too, so abandoned coroutines stop counting soon).
fn new_thread<'gc>(
    call: &NativeCall<'gc, '_>,
    f: Value<'gc>,
) -> Result<Thread<'gc>, interp::Error<'gc>> {
    call.ctx.new_coroutine(f).ok_or_else(|| {
        call.ctx.request_gc();
        call.error("too many coroutines")
    })
}

/// `coroutine.create`, for hosts (`crate::host_function`).
pub(crate) fn create_fn() -> interp::NativeFn {
    create
}

/// `coroutine.resume`, for hosts (`crate::host_function`).
pub(crate) fn resume_fn() -> interp::NativeFn {
    resume
}

fn create<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = call.arg(0);
    if !f.is_function() {
        return Err(call.type_error(0, "function"));
    }
    let co = new_thread(call, f)?;
    call.ret1(Value::Thread(co))
}

fn resume<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let co = check_co(call, 0)?;
    Ok(Action::Resume {
        thread: co,
        wrap: false,
    })
}

fn wrap_aux<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let Value::Thread(co) = call.upvalue(0) else {
        return Err(call.error("invalid wrap"));
    };
    Ok(Action::Resume {
        thread: co,
        wrap: true,
    })
}

fn wrap<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = call.arg(0);
    if !f.is_function() {
        return Err(call.type_error(0, "function"));
    }
    let co = new_thread(call, f)?;
    let w = interp::NativeFunction::with_upvalues(
        call.ctx.mutation(),
        crate::util::UNNAMED,
        wrap_aux,
        Box::new([Value::Thread(co)]),
    );
    call.ret1(Value::Native(w))
}

fn yield_<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    // Raised by `lua_yieldk` in C Lua, where the running function is `yield` itself: the
    // messages carry no position.
    if call.thread.is_main() {
        return Err(plain_error(
            call,
            "attempt to yield from outside a coroutine",
        ));
    }
    if !call.thread.is_yieldable() {
        // Inside a call from native code or from the host (`lua_call` in C).
        return Err(plain_error(
            call,
            "attempt to yield across a C-call boundary",
        ));
    }
    Ok(Action::Yield)
}

fn plain_error<'gc>(call: &NativeCall<'gc, '_>, msg: &str) -> interp::Error<'gc> {
    interp::Error::new(call.ctx.str(msg))
}

fn status<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let co = check_co(call, 0)?;
    let s = if co.ptr_eq(call.thread) {
        ThreadStatus::Running
    } else {
        co.status()
    };
    let v = call.ctx.str(s.name());
    call.ret1(v)
}

fn isyieldable<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let co = match call.arg(0) {
        Value::Thread(t) => t,
        _ => call.thread,
    };
    call.ret1(Value::Boolean(co.is_yieldable()))
}

fn running<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let t = call.thread;
    call.ret(&[Value::Thread(t), Value::Boolean(t.is_main())])
}

fn close<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let co = check_co(call, 0)?;
    let st = if co.ptr_eq(call.thread) {
        ThreadStatus::Running
    } else {
        co.status()
    };
    match st {
        ThreadStatus::Suspended | ThreadStatus::Dead => {
            let err = interp::vm::close_thread(call.ctx, co);
            match err {
                None => call.ret1(Value::Boolean(true)),
                // A `__close` stopped by the host's limits: the stop goes on.
                Some(e) if !e.is_catchable() => Err(e),
                Some(e) => call.ret(&[Value::Boolean(false), e.value]),
            }
        }
        s => Err(call.error(format!("cannot close a {} coroutine", s.name()))),
    }
}
