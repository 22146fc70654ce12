//! Pools of values where implementations disagree, as Lua source, and the syntactic forms a
//! value can be reached by (constant, local, upvalue, global, field, call result), which
//! decide the variable information in error messages.

use super::rng::Rng;

/// Integers at the edges: wrap-around, the 2^31/2^32/2^53 boundaries, signs.
pub const INTS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "3",
    "-3",
    "7",
    "-7",
    "10",
    "16",
    "31",
    "32",
    "63",
    "64",
    "65",
    "100",
    "255",
    "256",
    "1000",
    "-1000",
    "65535",
    "0x7fffffff",
    "0x80000000",
    "0xffffffff",
    "0x100000000",
    "(1 << 53)",
    "((1 << 53) + 1)",
    "(1 << 62)",
    "math.maxinteger",
    "math.mininteger",
    "(math.maxinteger - 1)",
    "(math.mininteger + 1)",
    "0xffffffffffffffff",
    "0x7fffffffffffffff",
    "-0x7fffffffffffffff",
    "9007199254740993",
    "-9223372036854775807",
];

/// Floats at the edges: zeros, halves, integral floats, limits of the integer range,
/// subnormals, infinities, NaN.
pub const FLOATS: &[&str] = &[
    "0.0",
    "-0.0",
    "1.0",
    "-1.0",
    "0.5",
    "-0.5",
    "1.5",
    "-1.5",
    "2.5",
    "-2.5",
    "3.7",
    "-3.7",
    "0.1",
    "(1/3)",
    "100.0",
    "1e15",
    "1e16",
    "1e100",
    "-1e100",
    "2^53",
    "(2^53 + 1)",
    "2^63",
    "-2^63",
    "2^64",
    "1e308",
    "-1e308",
    "1e-308",
    "5e-324",
    "0x1p-1074",
    "math.huge",
    "-math.huge",
    "(0/0)",
    "(-(0/0))",
    "math.pi",
    "-math.pi",
    "2^31",
    "2^32",
    "123456.789",
    "9.2233720368547758e18",
    "-9.2233720368547758e18",
    "3.0",
    "-7.0",
    "1e-5",
    "0x10p0",
    "0x.8",
    "12.5",
    "255.0",
];

/// Strings that do or do not convert to numbers.
pub const NUM_STRINGS: &[&str] = &[
    "\"10\"",
    "\"-7\"",
    "\" 10 \"",
    "\"0x10\"",
    "\"0X1F\"",
    "\"1e2\"",
    "\"1E-2\"",
    "\"3.5\"",
    "\".5\"",
    "\"5.\"",
    "\"-0\"",
    "\"0x\"",
    "\"1e\"",
    "\"abc\"",
    "\"\"",
    "\" \"",
    "\"inf\"",
    "\"nan\"",
    "\"1 2\"",
    "\"0x1p4\"",
    "\"0x.8p1\"",
    "\"9223372036854775807\"",
    "\"9223372036854775808\"",
    "\"-9223372036854775808\"",
    "\"-9223372036854775809\"",
    "\"1e500\"",
    "\"0x7fffffffffffffff\"",
    "\"0xffffffffffffffff\"",
    "\"0x10000000000000000\"",
    "\"10\\0\"",
    "\"\\t12\\n\"",
    "\"+5\"",
    "\"- 5\"",
    "\"1.5e+3\"",
    "\"0b101\"",
    "\"1_000\"",
    "\"2^3\"",
    "\"077\"",
    "\"\\v3\\f\"",
];

/// Other strings.
pub const STRINGS: &[&str] = &[
    "\"\"",
    "\"a\"",
    "\"abc\"",
    "\"hello world\"",
    "\"A-Z\"",
    "\"a\\0b\"",
    "\"\\0\"",
    "\"\\255\\128\"",
    "\"caf\\195\\169\"",
    "\"  x  \"",
    "\"%d\"",
    "\"%\"",
    "\"a.b.c\"",
    "\"(x)\"",
    "\"[]\"",
    "\"\\n\"",
    "\"\\\\\"",
    "\"'\\\"'\"",
    "\"aaa\"",
    "\"abcabc\"",
    "\"xyz123\"",
    "\"one two  three\"",
    "\"key=val, k2=v2\"",
    "\"\\r\\n\"",
    "\"\\1\\2\\3\"",
];

