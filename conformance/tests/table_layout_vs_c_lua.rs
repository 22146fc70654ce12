//! Differential test of table layout against the C Lua 5.4.8 oracle (`lupa_conformance::oracle`).
//!
//! Generated snippets (a seeded RNG) build tables of every shape: constructors with nils,
//! varargs, calls and keyed fields, `table.pack`, assignment in ascending, descending and
//! random order, nil assignments, `table.insert`/`table.remove`/`table.move`, `rawset`,
//! growth then shrink cycles, reads that move C Lua's `alimit` (`#t`, `t[k]`, `ipairs`),
//! float, boolean, zero, negative and huge integer keys, and string keys mixed in to trigger
//! rehashes. For each table a snippet prints `#t`, `select('#', table.unpack(t))`, the
//! `ipairs` count and the keys in `next` order (strings left out; when string keys were
//! involved the other keys are sorted, since their order then depends on string hashes,
//! which C Lua seeds randomly). The same snippets run on the oracle and on `lua-rs`, from
//! source and from the oracle's binary chunks, and the stripped dumps of every snippet (which
//! hold the NEWTABLE size hints) must be byte-identical too.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use lupa_conformance::differential::rng::Rng;

/// Keys that are not small positive integers.
const ODD_KEYS: &[&str] = &[
    "0",
    "-1",
    "-2",
    "-7",
    "math.maxinteger",
    "math.mininteger",
    "2^31",
    "(1<<31)",
    "(1<<31) + 1",
    "(1<<32)",
    "(1<<32) + 3",
    "(1<<40)",
    "(1<<53)",
    "-(1<<31)",
    "0.5",
    "1.5",
    "-2.25",
    "1e300",
    "-1e-300",
    "3.0",
    "2^53",
    "-0.0",
    "1/0",
    "-1/0",
    "0.1",
    "12.75",
    "true",
    "false",
];

/// Generates snippets.
struct Gen {
    rng: Rng,
}

impl Gen {
    /// A key: mostly small integers (the array part's), sometimes odd ones.
    fn key(&mut self) -> String {
        match self.rng.below_u64(10) {
            0..=5 => self.rng.range(1, 24).to_string(),
            6 => self.rng.range(1, 80).to_string(),
            7 => format!("{}.0", self.rng.range(1, 20)),
            _ => self.rng.pick(ODD_KEYS).to_string(),
        }
    }

    fn value(&mut self) -> String {
        match self.rng.below_u64(4) {
            0 => "'v'".to_string(),
            1 => "true".to_string(),
            _ => self.rng.range(1, 999).to_string(),
        }
    }

    fn maybe_nil(&mut self, percent: u64) -> String {
        if self.rng.chance(percent) {
            "nil".to_string()
        } else {
            self.value()
        }
    }

