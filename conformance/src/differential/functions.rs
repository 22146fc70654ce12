//! Functions: varargs and multiple results (`select`, truncation, `table.pack`), closures
//! and their upvalues, `goto` and loops, coroutines, and what `load` says of bad code.

use super::rng::Rng;
use super::values;

/// A list of arguments with nils and edge values.
fn args(rng: &mut Rng) -> String {
    let n = rng.below(6);
    (0..n)
        .map(|_| match rng.below(4) {
            0 => "nil".to_string(),
            1 => rng.range(1, 9).to_string(),
            _ => values::any(rng),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `select`, `...` in every position, truncation by parentheses and by position.
pub fn varargs(rng: &mut Rng) -> String {
    let a = args(rng);
    match rng.below(7) {
        0 => {
            let n = rng.pick(&[
                "1", "2", "3", "-1", "-2", "-3", "0", "10", "\"#\"", "1.0", "1.5", "\"2\"",
                "math.mininteger", "-10", "nil",
            ]);
            format!("try(function(...) return select({n}, ...) end{})\n", more(&a))
        }
        1 => format!(
            "try(function(...) local a, b, c = ... return select(\"#\", ...), a, b, c end{})\n",
            more(&a)
        ),
        2 => format!(
            "try(function(...) return (...), {{...}}, #{{...}}, select(\"#\", (...)) end{})\n",
            more(&a)
        ),
        3 => format!(
            "do local function g(...) return ... end try(function(...) return g(...), g(...) end{}) end\n",
            more(&a)
        ),
        4 => format!(
            "do local function g(...) return ... end try(function(...) return {{g(...), g(...)}}, #{{g(...), g(...)}} end{}) end\n",
            more(&a)
        ),
        5 => format!(
            "do local function g(n, ...) if n == 0 then return select(\"#\", ...), ... end return g(n - 1, n, ...) end try(g, {}{}) end\n",
            rng.range(0, 5),
            more(&a)
        ),
        _ => format!(
            "try(function(...) local t = table.pack(...) return t.n, select(\"#\", table.unpack(t, 1, t.n)) end{})\n",
            more(&a)
        ),
    }
}

fn more(a: &str) -> String {
    if a.is_empty() {
        String::new()
    } else {
        format!(", {a}")
    }
}

/// Closures made in loops (a fresh local per iteration), shared upvalues, counters,
/// recursion through upvalues.
pub fn closures(rng: &mut Rng) -> String {
    let n = rng.range(1, 5);
    match rng.below(5) {
        0 => format!(
            "do local fs = {{}} for i = 1, {n} do fs[i] = function() return i end end \
             local r = {{}} for i = 1, {n} do r[i] = fs[i]() end print(\"cl\", table.concat(r, \",\")) end\n"
        ),
        1 => format!(
            "do local fs, i = {{}}, 0 while i < {n} do i = i + 1 local j = i fs[i] = function() j = j + 10 return j end end \
             local r = {{}} for k = 1, {n} do r[k] = fs[k]() + fs[k]() end print(\"cl\", table.concat(r, \",\")) end\n"
        ),
        2 => "do local function counter() local c = 0 return function() c = c + 1 return c end, function() return c end end \
              local inc, get = counter() inc() inc() local inc2 = counter() inc2() print(\"cl\", get(), inc(), inc2()) end\n"
            .to_string(),
        3 => format!(
            "do local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end print(\"cl\", fib({})) end\n",
            rng.range(0, 15)
        ),
        _ => format!(
            "do local x = {n} local function a() x = x * 2 return x end local function b() x = x - 1 return x end \
             print(\"cl\", a(), b(), a(), x) end\n"
        ),
    }
}

/// `goto` as `continue`, nested loops with `break`, `repeat` scoping.
pub fn goto_and_loops(rng: &mut Rng) -> String {
    let n = rng.range(0, 8);
    let m = rng.range(1, 4);
    match rng.below(4) {
        0 => format!(
            "do local r = {{}} for i = 1, {n} do if i % {m} == 0 then goto continue end r[#r + 1] = i ::continue:: end print(\"goto\", table.concat(r, \",\")) end\n"
        ),
        1 => format!(
            "do local r, i = {{}}, 0 ::top:: i = i + 1 if i <= {n} then r[#r + 1] = i * i goto top end print(\"goto\", table.concat(r, \",\")) end\n"
        ),
        2 => format!(
            "do local r = {{}} for i = 1, {n} do for j = 1, {m} do if j > i then break end r[#r + 1] = i .. j end end print(\"loops\", table.concat(r, \",\")) end\n"
        ),
        _ => format!(
            "do local r, i = {{}}, 0 repeat local k = i * 2 i = i + 1 r[#r + 1] = k until k >= {n} print(\"repeat\", table.concat(r, \",\")) end\n"
        ),
    }
}

/// Coroutines: yields across calls, status, wrap, errors inside, close, and the messages
/// for resuming dead or running ones.
pub fn coroutines(rng: &mut Rng) -> String {
    let a = args(rng);
    match rng.below(8) {
        0 => format!(
            "do local co = coroutine.create(function(...) local x = coroutine.yield(...) local y, z = coroutine.yield(x) return y, z end) \
             show(coroutine.resume(co{})) show(coroutine.resume(co, 1)) show(coroutine.resume(co, 2, 3)) \
             show(coroutine.resume(co)) print(coroutine.status(co)) end\n",
            more(&a)
        ),
        1 => "do local co = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end) \
              try(co) try(co) try(co) try(co) try(co) end\n"
            .to_string(),
        2 => {
            let v = values::any(rng);
            format!(
                "do local co = coroutine.create(function() error({v}) end) show(coroutine.resume(co)) \
                 print(coroutine.status(co)) show(coroutine.close(co)) end\n"
            )
        }
        3 => "do local co co = coroutine.create(function() return coroutine.resume(co) end) show(coroutine.resume(co)) \
              show(coroutine.isyieldable()) show(coroutine.running()) end\n"
            .to_string(),
        4 => {
            let v = values::any(rng);
            format!(
                "do local f = coroutine.wrap(function() error({v}) end) try(f) end\n"
            )
        }
        5 => {
            let bad = rng.pick(&[
                "nil", "1", "\"x\"", "{}", "print", "coroutine.running()", "true",
            ]);
            let f = rng.pick(&[
                "coroutine.resume",
                "coroutine.status",
                "coroutine.close",
                "coroutine.wrap",
                "coroutine.create",
            ]);
            format!("try({f}, {bad})\n")
        }
        6 => "do local co = coroutine.create(function() local x <close> = setmetatable({}, {__close = function() print(\"closed\") end}) coroutine.yield(1) end) \
              show(coroutine.resume(co)) show(coroutine.close(co)) print(coroutine.status(co)) show(coroutine.resume(co)) end\n"
            .to_string(),
        _ => "do local co = coroutine.create(function() table.sort({3, 2, 1}, function(a, b) coroutine.yield() return a < b end) end) \
              show(coroutine.resume(co)) end\n"
            .to_string(),
    }
}

/// Chunks that do not compile, and what `load` says of them.
pub fn compile_errors(rng: &mut Rng) -> String {
    let code = rng.pick(&[
        "break",
        "goto nowhere",
        "do ::a:: ::a:: end",
        "goto f; local x; ::f:: print(x)",
        "local x <const> = 1; x = 2",
        "local x <foo> = 1",
        "local a <close>, b <close> = 1, 2",
        "return 1 +",
        "x = }",
        "f(",
        "for i = 1 do end",
        "for a, b, c, d in pairs({}) do end return 1 1",
        "local t = {1, 2,, 3}",
        "return \"abc",
        "return [[abc",
        "--[[ unfinished",
        "return 0x",
        "return 1e",
        "return 3..4",
        "return \"\\xZZ\"",
        "return \"\\u{110000000}\"",
        "return \"\\400\"",
        "return \"\\q\"",
        "x = 1 = 2",
        "local function f() return end return f() ()",
        "::l:: ::l::",
        "repeat local x until x goto l",
        "function a.b:c.d() end",
        "return ... ",
        "function f() return ... end",
        "local x = 1 local x = 2 return x",
        "return not",
        "a.b.c = ",
        "if x then else elseif y then end",
        "return 2^^2",
        "return @",
        "while true do end end",
        "return function() local x <close> = nil end",
    ]);
    let q = values::quote(code.as_bytes());
    format!("print(\"load\", load({q}, \"=chunk\"))\n")
}