/// Values of the other types.
pub const OTHERS: &[&str] = &[
    "nil",
    "true",
    "false",
    "{}",
    "{1, 2, 3}",
    "print",
    "function() end",
    "coroutine.create(print)",
    "io.stdout",
    "setmetatable({}, {__name = \"MyType\"})",
];

/// A number literal or expression: integer or float.
pub fn number(rng: &mut Rng) -> String {
    match rng.below(10) {
        0..=3 => rng.pick(INTS).to_string(),
        4..=7 => rng.pick(FLOATS).to_string(),
        8 => rng.range(-20, 20).to_string(),
        _ => format!("{}.{}", rng.range(-100, 100), rng.below(100)),
    }
}

/// An integer literal or expression.
pub fn integer(rng: &mut Rng) -> String {
    if rng.one_in(3) {
        rng.range(-10, 10).to_string()
    } else {
        rng.pick(INTS).to_string()
    }
}

/// Any value, numbers most often.
pub fn any(rng: &mut Rng) -> String {
    match rng.below(12) {
        0..=5 => number(rng),
        6..=7 => rng.pick(NUM_STRINGS).to_string(),
        8..=9 => rng.pick(STRINGS).to_string(),
        _ => rng.pick(OTHERS).to_string(),
    }
}

/// How an operand is reached in the code that uses it.
#[derive(Clone, Copy, Debug)]
pub enum Form {
    /// Written in place.
    Constant,
    /// A local of the function that uses it.
    Local,
    /// A local of the enclosing block, so an upvalue of the function that uses it.
    Upvalue,
    /// A global variable.
    Global,
    /// A string-keyed field of a local table.
    Field,
    /// An integer-keyed element of a local table.
    Element,
    /// The result of a call.
    Call,
    /// A method's result.
    Method,
}

/// Every form.
pub const FORMS: [Form; 8] = [
    Form::Constant,
    Form::Local,
    Form::Upvalue,
    Form::Global,
    Form::Field,
    Form::Element,
    Form::Call,
    Form::Method,
];

/// An operand: code to run outside the function using it, code at the top of that
/// function, and the expression that reads it.
pub struct Operand {
    /// Statements before the function (upvalues).
    pub outer: String,
    /// Statements at the top of the function.
    pub inner: String,
    /// The expression.
    pub expr: String,
}

/// Places `value` in `form`, with names made unique by `n`.
pub fn operand(value: &str, form: Form, n: usize) -> Operand {
    let (outer, inner, expr) = match form {
        Form::Constant => (String::new(), String::new(), value.to_string()),
        Form::Local => (
            String::new(),
            format!("local v{n} = {value} "),
            format!("v{n}"),
        ),
        Form::Upvalue => (
            format!("local u{n} = {value} "),
            String::new(),
            format!("u{n}"),
        ),
        Form::Global => (String::new(), format!("G{n} = {value} "), format!("G{n}")),
        Form::Field => (
            String::new(),
            format!("local t{n} = {{f = {value}}} "),
            format!("t{n}.f"),
        ),
        Form::Element => (
            String::new(),
            format!("local t{n} = {{{value}}} "),
            format!("t{n}[1]"),
        ),
        Form::Call => (
            String::new(),
            format!("local function f{n}() return {value} end "),
            format!("f{n}()"),
        ),
        Form::Method => (
            String::new(),
            format!("local o{n} = {{m = function(self) return {value} end}} "),
            format!("o{n}:m()"),
        ),
    };
    Operand { outer, inner, expr }
}

/// A Lua string literal for arbitrary bytes.
pub fn quote(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for &b in bytes {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b' ' | b'.' | b'%' | b'-' | b'_' => {
                s.push(b as char)
            }
            _ => s.push_str(&format!("\\{b:03}")),
        }
    }
    s.push('"');
    s
}

/// `", a, b"` for arguments after a first one, or nothing.
pub fn more(args: &[String]) -> String {
    args.iter().map(|a| format!(", {a}")).collect()
}
