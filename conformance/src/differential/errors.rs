//! Errors: `error` with every kind of value and level, `pcall`/`xpcall`/`assert` and their
//! handlers; runtime errors with the variable information C Lua adds ("global 'x'",
//! "field 'y'", "upvalue 'z'", "constant"...); library functions called with arguments of
//! every type and count; and uncaught errors that end a program.

use super::rng::Rng;
use super::values::{self, operand, FORMS};

/// Error values of every kind.
fn error_value(rng: &mut Rng) -> String {
    rng.pick(&[
        "\"msg\"",
        "42",
        "4.5",
        "nil",
        "true",
        "{}",
        "{code = 1}",
        "print",
        "\"\"",
        "setmetatable({}, {__tostring = function() return \"custom\" end})",
        "-0.0",
        "\"multi\\nline\"",
        "math.huge",
    ])
    .to_string()
}

/// `error` at levels 0-3 from nested functions, `assert`, `xpcall` with handlers that
/// return, fail or nest; `pcall` of non-functions.
pub fn raise(rng: &mut Rng) -> String {
    let v = error_value(rng);
    let level = rng.pick(&[
        "", ", 0", ", 1", ", 2", ", 3", ", 4", ", nil", ", 1.0", ", \"2\"",
    ]);
    match rng.below(8) {
        0..=1 => format!(
            "do local function inner() error({v}{level}) end local function outer() inner() end try(outer) end\n"
        ),
        2 => {
            let args = rng.pick(&[
                "false", "nil", "false, \"boom\"", "nil, {}", "1, 2, 3", "false, 42", "",
                "true", "false, nil",
            ]);
            format!("try(assert, {args}) try(function() assert({args}) end)\n")
        }
        3 => {
            let h = rng.pick(&[
                "function(m) return \"handled: \" .. tostring(m) end",
                "function(m) return m, 2, 3 end",
                "function(m) error(\"again\") end",
                "function(m) return nil end",
                "print",
                "nil",
                "42",
                "function(m) return type(m) end",
            ]);
            format!(
                "do show(xpcall(function() error({v}{level}) end, {h})) end\n"
            )
        }
        4 => {
            let h = rng.pick(&[
                "function(m) error(m) end",
                "function(m) local x = nil; return x.y end",
                "function(m) return debug.traceback(m, 1):gsub(\"\\n.*\", \"\") end",
            ]);
            format!("show(xpcall(function() local x = nil; return x.y end, {h}))\n")
        }
        5 => {
            let f = rng.pick(&["nil", "42", "{}", "\"str\"", "setmetatable({}, {__call = function(...) return select(\"#\", ...) end})"]);
            format!("show(pcall({f}, 1, 2)) show(pcall()) show(xpcall({f}, print))\n")
        }
        6 => format!(
            "do local ok, e = pcall(error, {v}{level}) print(\"err\", ok, fmt(e)) end\n"
        ),
        _ => "try(function() local ok, e = pcall(error) return ok, e, select(\"#\", pcall(error)) end)\n"
            .to_string(),
    }
}

/// A runtime error on an operand reached in some form: calling, indexing, arithmetic,
/// concatenation, comparison, length, integer conversion of non-numbers.
pub fn runtime(rng: &mut Rng) -> String {
    let v = match rng.below(8) {
        0..=2 => "nil".to_string(),
        3 => rng.pick(&["true", "{}", "print"]).to_string(),
        4 => rng.pick(&["\"abc\"", "\"10\"", "\"\""]).to_string(),
        5 => rng.pick(&["1.5", "math.huge", "2^63", "(0/0)"]).to_string(),
        _ => values::any(rng),
    };
    let a = operand(&v, rng.pick(&FORMS), 1);
    let e = &a.expr;
    let op = rng.take(vec![
        format!("{e}()"),
        format!("{e}.field"),
        format!("{e}[1]"),
        format!("{e}.x.y"),
        format!("{e}:method()"),
        format!("{e} + 1"),
        format!("1 - {e}"),
        format!("{e} .. \"x\""),
        format!("\"x\" .. {e} .. 1"),
        format!("{e} < 1"),
        format!("{e} <= {e}"),
        format!("\"a\" < {e}"),
        format!("#{e}"),
        format!("-{e}"),
        format!("{e} & 1"),
        format!("1 << {e}"),
        format!("~{e}"),
        format!("{e} // 0"),
        format!("{e} % 0"),
        format!("math.type({e})"),
    ]);
    let stmt = if rng.one_in(4) {
        // As an assignment target rather than an expression.
        rng.take(vec![
            format!("{e}.x = 1"),
            format!("{e}[nil] = 1"),
            format!("{e}[0/0] = 1"),
            format!("{e}.a.b = 1"),
        ])
    } else {
        format!("return {op}")
    };
    format!("do {}try(function() {}{stmt} end) end\n", a.outer, a.inner)
}

