//! Compares the pattern and pack engines with the C Lua 5.4.8 oracle (`lupa_conformance::oracle`).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::process::Command;

use stdlib::string::pack::{self, PackArg, PackError, PackKind, Unpacked};
use stdlib::string::pattern::{self, Capture, GMatchState, Match, PatternError};

/// A byte string with the Lua expression that builds it.
#[derive(Clone)]
struct B {
    expr: String,
    bytes: Vec<u8>,
}

fn lit(b: &[u8]) -> B {
    let mut expr = String::from("\"");
    for &c in b {
        let _ = write!(expr, "\\{c}");
    }
    expr.push('"');
    B {
        expr,
        bytes: b.to_vec(),
    }
}

fn rep(b: &[u8], n: usize) -> B {
    B {
        expr: format!("string.rep({}, {n})", lit(b).expr),
        bytes: b.repeat(n),
    }
}

fn cat(a: B, b: B) -> B {
    B {
        expr: format!("({})..({})", a.expr, b.expr),
        bytes: [a.bytes, b.bytes].concat(),
    }
}

enum Case {
    Find(B, B, i64, bool),
    Match(B, B, i64),
    Gmatch(B, B, i64),
    Gsub(B, B, B, Option<i64>),
    Pack(B, Vec<PackArg<'static>>),
    Unpack(B, B, i64),
    PackSize(B),
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|c| format!("{c:02x}")).collect()
}

fn enc_caps(src: &[u8], m: &Match, n: usize) -> Result<Vec<String>, PatternError> {
    let mut v = Vec::new();
    for i in 0..n {
        v.push(match m.capture(i)? {
            Capture::Slice(a, b) => format!("s:{}", hex(&src[a..b])),
            Capture::Position(p) => format!("i:{p}"),
        });
    }
    Ok(v)
}

fn enc_unpacked(v: &Unpacked) -> String {
    match v {
        Unpacked::Int(i) => format!("i:{i}"),
        Unpacked::Float(f) => format!("f:{}", hex(&f.to_le_bytes())),
        Unpacked::Str(s) => format!("s:{}", hex(s)),
    }
}

fn pack_err(e: PackError) -> String {
    match e.arg {
        Some(n) => format!("ERR arg {n}: {e}"),
        None => format!("ERR {e}"),
    }
}

fn ok(v: Vec<String>) -> String {
    format!("OK {}", v.join(","))
}

fn run_rust(c: &Case) -> String {
    let r: Result<Vec<String>, PatternError> = match c {
        Case::Find(s, p, init, plain) => match pattern::find(&s.bytes, &p.bytes, *init, *plain) {
            Err(e) => Err(e),
            Ok(None) => Ok(vec!["nil".into()]),
            Ok(Some(m)) => enc_caps(&s.bytes, &m, m.level()).map(|caps| {
                let mut v = vec![format!("i:{}", m.start + 1), format!("i:{}", m.end)];
                v.extend(caps);
                v
            }),
        },
        Case::Match(s, p, init) => match pattern::str_match(&s.bytes, &p.bytes, *init) {
            Err(e) => Err(e),
            Ok(None) => Ok(vec!["nil".into()]),
            Ok(Some(m)) => enc_caps(&s.bytes, &m, m.value_count()),
        },
        Case::Gmatch(s, p, init) => {
            let mut st = GMatchState::new(s.bytes.len(), *init);
            let mut out = Vec::new();
            let mut res = Ok(());
            for _ in 0..50 {
                match st.next(&s.bytes, &p.bytes) {
                    Err(e) => {
                        res = Err(e);
                        break;
                    }
                    Ok(None) => break,
                    Ok(Some(m)) => match enc_caps(&s.bytes, &m, m.value_count()) {
                        Ok(v) => out.push(format!("[{}]", v.join(","))),
                        Err(e) => {
                            res = Err(e);
                            break;
                        }
                    },
                }
            }
            res.map(|_| out)
        }
        Case::Gsub(s, p, r, n) => pattern::gsub_str(&s.bytes, &p.bytes, &r.bytes, *n)
            .map(|(b, k)| vec![format!("s:{}", hex(&b)), format!("i:{k}")]),
        Case::Pack(f, args) => {
            let r = pack::pack(
                &f.bytes,
                |_| Ok(()),
                |n, _k: PackKind| {
                    args.get(n - 2).cloned().ok_or_else(|| PackError {
                        arg: Some(n),
                        msg: "no value".into(),
                    })
                },
            );
            return match r {
                Ok(b) => ok(vec![format!("s:{}", hex(&b))]),
                Err(e) => pack_err(e),
            };
        }
        Case::Unpack(f, d, init) => {
            return match pack::unpack(&f.bytes, &d.bytes, *init) {
                Ok((vals, next)) => {
                    let mut v: Vec<String> = vals.iter().map(enc_unpacked).collect();
                    v.push(format!("i:{next}"));
                    ok(v)
                }
                Err(e) => pack_err(e),
            };
        }
        Case::PackSize(f) => {
            return match pack::packsize(&f.bytes) {
                Ok(n) => ok(vec![format!("i:{n}")]),
                Err(e) => pack_err(e),
            };
        }
    };
    match r {
        Ok(v) => ok(v),
        Err(e) => format!("ERR {e}"),
    }
}