    /// Arguments for a vararg call, nils included.
    fn args(&mut self) -> String {
        let n = match self.rng.below_u64(10) {
            0 => 0,
            1..=7 => self.rng.range(1, 9),
            _ => self.rng.range(10, 70),
        };
        let p = self.rng.below_u64(60);
        (0..n)
            .map(|_| self.maybe_nil(p))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A table constructor (with `name = value` fields if `strings`); `...` stands for the
    /// varargs of the function it is in.
    fn constructor(&mut self, strings: bool) -> String {
        let n = match self.rng.below_u64(12) {
            0 => 0,
            1..=8 => self.rng.range(1, 10),
            9 | 10 => self.rng.range(11, 70),
            _ => self.rng.range(100, 300),
        };
        let nil_percent = self.rng.below_u64(70);
        let keyed_percent = self.rng.below_u64(50);
        let mut items = Vec::new();
        for _ in 0..n {
            if self.rng.chance(keyed_percent) {
                if strings && self.rng.chance(30) {
                    let name = (b'a' + self.rng.below_u64(26) as u8) as char;
                    items.push(format!("{name} = {}", self.value()));
                } else {
                    let k = self.key();
                    items.push(format!("[{k}] = {}", self.maybe_nil(nil_percent)));
                }
            } else {
                items.push(self.maybe_nil(nil_percent));
            }
        }
        match self.rng.below_u64(6) {
            0 => items.push("...".to_string()),
            1 => items.push("f(...)".to_string()),
            2 => items.push("(f(...))".to_string()),
            _ => {}
        }
        let sep = if self.rng.chance(20) { "; " } else { ", " };
        format!("{{{}}}", items.join(sep))
    }

    /// One operation on `t` without string keys.
    fn op(&mut self, out: &mut String) {
        let r = &mut self.rng;
        match r.below_u64(25) {
            0..=4 => {
                let (k, v) = (self.key(), self.value());
                let _ = writeln!(out, "t[{k}] = {v}");
            }
            5 | 6 => {
                let k = self.key();
                let _ = writeln!(out, "t[{k}] = nil");
            }
            7 => {
                let (a, b) = (r.range(-2, 20), r.range(1, 70));
                let _ = writeln!(out, "for i = {a}, {b} do t[i] = i end");
            }
            8 => {
                let (a, b) = (r.range(-2, 20), r.range(1, 70));
                let _ = writeln!(out, "for i = {b}, {a}, -1 do t[i] = i end");
            }
            9 => {
                let (a, b) = (r.range(1, 30), r.range(1, 70));
                let step = r.range(2, 4);
                let _ = writeln!(out, "for i = {a}, {b}, {step} do t[i] = true end");
            }
            10 => {
                let (a, b) = (r.range(1, 40), r.range(1, 70));
                if r.chance(50) {
                    let _ = writeln!(out, "for i = {a}, {b} do t[i] = nil end");
                } else {
                    let _ = writeln!(out, "for i = {b}, {a}, -1 do t[i] = nil end");
                }
            }
            11 => {
                // Random order over a range.
                let n = r.range(2, 40) as usize;
                let mut ks: Vec<usize> = (1..=n).collect();
                for i in (1..ks.len()).rev() {
                    ks.swap(i, r.below_u64(i as u64 + 1) as usize);
                }
                let nil = r.chance(30);
                for k in ks {
                    if nil && r.chance(30) {
                        let _ = writeln!(out, "t[{k}] = nil");
                    } else {
                        let _ = writeln!(out, "t[{k}] = {k}");
                    }
                }
            }
            12 | 13 => {
                let v = self.value();
                let _ = writeln!(out, "table.insert(t, {v})");
            }
            14 => {
                let (p, v) = (r.range(0, 50), self.value());
                let _ = writeln!(out, "table.insert(t, {p} % (#t + 1) + 1, {v})");
            }
            15 | 16 => {
                let _ = writeln!(out, "table.remove(t)");
            }
            17 => {
                let p = r.range(0, 50);
                let _ = writeln!(
                    out,
                    "do local n = #t if n > 0 then table.remove(t, {p} % n + 1) end end"
                );
            }
            18 => {
                let (k, v) = (self.key(), self.maybe_nil(30));
                let _ = writeln!(out, "rawset(t, {k}, {v})");
            }
            19 => {
                let which = r.below_u64(4);
                let k = self.key();
                let _ = match which {
                    0 => writeln!(out, "local _ = #t"),
                    1 => writeln!(out, "local _ = t[{k}]"),
                    2 => writeln!(out, "for _ in ipairs(t) do end"),
                    _ => writeln!(out, "local _ = rawlen(t) + (rawget(t, {k}) and 1 or 0)"),
                };
            }
            20 => {
                // Growth then shrink.
                let n = r.range(8, 120);
                let m = r.range(0, n);
                let _ = writeln!(out, "for i = 1, {n} do t[i] = i end");
                let _ = writeln!(out, "for i = {n}, {m}, -1 do t[i] = nil end");
                if r.chance(50) {
                    let k = self.key();
                    let _ = writeln!(out, "t[{k}] = 1 t[-{n}] = 2 t[{n} * 3] = 3");
                }
            }
            21 => {
                let (a, b, c) = (r.range(1, 10), r.range(0, 20), r.range(-3, 30));
                let _ = writeln!(out, "table.move(t, {a}, {b}, {c})");
            }
            22 => {
                let _ = writeln!(out, "for k in pairs(t) do t[k] = nil end");
            }
            23 => {
                let _ = writeln!(out, "report(t)");
            }
            _ => {
                // New keys in a full hash part while others are nil: the rehash drops them.
                let (a, b) = (r.range(100, 200), r.range(1, 30));
                let _ = writeln!(out, "for i = {a}, {a} + {b} do t[i] = i end");
                let _ = writeln!(out, "for i = {a}, {a} + {b}, 2 do t[i] = nil end");
            }
        }
    }

    /// One operation on `u`, which has string keys: never a nil assignment. (Where a
    /// string key lands depends on C Lua's randomly seeded string hashes, and so, once a
    /// node can be reused, do the moments of rehashes and hence `#`; without nil values,
    /// every new key takes a free node and rehashes come when the hash part is full.)
    fn mixed_op(&mut self, out: &mut String) {
        let r = &mut self.rng;
        match r.below_u64(8) {
            0 | 1 => {
                let (n, m) = (r.range(1, 40), r.range(1, 9));
                let _ = writeln!(out, "for i = 1, {n} do u['s{m}' .. i] = i end");
            }
            2 | 3 => {
                let (k, v) = (self.key(), self.value());
                let _ = writeln!(out, "u[{k}] = {v}");
            }
            4 => {
                let (a, b) = (r.range(-2, 40), r.range(1, 90));
                let _ = writeln!(out, "for i = {a}, {b} do u[i] = i end");
            }
            5 => {
                let v = self.value();
                let _ = writeln!(out, "table.insert(u, {v})");
            }
            6 => {
                let _ = writeln!(out, "local _ = #u");
            }
            _ => {
                let _ = writeln!(out, "reports(u)");
            }
        }
    }

    /// A snippet: a chunk called with `report`, `reports` (for tables with string keys) and
    /// `f` (returns its arguments).
    fn snippet(&mut self) -> String {
        let mut s = String::from("local report, reports, f = ...\n");
        let start = match self.rng.below_u64(5) {
            0 | 1 => "{}".to_string(),
            _ => self.constructor(false),
        };
        let args = self.args();
        let _ = writeln!(s, "local t = (function(...) return {start} end)({args})");
        let n = match self.rng.below_u64(8) {
            0 => 0,
            1..=5 => self.rng.range(1, 8),
            _ => self.rng.range(9, 30),
        };
        for _ in 0..n {
            self.op(&mut s);
        }
        s.push_str("report(t)\n");
        if self.rng.chance(30) {
            // `next` with keys the table may reject.
            let k = self.key();
            let _ = writeln!(s, "report(pcall(next, t, {k}))");
        }
        if self.rng.chance(40) {
            // String keys: rehashes whose sizes depend on them.
            let u = match self.rng.below_u64(3) {
                0 => {
                    "(function() local u = {} for k, v in pairs(t) do u[k] = v end return u end)()"
                        .to_string()
                }
                1 => format!(
                    "(function(...) return table.pack(...) end)({})",
                    self.args()
                ),
                _ => {
                    let c = self.constructor(true);
                    format!("(function(...) return {c} end)({})", self.args())
                }
            };
            let _ = writeln!(s, "local u = {u}");
            for _ in 0..self.rng.range(1, 10) {
                self.mixed_op(&mut s);
            }
            s.push_str("reports(u)\n");
        }
        s
    }
}

/// The driver: runs every snippet of `snippets.lua` (mode `run`), prints their stripped
/// dumps in hex (`dump`), or runs the chunks of such a dump listing (`chunks FILE`).
const DRIVER: &str = r##"
local snippets = dofile(arg[1])
local mode = arg[2]
local n
local function fmt(k)
  if math.type(k) == "float" then return string.format("f%.17g", k) end
  return tostring(k)
end
local function reporter(id, mixed)
  return function(t, ...)
    n = n + 1
    local tag = id .. "." .. n
    if type(t) ~= "table" then
      -- report(pcall(next, ...)): whether next accepted the key, and what came next.
      print(tag, "next", tostring(t), t and fmt((...)) or "")
      return
    end
    local ok, len, un, ip = pcall(function()
      local len = #t
      local un = select("#", table.unpack(t))
      local ip = 0
      for _ in ipairs(t) do ip = ip + 1 end
      return len, un, ip
    end)
    if not ok then len, un, ip = "err", tostring(len):gsub("^.-:%d+: ", ""), "" end
    local ks = {}
    for k in next, t do
      if type(k) ~= "string" then ks[#ks + 1] = fmt(k) end
    end
    -- With string keys, where the others land depends on the strings' hashes.
    if mixed then table.sort(ks) end
    print(tag, len, un, ip, table.concat(ks, " "))
  end
end
local function f(...) return ... end
local function tohex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
local function fromhex(h) return (h:gsub("..", function(x) return string.char(tonumber(x, 16)) end)) end
local function run(id, chunk)
  n = 0
  local ok, err = pcall(chunk, reporter(id, false), reporter(id, true), f)
  if not ok then print(id, "error", (tostring(err):gsub("^.-:%-?%d+: ", ""))) end
end
if mode == "run" then
  for id, s in ipairs(snippets) do
    run(id, assert(load(s, "=s" .. id)))
  end
elseif mode == "dump" then
  for id, s in ipairs(snippets) do
    print(id, tohex(string.dump(assert(load(s, "=s" .. id)), true)))
  end
else
  for line in io.lines(arg[3]) do
    local id, hex = line:match("^(%d+)\t(%x+)$")
    id = tonumber(id)
    run(id, assert(load(fromhex(hex), "=c" .. id, "b")))
  end
end
"##;

fn run(exe: &Path, dir: &Path, args: &[&str]) -> String {
    let out = Command::new(exe)
        .arg("driver.lua")
        .arg("snippets.lua")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{} {args:?} failed: {}",
        exe.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The first lines where `got` differs from `want`, with the snippets they come from.
fn diff(what: &str, got: &str, want: &str, snippets: &[String]) -> Option<String> {
    if got == want {
        return None;
    }
    let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
    let mut report = format!(
        "{what}: {} lines from lua-rs, {} from C Lua\n",
        g.len(),
        w.len()
    );
    let mut shown = 0;
    for i in 0..g.len().max(w.len()) {
        let (a, b) = (g.get(i).copied(), w.get(i).copied());
        if a == b {
            continue;
        }
        let id = b
            .or(a)
            .and_then(|l| l.split(['\t', '.']).next())
            .and_then(|x| x.parse::<usize>().ok());
        let _ = writeln!(
            report,
            "line {}:\n  lua-rs: {}\n  C Lua:  {}",
            i + 1,
            a.unwrap_or("<none>"),
            b.unwrap_or("<none>")
        );
        if let Some(src) = id.and_then(|id| snippets.get(id - 1)) {
            if src.len() < 3000 {
                let _ = writeln!(report, "  snippet:\n{src}");
            }
        }
        shown += 1;
        if shown == 5 {
            break;
        }
    }
    Some(report)
}

#[test]
fn table_layout_matches_c_lua() {
    let oracle = lupa_conformance::oracle::lua();
    let ours = Path::new(env!("CARGO_BIN_EXE_lua-rs"));
    let mut gen = Gen {
        rng: Rng(0x5eed_7ab1_e5ca_1ab5),
    };
    let snippets: Vec<String> = (0..2500).map(|_| gen.snippet()).collect();
    let dir = std::env::temp_dir().join(format!("table-layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut file = String::from("return {\n");
    for s in &snippets {
        let _ = writeln!(file, "[==[\n{s}]==],");
    }
    file.push_str("}\n");
    std::fs::write(dir.join("snippets.lua"), file).unwrap();
    std::fs::write(dir.join("driver.lua"), DRIVER).unwrap();

    let want = run(&oracle, &dir, &["run"]);
    let got = run(ours, &dir, &["run"]);
    let dump_c = run(&oracle, &dir, &["dump"]);
    let dump_ours = run(ours, &dir, &["dump"]);
    std::fs::write(dir.join("chunks.txt"), &dump_c).unwrap();
    let got_chunks = run(ours, &dir, &["chunks", "chunks.txt"]);
    // `KEEP_TABLE_LAYOUT=1` keeps the generated files (to rerun them by hand).
    if std::env::var_os("KEEP_TABLE_LAYOUT").is_some() {
        eprintln!("files kept in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }

    let lines = want.lines().count();
    assert!(
        lines > snippets.len(),
        "too few lines from the oracle: {lines}"
    );
    let failures: Vec<String> = [
        diff("from source", &got, &want, &snippets),
        diff(
            "C Lua's binary chunks on lua-rs",
            &got_chunks,
            &want,
            &snippets,
        ),
        diff(
            "stripped dumps (NEWTABLE size hints)",
            &dump_ours,
            &dump_c,
            &snippets,
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("{} snippets, {lines} lines compared", snippets.len());
}
