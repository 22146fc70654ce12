//! Numbers: arithmetic and bitwise operators at the edges (wrap-around, `//` and `%` signs,
//! division by zero, NaN, -0.0, infinities), comparisons across subtypes, conversions
//! between strings and numbers, `string.format`'s numeric conversions, numeric `for` loops
//! and the math library's results and subtypes.

use super::rng::Rng;
use super::values::{self, operand, Form, FORMS};

/// Binary operators.
pub const BINARY: &[&str] = &[
    "+", "-", "*", "/", "//", "%", "^", "&", "|", "~", "<<", ">>", "..", "==", "~=", "<", "<=",
    ">", ">=",
];
/// Unary operators.
pub const UNARY: &[&str] = &["-", "~", "not ", "#"];

/// An operand value for arithmetic: mostly numbers, sometimes strings or other types.
fn arith_value(rng: &mut Rng) -> String {
    match rng.below(10) {
        0..=6 => values::number(rng),
        7..=8 => rng.pick(values::NUM_STRINGS).to_string(),
        _ => values::any(rng),
    }
}

/// A random expression of literals, `depth` levels of operators deep (constant folding).
pub fn const_expr(rng: &mut Rng, depth: usize) -> String {
    if depth == 0 || rng.one_in(3) {
        return values::number(rng);
    }
    if rng.one_in(5) {
        let op = rng.pick(&UNARY[..2]);
        return format!("{op}({})", const_expr(rng, depth - 1));
    }
    let op = rng.pick(&BINARY[..12]);
    format!(
        "({} {op} {})",
        const_expr(rng, depth - 1),
        const_expr(rng, depth - 1)
    )
}

/// An operator applied to operands reached in random forms (constant, local, upvalue,
/// field...), or a folded constant expression.
pub fn arithmetic(rng: &mut Rng) -> String {
    if rng.one_in(4) {
        let e = const_expr(rng, 3);
        return format!("try(function() return {e} end)\n");
    }
    let a = operand(&arith_value(rng), rng.pick(&FORMS), 1);
    if rng.one_in(6) {
        let op = rng.pick(UNARY);
        return format!(
            "do {}try(function() {}return {op}{} end) end\n",
            a.outer, a.inner, a.expr
        );
    }
    let b = operand(&arith_value(rng), rng.pick(&FORMS), 2);
    let op = rng.pick(&BINARY[..13]);
    format!(
        "do {}{}try(function() {}{}return {} {op} {} end) end\n",
        a.outer, b.outer, a.inner, b.inner, a.expr, b.expr
    )
}

/// Comparisons across integers, floats and strings (and a chain of them).
pub fn comparison(rng: &mut Rng) -> String {
    let mut s = String::from("do local r = {}\n");
    for _ in 0..6 {
        let a = if rng.one_in(5) {
            rng.pick(values::STRINGS).to_string()
        } else {
            values::number(rng)
        };
        let b = if rng.one_in(5) {
            rng.pick(values::NUM_STRINGS).to_string()
        } else {
            values::number(rng)
        };
        let op = rng.pick(&BINARY[13..]);
        s.push_str(&format!(
            "r[#r + 1] = tostring(select(2, pcall(function() local a, b = {a}, {b} return a {op} b end)))\n"
        ));
    }
    s.push_str("print(table.concat(r, \" \")) end\n");
    s
}

/// Bases for `tonumber`.
const BASES: &[&str] = &[
    "2", "8", "10", "16", "36", "1", "37", "0", "-1", "10.0", "10.5", "\"16\"", "nil", "3",
];
/// Digit strings for `tonumber` with a base.
const DIGITS: &[&str] = &[
    "\"ff\"",
    "\"FF\"",
    "\"  11  \"",
    "\"1.5\"",
    "\"-ff\"",
    "\"z\"",
    "\"Zz\"",
    "\"\"",
    "\"10\"",
    "\"7fffffffffffffff\"",
    "\"8000000000000000\"",
    "\"-8000000000000000\"",
    "\"ffffffffffffffffff\"",
    "\"102\"",
    "\"0x10\"",
    "\"1e1\"",
    "\" -0 \"",
    "\"- 1\"",
    "\"777\"",
    "\"\\t101\\n\"",
    "\"1 0\"",
    "\"zzzzzzzzzzzzzz\"",
];

/// `tostring`, `tonumber` (with and without a base), `math.tointeger`, coercions by
/// arithmetic and concatenation.
pub fn conversion(rng: &mut Rng) -> String {
    let v = match rng.below(3) {
        0 => values::number(rng),
        1 => rng.pick(values::NUM_STRINGS).to_string(),
        _ => values::any(rng),
    };
    match rng.below(8) {
        0 => format!("try(tostring, {v})\n"),
        1 => format!("try(tonumber, {v})\n"),
        2 => format!("try(tonumber, {}, {})\n", rng.pick(DIGITS), rng.pick(BASES)),
        3 => format!("try(tonumber, {v}, {})\n", rng.pick(BASES)),
        4 => format!("try(math.tointeger, {v})\n"),
        5 => format!("try(function() return {v} .. \"\" end)\n"),
        6 => format!("try(function() return {v} + 0, {v} * 1, -{v} end)\n"),
        _ => format!("try(function() return math.type({v}), {v} | 0 end)\n"),
    }
}