fn lua_arg(a: &PackArg<'_>) -> String {
    match a {
        PackArg::Int(i) if *i == i64::MIN => "math.mininteger".into(),
        PackArg::Int(i) => format!("{i}"),
        PackArg::Float(f) => format!("(string.unpack('<d', {}))", lit(&f.to_le_bytes()).expr),
        PackArg::Str(s) => lit(s).expr,
    }
}

fn int(i: i64) -> String {
    if i == i64::MIN {
        "math.mininteger".into()
    } else {
        i.to_string()
    }
}

fn lua_call(c: &Case) -> String {
    let opt = |n: &Option<i64>| n.map_or("nil".to_string(), int);
    match c {
        Case::Find(s, p, i, pl) => {
            format!("R(string.find, {}, {}, {}, {pl})", s.expr, p.expr, int(*i))
        }
        Case::Match(s, p, i) => format!("R(string.match, {}, {}, {})", s.expr, p.expr, int(*i)),
        Case::Gmatch(s, p, i) => format!("G({}, {}, {})", s.expr, p.expr, int(*i)),
        Case::Gsub(s, p, r, n) => {
            format!(
                "R(string.gsub, {}, {}, {}, {})",
                s.expr,
                p.expr,
                r.expr,
                opt(n)
            )
        }
        Case::Pack(f, args) => {
            let a: Vec<String> = args.iter().map(lua_arg).collect();
            format!(
                "R(string.pack, {}{})",
                f.expr,
                a.iter().map(|x| format!(", {x}")).collect::<String>()
            )
        }
        Case::Unpack(f, d, i) => format!("R(string.unpack, {}, {}, {i})", f.expr, d.expr),
        Case::PackSize(f) => format!("R(string.packsize, {})", f.expr),
    }
}

const PRELUDE: &str = r#"
local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
local function enc(v)
  if v == nil then return "nil" end
  if math.type(v) == "integer" then return "i:" .. v end
  if math.type(v) == "float" then return "f:" .. hex(string.pack("<d", v)) end
  return "s:" .. hex(v)
end
local function norm(m)
  m = tostring(m):gsub("^[^:]*:%d+: ", "")
  local n, msg = m:match("^bad argument #(%d+) to '[^']*' %((.*)%)$")
  if n then return "arg " .. n .. ": " .. msg end
  return m
