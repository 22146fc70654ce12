//! The language itself: operator precedence and constant folding with every operator
//! (`and`/`or`/`not`, comparisons, `..`, `^`, unary minus), literals (string escapes, long
//! brackets, numerals of every form, well formed or not), the order in which multiple
//! assignments and calls evaluate (seen through logging metamethods), and scoping (`_ENV`,
//! shadowing, `<const>`).

use super::rng::Rng;
use super::values::{self, quote};

/// Operators for mixed expressions, by kind.
const OPS: &[&str] = &[
    "+", "-", "*", "/", "//", "%", "^", "..", "==", "~=", "<", "<=", ">", ">=", "and", "or", "&",
    "|", "~", "<<", ">>",
];

/// An operand of a mixed expression.
fn atom(rng: &mut Rng) -> String {
    match rng.below(10) {
        0..=4 => values::number(rng),
        5 => rng.pick(values::NUM_STRINGS).to_string(),
        6 => rng.pick(&["true", "false", "nil"]).to_string(),
        7 => rng.pick(&["\"a\"", "\"b\"", "\"10\"", "\"\""]).to_string(),
        _ => rng.pick(&["x", "y", "z"]).to_string(),
    }
}

/// A random expression over all operators, written without parentheses half of the time
/// (so precedence and associativity decide).
fn expr(rng: &mut Rng, depth: usize) -> String {
    if depth == 0 || rng.one_in(4) {
        return atom(rng);
    }
    if rng.one_in(6) {
        let op = rng.pick(&["-", "not ", "~", "#"]);
        return format!("{op}{}", expr(rng, depth - 1));
    }
    let op = rng.pick(OPS);
    let (a, b) = (expr(rng, depth - 1), expr(rng, depth - 1));
    if rng.one_in(2) {
        format!("{a} {op} {b}")
    } else {
        format!("({a} {op} {b})")
    }
}

/// A mixed expression, evaluated both as written (the compiler may fold it) and with its
/// variables as locals (at run time).
pub fn expression(rng: &mut Rng) -> String {
    let e = expr(rng, 3);
    let (x, y, z) = (atom(rng), atom(rng), atom(rng));
    let x = if x == "x" || x == "y" || x == "z" {
        "1".to_string()
    } else {
        x
    };
    let y = if y == "x" || y == "y" || y == "z" {
        "2.5".to_string()
    } else {
        y
    };
    let z = if z == "x" || z == "y" || z == "z" {
        "\"3\"".to_string()
    } else {
        z
    };
    format!(
        "do local x, y, z = {x}, {y}, {z} try(function() return {e} end) end\n\
         try(function() local x, y, z = {x}, {y}, {z} return {e} end)\n"
    )
}

/// String escapes, well formed or not.
const ESCAPES: &[&str] = &[
    "\\n",
    "\\t",
    "\\\\",
    "\\\"",
    "\\'",
    "\\a",
    "\\b",
    "\\f",
    "\\v",
    "\\r",
    "\\0",
    "\\65",
    "\\065",
    "\\255",
    "\\256",
    "\\x41",
    "\\x7f",
    "\\xff",
    "\\xg",
    "\\x4",
    "\\u{41}",
    "\\u{7FF}",
    "\\u{FFFF}",
    "\\u{10FFFF}",
    "\\u{7FFFFFFF}",
    "\\u{80000000}",
    "\\u{}",
    "\\u41",
    "\\z   ",
    "\\z\n  ",
    "\\q",
    "\\\n",
    "\\9",
    "\\12a",
];

