//! The Rust API as an embedder sees it: errors that print as C Lua prints them, prototypes
//! that run only once verified, coroutines that cannot be closed while they run.

use interp::proto::VerifiedProto;
use interp::{Lua, Value};

#[test]
fn syntax_errors_display_c_luas_message() {
    let e = interp::compiler::compile(b"x = ", b"=chunk").unwrap_err();
    assert_eq!(e.to_string(), "chunk:1: unexpected symbol near <eof>");
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert!(boxed.to_string().starts_with("chunk:1:"));
}

#[test]
fn runtime_errors_display_their_message_and_kind() {
    let mut lua = Lua::new();
    let f = lua.enter(|ctx| {
        let c = ctx.load(b"local t = nil return t.x", b"=t", None).unwrap();
        ctx.stash(Value::Closure(c))
    });
    let Err(e) = lua.call(&f, &[]) else {
        panic!("error() returned")
    };
    assert!(e.to_string().starts_with("Lua runtime error"), "{e}");
    // The error object, formatted inside the arena as lua.c prints it.
    let text = lua.enter(|ctx| interp::Error::new(ctx.fetch(&e.value)).to_string());
    assert_eq!(text, "t:1: attempt to index a nil value (local 't')");
    let text = lua.enter(|_| interp::Error::new(Value::Integer(3)).to_string());
    assert_eq!(text, "3");
    let text = lua.enter(|ctx| interp::Error::new(Value::Table(ctx.new_table())).to_string());
    assert_eq!(text, "(error object is a table value)");
}

#[test]
fn hand_built_prototypes_are_verified_before_they_run() {
    let good = interp::compiler::compile(b"return 40 + 2", b"=x").unwrap();
    // A copy changed by hand: an out-of-range register and constant.
    let mut bad = good.to_proto();
    bad.code[0] = interp::opcode::Instruction::abx(interp::opcode::OpCode::LoadK, 250, 999);
    assert!(VerifiedProto::verify(bad).is_err());
    // The unchanged copy verifies and runs.
    let again = VerifiedProto::verify(good.to_proto()).expect("compiler output verifies");
    let mut lua = Lua::new();
    let f = lua.enter(|ctx| ctx.stash(Value::Closure(ctx.load_proto(&again, None))));
    let Ok(r) = lua.call(&f, &[]) else {
        panic!("the verified prototype failed")
    };
    assert_eq!(lua.enter(|ctx| ctx.fetch(&r[0]).to_integer()), Some(42));
}
