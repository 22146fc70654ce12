//! The differential fuzzer: random, deterministic Lua 5.4 programs aimed at the corners where
//! implementations disagree, run under the C Lua 5.4.8 oracle and under `lua-rs`, compared
//! on stdout, stderr and exit status.
//!
//! A program is a prelude (the printing helpers) and a list of independent cases, each
//! starting with a marker line `#n`; a case prints what it computes (values with their
//! subtypes, error messages, iteration orders) and never checks anything itself, so every
//! printed line is a result compared with C Lua's. Some programs end with an uncaught error,
//! to compare what the stand-alone interpreter reports. The same seed gives the same
//! programs everywhere (see [`program`]).
//!
//! The topics, one module each: [`numbers`] (arithmetic at the edges, comparisons,
//! conversions, numeric `for`, the math library), [`strings`] (the string library, formats,
//! patterns), [`tables`] (borders, `next` order, the table library), [`functions`] (varargs,
//! multiple results, closures, goto, coroutines), [`meta`] (every metamethod event) and
//! [`errors`] (`error`/`pcall`/`xpcall`, runtime and argument error messages, library calls
//! with arguments of every type), [`syntax`] (precedence and folding, literals, evaluation
//! order, scoping). [`harness`] runs, compares and minimizes.

pub mod errors;
pub mod functions;
pub mod harness;
pub mod meta;
pub mod numbers;
pub mod rng;
pub mod strings;
pub mod syntax;
pub mod tables;
pub mod values;

use rng::Rng;

/// What every program starts with: `fmt` (a value as text, with its subtype; a float also
/// with 17 digits), `show` (a count and the values of a call's results), `layout` (a
/// table's border, unpacked length, `ipairs` count, and its keys in `next` order) and `try`
/// (`show` of a protected call). String keys are listed sorted, and with any of them the
/// other keys too: where strings land in the hash part depends on C Lua's per-run hash
/// seed, and the nodes of the other keys with them.
pub const PRELUDE: &str = r##"local function fmt(v)
  local t = type(v)
  if t == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    return tostring(v) .. "/" .. string.format("%.17g", v)
  elseif t == "string" then
    return string.format("%q", v)
  elseif t == "nil" or t == "boolean" then
    return tostring(v)
  end
  return t
end
local function show(...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = fmt((select(i, ...))) end
  print(n .. ":", table.concat(parts, " "))
end
local function try(f, ...) show(pcall(f, ...)) end
local function layout(t)
  local keys, skeys = {}, {}
  for k in next, t do
    if type(k) == "string" then skeys[#skeys + 1] = k else keys[#keys + 1] = fmt(k) end
  end
  table.sort(skeys)
  if #skeys > 0 then table.sort(keys) end
  local ni = 0
  for _ in ipairs(t) do ni = ni + 1 if ni > 100 then break end end
  print("layout", #t, select("#", table.unpack(t)), ni, table.concat(keys, ","),
        table.concat(skeys, ","))
end
math.randomseed(42)
"##;

/// A generated program: the prelude, cases and possibly an uncaught error at the end.
#[derive(Clone, Debug)]
pub struct Program {
    /// The cases, in order; each is self-contained Lua code.
    pub cases: Vec<String>,
    /// Code run last, outside any `pcall`: its error ends the program.
    pub tail: Option<String>,
}

impl Program {
    /// The Lua source: prelude, cases with their markers, tail.
    pub fn source(&self) -> String {
        let mut s = String::from(PRELUDE);
        for (i, c) in self.cases.iter().enumerate() {
            s.push_str(&format!("print(\"#{i}\")\n"));
            s.push_str(c);
            if !c.ends_with('\n') {
                s.push('\n');
            }
        }
        if let Some(t) = &self.tail {
            s.push_str("print(\"#tail\")\n");
            s.push_str(t);
            s.push('\n');
        }
        s
    }
}

/// A case generator: appends one case to the string.
type Topic = fn(&mut Rng) -> String;

/// The topics with their weights.
const TOPICS: &[(Topic, usize)] = &[
    (numbers::arithmetic, 6),
    (numbers::comparison, 2),
    (numbers::conversion, 4),
    (numbers::format, 3),
    (numbers::for_loop, 3),
    (numbers::math_call, 4),
    (strings::library_call, 4),
    (strings::pattern_call, 4),
    (tables::constructor, 3),
    (tables::assignments, 3),
    (tables::library_call, 3),
    (tables::sort, 1),
    (functions::varargs, 2),
    (functions::closures, 1),
    (functions::goto_and_loops, 1),
    (functions::coroutines, 2),
    (functions::compile_errors, 1),
    (meta::event, 5),
    (meta::protocol, 2),
    (errors::raise, 3),
    (errors::runtime, 4),
    (errors::library_call, 6),
    (syntax::expression, 4),
    (syntax::literal, 3),
    (syntax::evaluation_order, 1),
    (syntax::scoping, 1),
];

/// One case from a topic chosen by weight.
pub fn case(rng: &mut Rng) -> String {
    let total: usize = TOPICS.iter().map(|t| t.1).sum();
    let mut r = rng.below(total);
    for (topic, w) in TOPICS {
        if r < *w {
            return topic(rng);
        }
        r -= w;
    }
    unreachable!("weights add up")
}

/// Program `index` of run `seed`, with `cases` cases: independent of how many programs the
/// run has and of how they are spread over workers.
pub fn program(seed: u64, index: u64, cases: usize) -> Program {
    let mut rng = Rng::new(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ index);
    let cases = (0..cases).map(|_| case(&mut rng)).collect();
    let tail = if rng.one_in(6) {
        Some(errors::uncaught(&mut rng))
    } else {
        None
    };
    Program { cases, tail }
}