/// A random `string.format` specification for numbers (sometimes an invalid one).
fn spec(rng: &mut Rng) -> String {
    let mut s = String::from("%");
    for f in ["-", "+", " ", "#", "0"] {
        if rng.one_in(6) {
            s.push_str(f);
        }
    }
    if rng.one_in(2) {
        s.push_str(rng.pick(&["1", "5", "10", "20", "99", "100", "0"]));
    }
    if rng.one_in(2) {
        s.push('.');
        s.push_str(rng.pick(&["", "0", "1", "3", "10", "17", "99", "100"]));
    }
    s.push_str(rng.pick(&[
        "d", "d", "i", "u", "c", "x", "X", "o", "e", "E", "f", "F", "g", "G", "g", "a", "A", "q",
        "s", "%", "b", "n", "ld",
    ]));
    s
}

/// `string.format` with numeric conversions and arguments of every kind.
pub fn format(rng: &mut Rng) -> String {
    let n = rng.range(1, 3);
    let mut f = String::new();
    let mut args = Vec::new();
    for _ in 0..n {
        f.push_str(&spec(rng));
        f.push('|');
        args.push(if rng.one_in(6) {
            values::any(rng)
        } else {
            values::number(rng)
        });
    }
    if rng.one_in(8) {
        args.pop();
    }
    format!("try(string.format, \"{f}\"{})\n", values::more(&args))
}

/// Start, limit and step values for numeric `for` loops.
fn for_value(rng: &mut Rng) -> String {
    match rng.below(12) {
        0..=4 => rng.range(-5, 5).to_string(),
        5 => rng
            .pick(&[
                "math.maxinteger",
                "math.mininteger",
                "(math.maxinteger - 2)",
                "(math.mininteger + 2)",
            ])
            .to_string(),
        6 => rng.pick(&["math.huge", "-math.huge", "(0/0)"]).to_string(),
        7..=8 => rng
            .pick(&[
                "0.5", "-0.5", "1.5", "2.25", "0.1", "-1.0", "3.0", "1e308", "2^53", "-2^63",
                "2^63", "0.0",
            ])
            .to_string(),
        9 => rng
            .pick(&["\"3\"", "\"1.5\"", "\"x\"", "nil", "{}", "true"])
            .to_string(),
        _ => format!("{}.{}", rng.range(-3, 3), rng.below(10)),
    }
}

/// A numeric `for` over random start, limit and step (or no step): the count, the first
/// values (with subtypes) and any error.
pub fn for_loop(rng: &mut Rng) -> String {
    let (a, b) = (for_value(rng), for_value(rng));
    let step = match rng.below(6) {
        0 => String::new(),
        1 => ", 0".to_string(),
        _ => format!(", {}", for_value(rng)),
    };
    let body = if rng.one_in(5) { "i = i * 2 " } else { "" };
    format!(
        "do local n, acc = 0, {{}}\n\
         local ok, e = pcall(function() for i = {a}, {b}{step} do n = n + 1 \
         if n <= 4 then acc[n] = fmt(i) end {body}if n >= 300 then break end end end)\n\
         print(\"for\", ok, e, n, table.concat(acc, \",\")) end\n"
    )
}

/// Math functions with their usual arity.
const MATH: &[(&str, usize)] = &[
    ("math.floor", 1),
    ("math.ceil", 1),
    ("math.abs", 1),
    ("math.modf", 1),
    ("math.fmod", 2),
    ("math.tointeger", 1),
    ("math.sqrt", 1),
    ("math.exp", 1),
    ("math.log", 1),
    ("math.log", 2),
    ("math.sin", 1),
    ("math.cos", 1),
    ("math.tan", 1),
    ("math.asin", 1),
    ("math.acos", 1),
    // Called through a closure (see `math_call`): with LUA_COMPAT_MATHLIB, `math.atan2` is
    // the same C function, and which name C Lua finds for it depends on its hash seed.
    ("math.atan", 1),
    ("math.atan", 2),
    ("math.ult", 2),
    ("math.type", 1),
    ("math.min", 1),
    ("math.min", 2),
    ("math.min", 3),
    ("math.max", 2),
    ("math.max", 3),
    ("math.max", 0),
    ("math.random", 0),
    ("math.random", 1),
    ("math.random", 2),
    ("math.fmod", 2),
];

/// A math function on edge values (mostly numbers), results shown with their subtypes.
pub fn math_call(rng: &mut Rng) -> String {
    let (name, arity) = rng.pick(MATH);
    let arity = if rng.one_in(8) { rng.below(4) } else { arity };
    let args: Vec<String> = (0..arity)
        .map(|_| {
            if name == "math.random" && !rng.one_in(4) {
                rng.range(-3, 20).to_string()
            } else if rng.one_in(8) {
                values::any(rng)
            } else {
                values::number(rng)
            }
        })
        .collect();
    let form = rng.pick(&[Form::Constant, Form::Local, Form::Field]);
    if name == "math.atan" {
        return format!(
            "try(function(...) return math.atan(...) end{})\n",
            values::more(&args)
        );
    }
    if let (Some(first), Form::Field) = (args.first(), form) {
        // An argument read from a field, as in math.floor(t.x): error messages name it.
        let rest: Vec<String> = args[1..].to_vec();
        let mut all = vec!["t.x".to_string()];
        all.extend(rest);
        return format!(
            "do local t = {{x = {first}}} try(function() return {name}({}) end) end\n",
            all.join(", ")
        );
    }
    format!("try({name}{})\n", values::more(&args))
}
