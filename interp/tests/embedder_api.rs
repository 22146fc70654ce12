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

#[test]
fn rust_values_convert_with_luas_coercions() {
    use interp::{FromLua, IntoLua};
    let lua = Lua::new();
    lua.enter(|ctx| {
        // Into Lua.
        assert!(matches!(3i32.into_lua(ctx), Value::Integer(3)));
        assert!(matches!(0.5f64.into_lua(ctx), Value::Number(n) if n == 0.5));
        assert!(matches!(None::<i64>.into_lua(ctx), Value::Nil));
        let Value::Table(t) = vec!["a", "b", "c"].into_lua(ctx) else {
            panic!("a Vec is a table")
        };
        assert_eq!(t.length(), 3);
        assert_eq!(String::from_lua(t.get(Value::Integer(2))), Some("b".into()));
        // From Lua: lua_tointegerx, lua_tonumberx, lua_tolstring, lua_toboolean.
        assert_eq!(i64::from_lua(Value::Number(3.0)), Some(3));
        assert_eq!(i64::from_lua(Value::Number(3.5)), None);
        assert_eq!(i64::from_lua("0x10".into_lua(ctx)), Some(16));
        assert_eq!(i64::from_lua("ten".into_lua(ctx)), None);
        assert_eq!(f64::from_lua(" 1e3 ".into_lua(ctx)), Some(1000.0));
        assert_eq!(String::from_lua(Value::Number(1.5)), Some("1.5".into()));
        assert_eq!(String::from_lua(Value::Integer(-7)), Some("-7".into()));
        assert_eq!(String::from_lua(Value::Boolean(true)), None);
        assert_eq!(bool::from_lua(Value::Integer(0)), Some(true));
        assert_eq!(bool::from_lua(Value::Nil), Some(false));
        assert_eq!(Option::<i64>::from_lua(Value::Nil), Some(None));
        assert_eq!(Option::<i64>::from_lua(Value::Boolean(false)), None);
    });
}
