//! `warn` and finalizer errors reach the host's warning function (`lua_setwarnf`) piece by
//! piece, as C Lua's `luaB_warn` and `luaE_warnerror` send them.

use std::cell::RefCell;
use std::rc::Rc;

use interp::Lua;

fn capture(lua: &Lua) -> Rc<RefCell<Vec<(String, bool)>>> {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    lua.enter(|ctx| {
        stdlib::open_all(ctx);
        ctx.set_warn_function(Some(Rc::new(move |piece: &[u8], more: bool| {
            s.borrow_mut()
                .push((String::from_utf8_lossy(piece).into_owned(), more))
        })));
    });
    seen
}

fn pieces(v: &[(&str, bool)]) -> Vec<(String, bool)> {
    v.iter().map(|&(p, m)| (p.to_string(), m)).collect()
}

#[test]
fn warn_sends_its_arguments_as_pieces() {
    let mut lua = Lua::new();
    let seen = capture(&lua);
    assert!(lua.exec(b"warn('@on') warn('a', 'b', 3)", b"=t").is_ok());
    assert_eq!(
        *seen.borrow(),
        pieces(&[("@on", false), ("a", true), ("b", true), ("3", false)])
    );
}

#[test]
fn finalizer_errors_are_warnings() {
    let mut lua = Lua::new();
    let seen = capture(&lua);
    let code = b"setmetatable({}, {__gc = function() error('boom', 0) end}) collectgarbage()
                 setmetatable({}, {__gc = function() error({}) end}) collectgarbage()";
    assert!(lua.exec(code, b"=t").is_ok());
    let text: Vec<String> = seen
        .borrow()
        .split_inclusive(|(_, more)| !more)
        .map(|m| m.iter().map(|(p, _)| p.as_str()).collect())
        .collect();
    assert_eq!(
        text,
        [
            "error in __gc (boom)",
            "error in __gc (error object is not a string)"
        ]
    );
}

#[test]
fn without_a_warning_function_warnings_are_dropped() {
    let mut lua = Lua::new();
    lua.enter(stdlib::open_all);
    assert!(lua
        .exec(b"warn('@on') warn('nobody hears this')", b"=t")
        .is_ok());
}