/// Library functions with their parameter kinds: `n` number, `i` integer, `s` string,
/// `t` table, `f` function, `a` anything.
const LIBRARY: &[(&str, &str)] = &[
    ("assert", "aa"),
    ("getmetatable", "a"),
    ("ipairs", "t"),
    ("next", "ta"),
    ("pairs", "t"),
    ("rawequal", "aa"),
    ("rawget", "ta"),
    ("rawlen", "t"),
    ("rawset", "taa"),
    ("select", "ia"),
    ("setmetatable", "tt"),
    ("tonumber", "ai"),
    ("tostring", "a"),
    ("type", "a"),
    ("string.byte", "sii"),
    ("string.char", "ii"),
    ("string.find", "ssib"),
    ("string.format", "sa"),
    ("string.gsub", "ssai"),
    ("string.len", "s"),
    ("string.lower", "s"),
    ("string.match", "ssi"),
    ("string.reverse", "s"),
    ("string.sub", "sii"),
    ("string.upper", "s"),
    ("string.pack", "sa"),
    ("string.unpack", "ssi"),
    ("string.packsize", "s"),
    ("table.concat", "tsii"),
    ("table.insert", "tia"),
    ("table.remove", "ti"),
    ("table.unpack", "tii"),
    ("table.pack", "aa"),
    ("math.abs", "n"),
    ("math.ceil", "n"),
    ("math.floor", "n"),
    ("math.fmod", "nn"),
    ("math.max", "nn"),
    ("math.min", "nn"),
    ("math.modf", "n"),
    ("math.sqrt", "n"),
    ("math.tointeger", "a"),
    ("math.ult", "ii"),
    ("math.random", "ii"),
    ("math.log", "nn"),
    ("math.atan", "nn"),
    ("math.exp", "n"),
    ("utf8.char", "ii"),
    ("utf8.len", "sii"),
    ("utf8.codepoint", "sii"),
    ("utf8.offset", "sii"),
    ("coroutine.create", "f"),
    ("coroutine.status", "a"),
    ("coroutine.resume", "aa"),
    ("coroutine.wrap", "f"),
    ("coroutine.close", "a"),
    ("load", "as"),
    ("pcall", "fa"),
    ("error", "ai"),
    ("collectgarbage", "sa"),
];

/// A value of kind `k` (sometimes of the wrong type, to get the argument error).
fn argument(rng: &mut Rng, k: u8) -> String {
    if rng.one_in(5) {
        return values::any(rng);
    }
    match k {
        b'n' => values::number(rng),
        b'i' => rng
            .pick(&[
                "1",
                "2",
                "3",
                "-1",
                "0",
                "5",
                "1.0",
                "2.5",
                "\"3\"",
                "nil",
                "math.huge",
            ])
            .to_string(),
        b's' => rng
            .pick(&[
                "\"abc\"",
                "\"\"",
                "\"%d\"",
                "\"i4\"",
                "\"<i2 >I3\"",
                "\"count\"",
                "\"step\"",
                "\"isrunning\"",
                "\"x%s\"",
                "\"return 1\"",
                "\"b\"",
                "\"z\"",
                "\"s1\"",
                "\"j\"",
                "\"incremental\"",
                "\"bogus\"",
            ])
            .to_string(),
        b't' => rng
            .pick(&[
                "{}",
                "{1, 2, 3}",
                "{\"a\", \"b\"}",
                "setmetatable({}, {})",
                "{n = 1}",
            ])
            .to_string(),
        b'f' => rng
            .pick(&[
                "print",
                "function(...) return ... end",
                "function() error(\"f\") end",
            ])
            .to_string(),
        b'b' => rng.pick(&["true", "false", "nil"]).to_string(),
        _ => values::any(rng),
    }
}