end
local function vals(t, i, j)
  local o = {}
  for k = i, j do o[#o + 1] = enc(t[k]) end
  return table.concat(o, ",")
end
function R(f, ...)
  local r = table.pack(pcall(f, ...))
  if r[1] then print("OK " .. vals(r, 2, r.n)) else print("ERR " .. norm(r[2])) end
end
function G(s, p, i)
  local ok, err = pcall(function()
    local f = string.gmatch(s, p, i)
    local o = {}
    for _ = 1, 50 do
      local r = table.pack(f())
      if r[1] == nil then break end
      o[#o + 1] = "[" .. vals(r, 1, r.n) .. "]"
    end
    return table.concat(o, ",")
  end)
  if ok then print("OK " .. err) else print("ERR " .. norm(err)) end
end
"#;

struct Rng(u64);

impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn s(x: &str) -> B {
    lit(x.as_bytes())
}

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    let subjects = [
        "hello world from Lua",
        "",
        "a",
        "aaa",
        "  key = value  ",
        "THE (quick) [brown] fox",
        "x = 10; y = 20; z=0x1F",
        "f(a(b)c)d((e)",
        "abcabcabc",
        "\t\n\x0b\x0c\r \x7f\x01",
        "AbC123_!@#",
        "\u{e9}t\u{e9} \u{ff}",
    ];
    let pats = [
        "",
        "a",
        "o",
        "l+",
        "l*",
        "l-",
        "l?",
        "^h",
        "^",
        "$",
        "a$",
        "^$",
        ".",
        ".-",
        ".*",
        "%a+",
        "%A+",
        "%d+",
        "%D",
        "%s+",
        "%S+",
        "%w+",
        "%W",
        "%p",
        "%P+",
        "%c",
        "%C+",
        "%g+",
        "%G",
        "%l+",
        "%u+",
        "%U",
        "%x+",
        "%X",
        "[aeiou]",
        "[^aeiou]+",
        "[a-f]+",
        "[%a_][%w_]*",
        "[%]]",
        "[]]",
        "[^]]+",
        "[a-]",
        "[-a]",
        "[%-x]",
        "(%w+)%s*=%s*(%w+)",
        "()",
        "()a()",
        "(a*(.)%w(%s*))",
        "%b()",
        "%b[]",
        "%bxy",
        "%f[%w]%w+",
        "%f[%W]",
        "%f[%a]",
        "%f[^%z]",
        "(a)%1",
        "(l)%1",
        "((a)(b))%2",
        "(%w)%1",
        "%1",
        "(a%1)",
        "%0",
        "(",
        ")",
        "a)",
        "(()",
        "%",
        "[a",
        "[^",
        "[%",
        "%f",
        "%fa",
        "%b",
        "%bx",
        "(a",
        "a(b",
        "%z",
        "[%z]",
        "x*$",
        "^(.-)%s*$",
        "(.-)(%d+)",
        "%.",
        "%%",
        "[.]",
        "a.-b",
        "(h)(e)(l)(l)(o)",
        "%(",
        "[(]",
        "%f[%s]",
        "^%s*(.-)%s*$",
        "%w-%s",
        "[^%s]+$",
        "(x)()=()",
        "()()()",
        "a+b*c?",
        "[%d%.]+",
        "[\u{e9}\u{ff}]",
        "[\\128-\\255]+",
        "^(%w+)",
        "%u%l+",
        "(%a)%a*%1",
    ];
    for sub in subjects {
        for p in pats {
            v.push(Case::Find(s(sub), s(p), 1, false));
            v.push(Case::Match(s(sub), s(p), 1));
            v.push(Case::Gmatch(s(sub), s(p), 1));
            v.push(Case::Gsub(s(sub), s(p), s("<%0>"), None));
        }
    }
    // init, plain, replacement strings, max_n
    for init in [
        -100,
        -5,
        -1,
        0,
        1,
        2,
        5,
        20,
        21,
        22,
        100,
        i64::MIN,
        i64::MAX,
    ] {
        for p in ["o", "l+", "", "^o", "o w", "%a+", "()"] {
            v.push(Case::Find(s("hello world from Lua"), s(p), init, false));
            v.push(Case::Find(s("hello world from Lua"), s(p), init, true));
            v.push(Case::Match(s("hello world from Lua"), s(p), init));
            v.push(Case::Gmatch(s("hello world from Lua"), s(p), init));
        }
    }
    for p in ["a.b", "%a", "(", "[", "$", "^h"] {
        v.push(Case::Find(s("xa.b %a ( [ $ ^h"), s(p), 1, true));
    }
    for r in [
        "%1", "%2", "%0%0", "%%", "%", "%x", "[%1-%2]", "x%9", "%1%3",
    ] {
        for p in ["(l)(o)", "l", "()l", "(l)()", "", "(o"] {
            for n in [None, Some(0), Some(1), Some(2), Some(-1)] {
                v.push(Case::Gsub(s("hello world"), s(p), s(r), n));
            }
        }
    }
    // Pathological and deep cases.
    for k in [16usize, 198, 199, 200, 201, 300] {
        let pat = if k <= 16 {
            cat(rep(b"a?", k), rep(b"a", k))
        } else {
            rep(b"a?", k)
        };
        v.push(Case::Find(rep(b"a", k), pat, 1, false));
    }
    for k in [31usize, 32, 33, 250] {
        let pat = cat(cat(rep(b"(", k), s("a")), rep(b")", k));
        v.push(Case::Match(s("a"), pat, 1));
        v.push(Case::Match(s("b"), rep(b"()", k), 1));
    }
    v.push(Case::Match(rep(b"a", 100), rep(b"a?", 100), 1));
    let deep = cat(rep(b"(", 100_000), rep(b")", 100_000));
    v.push(Case::Find(deep.clone(), s("%b()"), 1, false));
    v.push(Case::Find(deep.clone(), s("%b)("), 1, false));
    v.push(Case::Gsub(deep, s("%b()"), s("x"), None));
    let long = rep(b"ab", 50_000);
    for p in ["b+", "(a)(b)", "%f[b]", "[ab]*$", "ab$"] {
        v.push(Case::Find(long.clone(), s(p), 1, false));
    }
    let mid = rep(b"ab", 1000);
    for p in [".-b$", "(ab)*", ".*x", "[ab]*x", "a.-x"] {
        v.push(Case::Find(mid.clone(), s(p), 1, false));
    }
    v.push(Case::Gsub(long.clone(), s("(a)(b)"), s("%2%1"), None));
    v.push(Case::Gsub(long.clone(), s(""), s("-"), Some(1000)));
    v.push(Case::Gmatch(long, s("a"), 1));
    for k in [150, 250] {
        v.push(Case::Find(
            rep(b"a", 2),
            cat(rep(b"a*", k), s("b")),
            1,
            false,
        ));
    }
    // Random patterns.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let alpha = b"ab()[]%^$*+?.-1f bxsSdaw0";
    for _ in 0..3000 {
        let pl = rng.next(10);
        let p: Vec<u8> = (0..pl).map(|_| alpha[rng.next(alpha.len())]).collect();
        let sl = rng.next(14);
        let sb: Vec<u8> = (0..sl).map(|_| b"ab()x1 ]["[rng.next(9)]).collect();
        let init = rng.next(20) as i64 - 8;
        match rng.next(4) {
            0 => v.push(Case::Find(lit(&sb), lit(&p), init, false)),
            1 => v.push(Case::Match(lit(&sb), lit(&p), init)),
            2 => v.push(Case::Gmatch(lit(&sb), lit(&p), init)),
            _ => v.push(Case::Gsub(lit(&sb), lit(&p), s("<%0%1>"), None)),
        }
    }
    pack_cases(&mut v, &mut rng);
    v
}

fn pack_cases(v: &mut Vec<Case>, rng: &mut Rng) {
    use PackArg::{Float, Int, Str};
    let st = |x: &'static str| Str(Cow::Borrowed(x.as_bytes()));
    let table: Vec<(&str, Vec<PackArg<'static>>)> = vec![
        ("b", vec![Int(-128)]),
        ("b", vec![Int(128)]),
        ("B", vec![Int(255)]),
        ("B", vec![Int(256)]),
        ("B", vec![Int(-1)]),
        ("h", vec![Int(-32768)]),
        (">H", vec![Int(65535)]),
        ("i", vec![Int(-1)]),
        ("<i3", vec![Int(8_388_607)]),
        ("<i3", vec![Int(8_388_608)]),
        (">I3", vec![Int(16_777_215)]),
        ("i7", vec![Int(-36_028_797_018_963_968)]),
        ("i8", vec![Int(i64::MIN)]),
        ("j", vec![Int(i64::MAX)]),
        ("J", vec![Int(-1)]),
        ("T", vec![Int(12345)]),
        ("l L", vec![Int(-5), Int(5)]),
        ("i16", vec![Int(-2)]),
        (">i16", vec![Int(3)]),
        ("I16", vec![Int(-1)]),
        ("i17", vec![Int(1)]),
        ("i0", vec![Int(1)]),
        ("f", vec![Float(1.5)]),
        (">f", vec![Float(-0.1)]),
        ("d", vec![Float(3.25)]),
        (">n", vec![Float(f64::INFINITY)]),
        ("d", vec![Int(7)]),
        ("i", vec![Float(7.0)]),
        ("i", vec![Float(7.5)]),
        ("s", vec![st("hello")]),
        (">s2", vec![st("hi")]),
        ("s1", vec![Str(Cow::Owned(vec![b'a'; 300]))]),
        ("z", vec![st("abc")]),
        ("z", vec![st("a\0b")]),
        ("c5", vec![st("abc")]),
        ("c2", vec![st("abc")]),
        ("c", vec![st("a")]),
        ("c0", vec![st("")]),
        ("!4 b i", vec![Int(1), Int(2)]),
        ("!b d", vec![Int(1), Float(2.0)]),
        ("!2 b d", vec![Int(1), Float(2.0)]),
        ("!3 b i", vec![Int(1), Int(2)]),
        ("!17", vec![]),
        ("b Xi", vec![Int(1)]),
        ("!b Xi4 b", vec![Int(1), Int(2)]),
        ("b X", vec![Int(1)]),
        ("b Xc", vec![Int(1)]),
        ("b Xz", vec![Int(1)]),
        ("b X<", vec![Int(1)]),
        ("b x x b", vec![Int(1), Int(2)]),
        ("<i2 >i2 =i2", vec![Int(1), Int(2), Int(3)]),
        ("y", vec![]),
        ("i\0garbage", vec![Int(1)]),
        ("s i", vec![st("ab"), Int(9)]),
    ];
    for (f, args) in table {
        v.push(Case::Pack(s(f), args));
    }
    let unp: Vec<(&str, &[u8], i64)> = vec![
        ("<i4", b"\xfe\xff\xff\xff", 1),
        (">i4", b"\xfe\xff\xff\xff", 1),
        ("<I4", b"\xfe\xff\xff\xff", 1),
        ("<i3", b"\x00\x00\x80", 1),
        ("i4", b"ab", 1),
        ("i4", b"abcd", 10),
        ("i4", b"abcd", -4),
        ("i4", b"abcd", -5),
        ("i4", b"abcd", 5),
        ("b", b"abcd", 5),
        ("", b"abcd", 5),
        ("i9", b"\xff\xff\xff\xff\xff\xff\xff\xff\x01", 1),
        ("i9", b"\xff\xff\xff\xff\xff\xff\xff\xff\xff", 1),
        ("I9", b"\xff\xff\xff\xff\xff\xff\xff\xff\x00", 1),
        ("I9", b"\xff\xff\xff\xff\xff\xff\xff\xff\xff", 1),
        ("i16", &[0u8; 16], 1),
        ("z", b"abc", 1),
        ("z z", b"abc\0\0", 1),
        ("s1", b"\x05ab", 1),
        ("s1", b"\x02ab", 1),
        (">s2 B", b"\x00\x01ab", 1),
        ("c3", b"abcd", 2),
        ("!4 b i", b"\x01\0\0\0\x02\0\0\0", 1),
        ("!4 b Xi b", b"\x01\0\0\0\x02", 1),
        ("f d", b"\0\0\xc0\x3f\0\0\0\0\0\0\x0a\x40", 1),
        ("!8 d", b"\0\0\0\0\0\0\0\0\0", 2),
        ("s9", b"\x01\0\0\0\0\0\0\0\0x", 1),
        ("s9", b"\x01\0\0\0\0\0\0\0\x01x", 1),
    ];
    for (f, d, init) in unp {
        v.push(Case::Unpack(s(f), lit(d), init));
    }
    for f in [
        "i",
        "!8 b d",
        "s",
        "z",
        "c10",
        "!3i",
        "i3Xi8",
        "!i2Xi8",
        "x",
        "Xi",
        "",
        "c2147483647c2147483647",
        "c1000000000c1000000000c1000000000",
        "j n f",
    ] {
        v.push(Case::PackSize(s(f)));
    }
    // Random formats with random data.
    let alpha = b"<>=! bBhHlLjJTiIfdnszxXc0123481";
    for _ in 0..1500 {
        let fl = rng.next(7);
        let f: Vec<u8> = (0..fl).map(|_| alpha[rng.next(alpha.len())]).collect();
        let dl = rng.next(30);
        let d: Vec<u8> = (0..dl)
            .map(|_| [0u8, 1, 0xff, 0x80, b'a'][rng.next(5)])
            .collect();
        v.push(Case::Unpack(lit(&f), lit(&d), rng.next(10) as i64 - 3));
        v.push(Case::PackSize(lit(&f)));
    }
}

#[test]
fn pattern_and_pack_vs_c_lua() {
    let oracle = lupa_conformance::oracle::lua();
    let cases = cases();
    let mut script = String::from(PRELUDE);
    for c in &cases {
        script.push_str(&lua_call(c));
        script.push('\n');
    }
    let path = std::env::temp_dir().join(format!("pattern_vs_lua_{}.lua", std::process::id()));
    std::fs::write(&path, &script).expect("write script");
    let out = Command::new("timeout")
        .arg("300")
        .arg(&oracle)
        .arg(&path)
        .output()
        .expect("run the oracle");
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "the oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), cases.len(), "one output line per case");
    let mut bad = 0;
    let mut errs = 0;
    for (i, (c, want)) in cases.iter().zip(&lines).enumerate() {
        let got = run_rust(c);
        if want.starts_with("ERR") {
            errs += 1;
        }
        if got != *want {
            bad += 1;
            if bad <= 30 {
                let call = lua_call(c);
                let call: String = call.chars().take(200).collect();
                let w: String = want.chars().take(200).collect();
                let g: String = got.chars().take(200).collect();
                eprintln!("case {i}: {call}\n  lua:  {w}\n  rust: {g}");
            }
        }
    }
    eprintln!(
        "{} cases ({} errors in lua), {} mismatches",
        cases.len(),
        errs,
        bad
    );
    assert_eq!(bad, 0, "mismatches against C Lua 5.4.8");
}