/// Numerals, well formed or not.
const NUMERALS: &[&str] = &[
    "0",
    "00",
    "0x0",
    "0xA",
    "0Xa",
    "0x.1",
    "0x1.",
    "0x1p4",
    "0x1P-4",
    "0x.8p1",
    "1e10",
    "1E+2",
    "1e-2",
    ".5",
    "5.",
    "3.14159",
    "1e308",
    "1e309",
    "2e-324",
    "9223372036854775807",
    "9223372036854775808",
    "0x7fffffffffffffff",
    "0x8000000000000000",
    "0xffffffffffffffff",
    "0x1ffffffffffffffff",
    "1e",
    "0x",
    "1.2.3",
    "0x1p",
    "3e+",
    "08",
    "1__2",
    "0b1",
    "1f",
    "0xep1",
    "0x1e+1",
    "123456789012345678901234567890",
];

/// A literal in source (printed with its subtype, or `load`'s error).
pub fn literal(rng: &mut Rng) -> String {
    let src = match rng.below(4) {
        0 => {
            let mut s = String::from("return \"");
            for _ in 0..rng.range(1, 4) {
                if rng.one_in(2) {
                    s.push_str(rng.pick(&["a", "b c", "%", "'"]));
                }
                s.push_str(rng.pick(ESCAPES));
            }
            s.push('"');
            s
        }
        1 => {
            let level = "=".repeat(rng.below(3));
            let body = rng.pick(&["", "\n", "\nabc", "a]]b", "]=]", "\r\nx", "\n\n", "[[x]]"]);
            let close = if rng.one_in(8) {
                String::new()
            } else {
                format!("]{level}]")
            };
            format!("return [{level}[{body}{close}")
        }
        2 => format!("return {}", rng.pick(NUMERALS)),
        _ => format!("return -{}, - -{}", rng.pick(NUMERALS), rng.pick(NUMERALS)),
    };
    format!(
        "do local f, e = load({}, \"=lit\") if f then try(f) else print(\"load\", e) end end\n",
        quote(src.as_bytes())
    )
}

/// The order of evaluation and assignment in multiple assignments, calls and table
/// constructors, through `__index`/`__newindex`/`__call` handlers that log.
pub fn evaluation_order(rng: &mut Rng) -> String {
    let head = "local log = {} local function L(s) log[#log + 1] = s end \
                local t = setmetatable({}, {__index = function(_, k) L(\"get\" .. tostring(k)) return k end, \
                __newindex = function(_, k, v) L(\"set\" .. tostring(k) .. \"=\" .. tostring(v)) end}) \
                local function f(n) L(\"f\" .. n) return n end ";
    let body = match rng.below(6) {
        0 => "t.a, t.b, t.c = f(1), f(2), f(3)",
        1 => "t[f(1)], t[f(2)] = f(3), f(4), f(5)",
        2 => "local a, b = t.x, t.y t.z = a .. b",
        3 => "local r = {f(1), t.k, f(2), [f(3)] = f(4), t.m} L(#r)",
        4 => "local a = f(1) + f(2) * f(3) .. f(4)",
        _ => "t[t.i], t.j = t.k, t[f(9)]",
    };
    format!("do {head}{body} print(\"order\", table.concat(log, \" \")) end\n")
}

/// Scoping: `_ENV` as a local or upvalue, shadowed locals, `<const>`, globals through a
/// custom environment.
pub fn scoping(rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => "do local print, tostring = print, tostring local _ENV = {x = 1} y = 2 print(\"env\", x, y, tostring(_ENV.y)) end\n"
            .to_string(),
        1 => format!(
            "do local x = {} do local x = x + 1 print(\"shadow\", x) end print(\"shadow\", x) end\n",
            rng.range(1, 9)
        ),
        2 => "do local k <const> = 10 local function f() return k * 2 end print(\"const\", f(), k) end\n"
            .to_string(),
        3 => "do local env = setmetatable({}, {__index = _G}) local f = load(\"g1 = 5 return g1, rawget(_G, 'g1')\", \"=env\", \"t\", env) print(\"load env\", f()) end\n"
            .to_string(),
        _ => "do local function outer() local _ENV = {v = 7} return function() return v end end print(\"upenv\", outer()()) end\n"
            .to_string(),
    }
}