/// A library function with arguments of the right kinds, wrong kinds, too few or too many.
pub fn library_call(rng: &mut Rng) -> String {
    let (name, kinds) = rng.pick(LIBRARY);
    let mut n = kinds.len();
    if rng.one_in(4) {
        n = rng.below(kinds.len() + 2);
    }
    let args: Vec<String> = (0..n)
        .map(|i| argument(rng, *kinds.as_bytes().get(i).unwrap_or(&b'a')))
        .collect();
    if name == "math.atan" {
        // Named by its call site: see `numbers::MATH`.
        return format!(
            "try(function(...) return math.atan(...) end{})\n",
            values::more(&args)
        );
    }
    // "count" would print the heap size, which differs by design.
    if name == "collectgarbage" && args.first().is_some_and(|a| a.contains("count")) {
        return "try(collectgarbage, \"isrunning\")\n".to_string();
    }
    if rng.one_in(3) {
        // Through a method or field call, so the error names the function as C Lua does.
        if let Some((lib, f)) = name.split_once('.') {
            if lib == "string" && !args.is_empty() {
                return format!(
                    "try(function() local s = {} return s:{f}({}) end)\n",
                    args[0],
                    args[1..].join(", ")
                );
            }
            return format!(
                "try(function() return {lib}.{f}({}) end)\n",
                args.join(", ")
            );
        }
        return format!("try(function() return {name}({}) end)\n", args.join(", "));
    }
    format!("try({name}{})\n", values::more(&args))
}

/// Code that ends the program with an uncaught error: the message, the traceback and the
/// exit status the stand-alone interpreter reports.
pub fn uncaught(rng: &mut Rng) -> String {
    rng.pick(&[
        "error(\"top\")",
        "error(\"top\", 0)",
        "error(\"top\", 2)",
        "error({})",
        "error(nil)",
        "error(42)",
        "error(setmetatable({}, {__tostring = function() return \"custom\" end}))",
        "local t = nil; t.x = 1",
        "local function deep(n) if n == 0 then error(\"deep\") end deep(n - 1) end deep(3)",
        "local function deep(n) if n == 0 then local x = nil; return x.y end return (deep(n - 1)) end deep(25)",
        "string.rep()",
        "assert(false, \"assertion message\")",
        "assert(false)",
        "assert(nil, 12)",
        "local t = setmetatable({}, {__index = function(t, k) error(\"idx \" .. k) end}) print(t.key)",
        "coroutine.wrap(function() error(\"in coroutine\") end)()",
        "local co = coroutine.wrap(function() local x = nil; x() end) co()",
        "table.sort({3, 1, 2}, function(a, b) error(\"cmp\") end)",
        "string.gsub(\"abc\", \"%w\", function(c) error(\"repl \" .. c) end)",
        "pcall(error) error(\"after pcall\")",
        "local obj = {} function obj:method() error(\"in method\") end obj:method()",
        "G = {} function G.field() error(\"in field\") end G.field()",
        "for i = 1, 3 do if i == 2 then error(\"in loop \" .. i) end end",
        "local x <close> = setmetatable({}, {__close = function() print(\"closing\") end}) error(\"with close\")",
        "return 1 + {}",
        "math.floor(\"x\")",
        "dofile(\"/nonexistent/file.lua\")",
        "require(\"no.such.module\")",
        "os.exit(3)",
        "os.exit(false)",
        "os.exit(true)",
        "io.write(\"partial\") os.exit(0)",
    ])
    .to_string()
}
