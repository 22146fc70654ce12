//! Metamethods: every event, with handlers that print what they receive, operands on either
//! side and of other types, handlers that return several values, nothing or a non-function;
//! and the protocols around metatables (`__metatable`, `__tostring`, `__name`, `__close`,
//! `__gc`, `__pairs`, `__index` chains, raw access).

use super::rng::Rng;
use super::values;

/// Binary arithmetic and bitwise events with their operators.
const BINARY: &[(&str, &str)] = &[
    ("__add", "+"),
    ("__sub", "-"),
    ("__mul", "*"),
    ("__div", "/"),
    ("__mod", "%"),
    ("__pow", "^"),
    ("__idiv", "//"),
    ("__band", "&"),
    ("__bor", "|"),
    ("__bxor", "~"),
    ("__shl", "<<"),
    ("__shr", ">>"),
    ("__concat", ".."),
    ("__eq", "=="),
    ("__lt", "<"),
    ("__le", "<="),
];

/// What a handler returns.
fn returns(rng: &mut Rng) -> &'static str {
    rng.pick(&[
        "return 42",
        "return \"r\", 2",
        "return nil",
        "",
        "return false",
        "return 1.5",
        "return a",
        "error(\"in handler\")",
    ])
}

/// An operand for the other side: the object itself, another object, or a value.
fn other(rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => "o".to_string(),
        1 => "p".to_string(),
        2 => "q".to_string(),
        _ => values::any(rng),
    }
}

/// One event: a table `o` (and `p`, with the same metatable; `q`, with its own) whose
/// handler prints its arguments, used by the operator or function that fires it.
pub fn event(rng: &mut Rng) -> String {
    let r = returns(rng);
    // rawequal: `==` on o would fire __eq again.
    let handler = format!("function(a, b, c) print(\"mm\", fmt(rawequal(a, o) and \"o\" or rawequal(a, p) and \"p\" or a), fmt(rawequal(b, o) and \"o\" or rawequal(b, p) and \"p\" or b), fmt(c)) {r} end");
    let head = "local mt = {} local o = setmetatable({}, mt) local p = setmetatable({}, mt) \
                local q = setmetatable({}, {__add = function() return \"q\" end, __lt = function() return true end, __eq = function() return true end})\n";
    let body = match rng.below(10) {
        0..=3 => {
            let (ev, op) = rng.pick(BINARY);
            let (x, y) = if rng.one_in(2) {
                ("o".to_string(), other(rng))
            } else {
                (other(rng), "o".to_string())
            };
            let alt = if rng.one_in(5) && ev != "__eq" {
                // 5.4 without LUA_COMPAT_5_3 has no __le from __lt, with it: not (b < a).
                format!("mt.__lt = {handler} ")
            } else {
                format!("mt.{ev} = {handler} ")
            };
            format!("{alt}try(function() return {x} {op} {y} end)")
        }
        4 => {
            let (ev, op) = rng.pick(&[("__unm", "-"), ("__bnot", "~"), ("__len", "#")]);
            format!("mt.{ev} = {handler} try(function() return {op}o end)")
        }
        5 => {
            let k = rng.pick(&["\"x\"", "1", "nil", "1.0", "o", "true", "0/0"]);
            match rng.below(4) {
                0 => format!("mt.__index = {handler} try(function() return o[{k}] end)"),
                1 => format!("mt.__index = {{x = \"tx\", [1] = \"t1\"}} try(function() return o[{k}], p.x, rawget(o, {k}) end)"),
                2 => format!("mt.__newindex = {handler} try(function() o[{k}] = 5 return rawget(o, {k}) end)"),
                _ => format!("local store = {{}} mt.__newindex = store try(function() o[{k}] = 5 return rawget(o, {k}), store[{k}] end)"),
            }
        }
        6 => {
            let args: Vec<String> = (0..rng.below(3)).map(|_| values::any(rng)).collect();
            if rng.one_in(4) {
                format!("mt.__call = {} try(function() return o({}) end)", rng.pick(&["{}", "42", "setmetatable({}, {__call = print})"]), args.join(", "))
            } else {
                format!("mt.__call = {handler} try(function() return o({}) end)", args.join(", "))
            }
        }
        7 => format!(
            "mt.__eq = {handler} try(function() return o == p, o ~= p, o == o, o == q, q == o, o == 1, rawequal(o, p) end)"
        ),
        8 => format!(
            "mt.__lt = {handler} mt.__le = {handler} try(function() return o < p, o <= p, o > p, o >= p, o < 1, 1 < o end)"
        ),
        _ => {
            let ev = rng.pick(&["__add", "__concat", "__index", "__unm", "__len", "__lt", "__call"]);
            let bad = rng.pick(&["42", "\"str\"", "true", "{}"]);
            format!("mt.{ev} = {bad} try(function() return o + 1 end) try(function() return o .. \"x\" end) try(function() return o.x end) try(function() return -o, #o end) try(function() return o < o end) try(function() return o() end)")
        }
    };
    format!("do {head}{body} end\n")
}

/// Protocols around metatables.
pub fn protocol(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => {
            let mt = rng.pick(&["\"locked\"", "false", "{}", "nil", "42"]);
            format!(
                "do local o = setmetatable({{}}, {{__metatable = {mt}}}) show(getmetatable(o)) try(setmetatable, o, {{}}) try(setmetatable, o, nil) end\n"
            )
        }
        1 => {
            let r = rng.pick(&["\"text\"", "42", "nil", "{}", "1.5", "true"]);
            format!(
                "do local o = setmetatable({{}}, {{__tostring = function() return {r} end}}) try(tostring, o) try(print, o) try(string.format, \"%s\", o) end\n"
            )
        }
        2 => {
            let f = rng.pick(&[
                "table.insert(o, 1)",
                "ipairs(o)",
                "math.floor(o)",
                "string.rep(o, 2)",
                "o + 1",
                "o.x.y",
                "#o < 1",
                "table.concat({o})",
                "setmetatable(o, 1)",
                "string.format(\"%d\", o)",
            ]);
            format!(
                "do local o = setmetatable({{}}, {{__name = \"MyType\"}}) try(function() return {f} end) end\n"
            )
        }
        3 => {
            let fail = rng.pick(&["", "error(\"body\")", "error({})", "return 1"]);
            let cerr = rng.pick(&["", "error(\"in close\")"]);
            format!(
                "do try(function() local a <close> = setmetatable({{}}, {{__close = function(o, e) print(\"close a\", fmt(e)) end}}) \
                 local b <close> = setmetatable({{}}, {{__close = function(o, e) print(\"close b\", fmt(e)) {cerr} end}}) \
                 local c <close> = nil local d <close> = false {fail} end) end\n"
            )
        }
        4 => {
            let v = rng.pick(&["{}", "1", "\"x\"", "setmetatable({}, {})", "print"]);
            format!("do try(function() local x <close> = {v} return 1 end) end\n")
        }
        5 => {
            let n = rng.range(1, 5);
            // Made in a function that returns, so no register of the case still holds one
            // (which registers C Lua's collector sees as live is not part of the language).
            // In incremental mode, from a finished cycle: generational mode's order of
            // finalizers follows the generations, and a cycle under way has its own order,
            // which are C Lua's collector's business.
            format!(
                "do local mode = collectgarbage(\"incremental\") collectgarbage() local function mk(i) setmetatable({{}}, {{__gc = function() print(\"gc\", i) end}}) end \
                 for i = 1, {n} do mk(i) end collectgarbage() collectgarbage() print(\"after gc\") collectgarbage(mode) end\n"
            )
        }
        6 => "do local o = setmetatable({}, {__pairs = function(t) return function(_, k) if not k then return 1, \"one\" end end, t, nil end}) \
              for k, v in pairs(o) do print(\"pairs\", k, v) end end\n"
            .to_string(),
        7 => {
            let depth = rng.range(1, 120);
            format!(
                "do local t = {{}} local cur = t for i = 1, {depth} do local n = {{}} setmetatable(cur, {{__index = n}}) cur = n end cur.x = \"deep\" \
                 try(function() return t.x end) end\n"
            )
        }
        8 => "do local loop = {} setmetatable(loop, {__index = loop, __newindex = loop}) \
              try(function() return loop.x end) try(function() loop.y = 1 end) end\n"
            .to_string(),
        _ => {
            let v = values::any(rng);
            format!(
                "try(function() return rawequal({v}, {v}), rawlen({v}), rawget({v}, 1), getmetatable({v}) == nil end)\n"
            )
        }
    }
}
