//! Compares `interp::number` with the C Lua 5.4.8 oracle (`lupa_conformance::oracle`): a
//! generated Lua script prints `tostring`, `string.format`, `tonumber`, `//`, `%`, `^`,
//! shifts, mixed comparisons, float to integer conversions and numeric `for` counts for
//! thousands of inputs, and every line must equal what our functions produce.

use interp::number::{self, Number, Spec, F2I};
use std::fmt::Write as _;
use std::process::Command;

use lupa_conformance::differential::rng::Rng;

/// A Lua string literal made of decimal escapes (any bytes).
fn lua_str(s: &[u8]) -> String {
    let mut o = String::from("\"");
    for &c in s {
        let _ = write!(o, "\\{c:03}");
    }
    o.push('"');
    o
}

/// A Lua integer literal (hex, so that mininteger needs no special case).
fn lua_int(i: i64) -> String {
    format!("0x{:x}", i as u64)
}

/// A Lua expression for the float with these exact bits.
fn lua_float(f: f64) -> String {
    format!("F({})", lua_int(f.to_bits() as i64))
}

fn floats(rng: &mut Rng) -> Vec<f64> {
    let mut v = vec![
        0.0,
        1.0,
        0.1,
        0.2,
        0.3,
        1.0 / 3.0,
        2.0 / 3.0,
        100.0,
        1e14,
        99999999999999.0,
        999999999999999.0,
        1e15,
        1e16,
        1e17,
        123456789012345678.0,
        2f64.powi(53),
        2f64.powi(53) + 2.0,
        2f64.powi(53) - 1.0,
        2f64.powi(63),
        2f64.powi(63) - 1024.0,
        2f64.powi(64),
        1e308,
        f64::MAX,
        f64::INFINITY,
        f64::NAN,
        5e-324,
        1e-323,
        f64::MIN_POSITIVE,
        f64::from_bits(0x000f_ffff_ffff_ffff),
        f64::from_bits(0x0008_0000_0000_0000),
        0.5,
        1.5,
        2.5,
        3.5,
        0.125,
        0.375,
        0.05,
        0.15,
        0.25,
        0.35,
        1e-5,
        1e-4,
        0.0001234,
        123.456,
        9.5,
        0.95,
        999999.5,
        9999995.0,
        9.9999999999999,
        9.99999999999999,
        99999999999999.5,
        1e21,
        1e22,
        1e23,
        4.35,
        2.675,
        1.005,
        0.045,
        1.96875,
        1.999999999999999,
        1e100,
        1e-100,
        1e-300,
        3.0,
        7.0,
        255.0,
        65536.0,
        std::f64::consts::PI,
        std::f64::consts::E,
    ];
    let n = v.len();
    for i in 0..n {
        v.push(-v[i]);
    }
    for _ in 0..200 {
        v.push(f64::from_bits(rng.next_u64()));
    }
    for _ in 0..200 {
        // Near 1: exponents in [-20, 20].
        let e = rng.below_u64(41) + 1003;
        let bits = (rng.next_u64() & ((1 << 52) - 1)) | (e << 52) | (rng.next_u64() & (1 << 63));
        v.push(f64::from_bits(bits));
    }
    for _ in 0..200 {
        // Short decimals: m / 10^k.
        let m = rng.below_u64(2_000_000) as f64 - 1_000_000.0;
        let k = rng.below_u64(12) as i32;
        v.push(m / 10f64.powi(k));
    }
    for _ in 0..100 {
        // Integral floats of all sizes.
        let sh = rng.below_u64(64);
        v.push(((rng.next_u64() >> sh) as i64) as f64);
    }
    v.retain(|f| !f.is_nan() || f.to_bits() == f64::NAN.to_bits());
    v.push(-f64::NAN);
    v
}

fn ints(rng: &mut Rng) -> Vec<i64> {
    let mut v = vec![
        0,
        1,
        -1,
        2,
        -2,
        3,
        -3,
        7,
        -7,
        10,
        -10,
        100,
        255,
        256,
        4096,
        1 << 53,
        (1 << 53) + 1,
        -(1 << 53) - 1,
        i64::MAX,
        i64::MIN,
        i64::MAX - 1,
        i64::MIN + 1,
        1 << 62,
        123456789012345678,
    ];
    for _ in 0..120 {
        let sh = rng.below_u64(64);
        v.push((rng.next_u64() as i64) >> sh);
    }
    v
}

const FLOAT_FORMATS: &[&str] = &[
    "%.14g",
    "%g",
    "%e",
    "%f",
    "%a",
    "%A",
    "%.3a",
    "%.0a",
    "%.1a",
    "%.13a",
    "%.20a",
    "%#a",
    "%.20e",
    "%.17g",
    "%.16g",
    "%#g",
    "%G",
    "%E",
    "%+.3e",
    "% 12.4f",
    "%-12.3g|",
    "%012.3f",
    "%#.0f",
    "%.0e",
    "%.0f",
    "%.1f",
    "%5.1f",
    "%.99f",
    "%99.99e",
    "%-+#20.10G|",
    "%020a",
    "%#.0g",
    "%.1g",
    "%.2g",
    "%.3g",
    "%.30g",
    "%#.5g",
    "%08.2f",
    "% e",
    "%+g",
    "%.0g",
    "%-15a|",
    "%.15f",
];

const INT_FORMATS: &[&str] = &[
    "%d", "%5d", "%-5d|", "%05d", "%+d", "% d", "%.3d", "%.0d", "%x", "%X", "%#x", "%#X", "%o",
    "%#o", "%#.0o", "%020.10x", "%u", "%25u", "%-#25x|", "%i", "%+.20i", "%#.3o", "%.0x", "%c",
];

/// Random conversion specs that Lua's `string.format` accepts: (spec, is_float).
fn random_specs(rng: &mut Rng) -> Vec<(String, bool)> {
    let mut v = Vec::new();
    for _ in 0..400 {
        let (conv, flags): (u8, &[u8]) = match rng.below_u64(12) {
            0 => (b'a', b"-+ #0"),
            1 => (b'A', b"-+ #0"),
            2 => (b'e', b"-+ #0"),
            3 => (b'E', b"-+ #0"),
            4 => (b'f', b"-+ #0"),
            5 | 6 => (b'g', b"-+ #0"),
            7 => (b'G', b"-+ #0"),
            8 => (b'd', b"-+0 "),
            9 => (b'u', b"-0"),
            10 => (b'x', b"-#0"),
            _ => (b'o', b"-#0"),
        };
        let mut f = String::from("%");
        for &c in flags {
            if rng.below_u64(3) == 0 {
                f.push(c as char);
            }
        }
        if rng.below_u64(2) == 0 {
            let _ = write!(f, "{}", 1 + rng.below_u64(99));
        }
        if rng.below_u64(3) != 0 {
            let top = if rng.below_u64(2) == 0 { 100 } else { 20 };
            let _ = write!(f, ".{}", rng.below_u64(top));
        }
        f.push(conv as char);
        f.push('|');
        v.push((f, b"aAeEfgG".contains(&conv)));
    }
    v
}

/// Strings for `tonumber(s)`.
fn number_strings(rng: &mut Rng, fl: &[f64]) -> Vec<Vec<u8>> {
    let fixed: &[&str] = &[
        "",
        " ",
        "0",
        "-0",
        "+0",
        "1",
        " 10 ",
        "\t-10\n",
        "\x0b7\x0c",
        "0x10",
        "0X1F",
        "-0x10",
        "0x",
        "0x.",
        "0x.p1",
        "0x1p",
        "0x1p+",
        "0x1p-2",
        "0x.8",
        "0x8.",
        "0x1.8p1",
        "0xA.8P-1",
        "0x1P-1074",
        "0x1p-1075",
        "0x1.8p-1075",
        "0x1p1024",
        "0x1.fffffffffffff8p1023",
        "0x1.fffffffffffff7ffp1023",
        "0x1.00000000000008p0",
        "0x1.000000000000080001p0",
        "0x1.00000000000018p0",
        "0x123456789abcdef0123p0",
        "0x0.0000000000001p-1022",
        "0xffffffffffffffff",
        "0x1ffffffffffffffff",
        "0x7fffffffffffffff",
        "0x8000000000000000",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "18446744073709551616",
        "000000000000000000000000000001",
        "1e",
        "1e+",
        "1e-",
        "1e5",
        "1E5",
        "1e+5",
        "1e-5",
        ".5",
        "5.",
        ".",
        "-.5",
        "+.5e1",
        "1.2.3",
        "1_0",
        "inf",
        "-inf",
        "nan",
        "INF",
        "NaN",
        "infinity",
        "1e400",
        "-1e400",
        "1e-400",
        "2.4703282292062327e-324",
        "2.4703282292062328e-324",
        "4.9406564584124654e-324",
        "1.7976931348623157e308",
        "1.7976931348623159e308",
        "0.1",
        "0.30000000000000004",
        "123456789012345678",
        "1 1",
        "- 1",
        "--1",
        "+-1",
        "1\0",
        "0x1\0",
        "1 ",
        "1\t\t",
        "0x1e",
        "0x1e+1",
        "1e1.5",
        "0b101",
        "0o7",
        "١",
        "1e0000000000000000000000000000005",
        "0x1p0000000000000000000000000000005",
        "0x1p-99999999999999999999",
        "1e-99999999999999999999",
        "0.000000000000000000000000000000000000000000001e45",
    ];
    let mut v: Vec<Vec<u8>> = fixed.iter().map(|s| s.as_bytes().to_vec()).collect();
    for &f in fl {
        if !f.is_finite() {
            continue;
        }
        v.push(format!("{f:e}").into_bytes());
        v.push(format!("{f:?}").into_bytes());
        let mut a = Vec::new();
        number::fmt_float(
            &mut a,
            f,
            &Spec {
                conv: b'a',
                precision: Some(rng.below_u64(16) as usize),
                ..Spec::default()
            },
        );
        v.push(a);
    }
    let alphabet = b"0123456789abcdefxXpPeE.+- \t\n";
    for _ in 0..1500 {
        let len = 1 + rng.below_u64(9) as usize;
        let mut s: Vec<u8> = (0..len)
            .map(|_| alphabet[rng.below_u64(alphabet.len() as u64) as usize])
            .collect();
        if rng.below_u64(3) == 0 {
            s.splice(0..0, *b"0x");
        }
        v.push(s);
    }
    for _ in 0..200 {
        let digits = 1 + rng.below_u64(40) as usize;
        let s: Vec<u8> = (0..digits)
            .map(|_| b'0' + rng.below_u64(10) as u8)
            .collect();
        v.push(s.clone());
        let mut h = b"0x".to_vec();
        h.extend((0..digits).map(|_| b"0123456789abcdef"[rng.below_u64(16) as usize]));
        v.push(h.clone());
        h.push(b'p');
        h.extend_from_slice(format!("{}", rng.below_u64(2000) as i64 - 1000).as_bytes());
        v.push(h);
    }
    v
}

/// What the Lua script prints for a number: `i:<int>`, `f:<bits>` or `nil`.
fn show(n: Option<Number>) -> String {
    match n {
        None => "nil".into(),
        Some(Number::Int(i)) => format!("i:{i}"),
        Some(Number::Float(f)) => format!("f:{}", f.to_bits() as i64),
    }
}

fn fmt_with(fmt: &str, x: Result<i64, f64>) -> Vec<u8> {
    let b = fmt.as_bytes();
    let (s, n) = Spec::parse(b).expect("a complete spec");
    let mut out = Vec::new();
    match x {
        Ok(n) => number::fmt_int(&mut out, n, &s),
        Err(f) => number::fmt_float(&mut out, f, &s),
    }
    out.extend_from_slice(&b[n..]);
    // The script escapes backslashes and newlines (`%c` can print any byte).
    let mut esc = Vec::new();
    for c in out {
        match c {
            b'\\' => esc.extend_from_slice(b"\\\\"),
            b'\n' => esc.extend_from_slice(b"\\n"),
            _ => esc.push(c),
        }
    }
    esc
}

#[test]
fn number_semantics_match_c_lua() {
    let oracle = lupa_conformance::oracle::lua();
    // NUMBER_VS_LUA_SEED=<n> runs another random sample.
    let seed = std::env::var("NUMBER_VS_LUA_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15);
    let mut rng = Rng(seed | 1);
    let fl = floats(&mut rng);
    let it = ints(&mut rng);
    let strs = number_strings(&mut rng, &fl);
    let specs = random_specs(&mut rng);
    let rfl: Vec<f64> = fl.iter().copied().step_by(7).collect();
    let rit: Vec<i64> = it.iter().copied().step_by(3).collect();

    let mut script = String::from(
        "local function F(b) return (string.unpack('<d', string.pack('<i8', b))) end\n\
         local function S(v) if v == nil then return 'nil' elseif math.type(v) == 'integer' \
         then return 'i:' .. string.format('%d', v) else return 'f:' .. \
         string.format('%d', (string.unpack('<i8', string.pack('<d', v)))) end end\n\
         local function E(s) return (s:gsub('\\\\', '\\\\\\\\'):gsub('\\n', '\\\\n')) end\n",
    );
    let list = |items: Vec<String>| format!("{{{}}}", items.join(","));
    let _ = writeln!(
        script,
        "local fl = {}",
        list(fl.iter().map(|&f| lua_float(f)).collect())
    );
    let _ = writeln!(
        script,
        "local it = {}",
        list(it.iter().map(|&i| lua_int(i)).collect())
    );
    let _ = writeln!(
        script,
        "local ffm = {}",
        list(
            FLOAT_FORMATS
                .iter()
                .map(|s| lua_str(s.as_bytes()))
                .collect()
        )
    );
    let _ = writeln!(
        script,
        "local ifm = {}",
        list(INT_FORMATS.iter().map(|s| lua_str(s.as_bytes())).collect())
    );
    let _ = writeln!(
        script,
        "local strs = {}",
        list(strs.iter().map(|s| lua_str(s)).collect())
    );
    let _ = writeln!(
        script,
        "local rsp = {}",
        list(
            specs
                .iter()
                .map(|(f, isf)| format!("{{{}, {}}}", lua_str(f.as_bytes()), isf))
                .collect()
        )
    );
    let _ = writeln!(
        script,
        "local rfl = {}",
        list(rfl.iter().map(|&f| lua_float(f)).collect())
    );
    let _ = writeln!(
        script,
        "local rit = {}",
        list(rit.iter().map(|&i| lua_int(i)).collect())
    );
    // Small sets for the quadratic sections.
    let fsmall: Vec<f64> = fl.iter().copied().step_by(9).collect();
    let ismall: Vec<i64> = it.iter().copied().step_by(3).collect();
    let _ = writeln!(
        script,
        "local fs = {}",
        list(fsmall.iter().map(|&f| lua_float(f)).collect())
    );
    let _ = writeln!(
        script,
        "local is = {}",
        list(ismall.iter().map(|&i| lua_int(i)).collect())
    );
    // Comparison floats: around the integer boundaries.
    let mut cf: Vec<f64> = vec![
        2f64.powi(53),
        2f64.powi(53) + 2.0,
        2f64.powi(63),
        2f64.powi(63) - 1024.0,
        2f64.powi(64),
        0.5,
        1.5,
        -0.5,
        f64::INFINITY,
        f64::NAN,
        0.0,
        1e300,
    ];
    let n = cf.len();
    for i in 0..n {
        cf.push(-cf[i]);
    }
    let mut ci: Vec<i64> = vec![
        0,
        1,
        -1,
        1 << 53,
        (1 << 53) + 1,
        (1 << 53) + 2,
        (1 << 53) - 1,
        i64::MAX,
        i64::MIN,
        i64::MAX - 512,
        i64::MAX - 1024,
        i64::MIN + 1,
    ];
    let n = ci.len();
    for i in 0..n {
        ci.push(ci[i].wrapping_neg());
    }
    let _ = writeln!(
        script,
        "local cf = {}",
        list(cf.iter().map(|&f| lua_float(f)).collect())
    );
    let _ = writeln!(
        script,
        "local ci = {}",
        list(ci.iter().map(|&i| lua_int(i)).collect())
    );
    let shifts: Vec<i64> = vec![
        0,
        1,
        -1,
        4,
        -4,
        31,
        32,
        63,
        -63,
        64,
        -64,
        65,
        i64::MAX,
        i64::MIN,
    ];
    let _ = writeln!(
        script,
        "local sh = {}",
        list(shifts.iter().map(|&i| lua_int(i)).collect())
    );
    script.push_str(
        r#"
for _, x in ipairs(fl) do
  print(tostring(x))
  for _, f in ipairs(ffm) do print(E(string.format(f, x))) end
  print(S(math.tointeger(x)), S(math.floor(x)), S(math.ceil(x)))
end
for _, x in ipairs(it) do
  print(tostring(x))
  for _, f in ipairs(ifm) do print(E(string.format(f, x))) end
end
for _, sp in ipairs(rsp) do
  for _, x in ipairs(sp[2] and rfl or rit) do print(E(string.format(sp[1], x))) end
end
for _, s in ipairs(strs) do
  print(S(tonumber(s)))
end
for _, s in ipairs(strs) do
  for _, b in ipairs({2, 8, 10, 16, 36}) do io.write(S(tonumber(s, b)), ' ') end
  print()
end
for _, a in ipairs(is) do
  for _, b in ipairs(is) do
    if b ~= 0 then print(S(a // b), S(a % b)) else print('zero') end
  end
  for _, n in ipairs(sh) do print(S(a << n), S(a >> n)) end
end
for _, a in ipairs(fs) do
  for _, b in ipairs(fs) do
    print(S(a // b), S(a % b), S(a ^ b), S(a / b))
  end
end
for _, i in ipairs(ci) do
  for _, f in ipairs(cf) do
    print(i < f, i <= f, f < i, f <= i, i == f, f == i)
  end
end
local function count(a, b, c)
  local ok, n = pcall(function()
    local n = 0
    for _ = a, b, c do n = n + 1; if n >= 3 then break end end
    return n
  end)
  if ok then return n else return 'err' end
end
for _, a in ipairs(ci) do
  for _, b in ipairs(ci) do
    for _, c in ipairs({1, -1, 2, -3, 0, math.maxinteger, math.mininteger}) do
      io.write(count(a, b, c), ' ')
    end
    print()
  end
  for _, b in ipairs(cf) do
    for _, c in ipairs({1, -1, 7, 0}) do io.write(count(a, b, c), ' ') end
    for _, c in ipairs({0.5, -0.5, 0.0}) do io.write(count(a + 0.0, b, c), ' ') end
    print()
  end
end
"#,
    );

    // Our expected output, in the same order.
    let mut exp: Vec<Vec<u8>> = Vec::new();
    let s_num = |n: Option<Number>| show(n);
    let floor_or = |f: f64, mode: F2I| match number::float_to_int(f, mode) {
        Some(i) => format!("i:{i}"),
        None => {
            let r = if mode == F2I::Floor {
                f.floor()
            } else {
                f.ceil()
            };
            format!("f:{}", r.to_bits() as i64)
        }
    };
    for &x in &fl {
        let mut l = Vec::new();
        number::fmt_lua_float(x, &mut l);
        exp.push(l);
        for f in FLOAT_FORMATS {
            exp.push(fmt_with(f, Err(x)));
        }
        exp.push(
            format!(
                "{}\t{}\t{}",
                s_num(number::float_to_int_exact(x).map(Number::Int)),
                floor_or(x, F2I::Floor),
                floor_or(x, F2I::Ceil)
            )
            .into_bytes(),
        );
    }
    for &x in &it {
        let mut l = Vec::new();
        number::fmt_lua_int(x, &mut l);
        exp.push(l);
        for f in INT_FORMATS {
            exp.push(fmt_with(f, Ok(x)));
        }
    }
    for (f, isf) in &specs {
        if *isf {
            for &x in &rfl {
                exp.push(fmt_with(f, Err(x)));
            }
        } else {
            for &x in &rit {
                exp.push(fmt_with(f, Ok(x)));
            }
        }
    }
    for s in &strs {
        exp.push(s_num(number::str_to_number(s)).into_bytes());
    }
    for s in &strs {
        let mut l = String::new();
        for b in [2, 8, 10, 16, 36] {
            l.push_str(&s_num(number::str_to_int_base(s, b).map(Number::Int)));
            l.push(' ');
        }
        exp.push(l.into_bytes());
    }
    for &a in &ismall {
        for &b in &ismall {
            exp.push(if b != 0 {
                format!(
                    "i:{}\ti:{}",
                    number::int_floor_div(a, b),
                    number::int_mod(a, b)
                )
                .into_bytes()
            } else {
                b"zero".to_vec()
            });
        }
        for &n in &shifts {
            exp.push(
                format!(
                    "i:{}\ti:{}",
                    number::shift_left(a, n),
                    number::shift_right(a, n)
                )
                .into_bytes(),
            );
        }
    }
    let fb = |f: f64| format!("f:{}", f.to_bits() as i64);
    for &a in &fsmall {
        for &b in &fsmall {
            exp.push(
                format!(
                    "{}\t{}\t{}\t{}",
                    fb(number::float_floor_div(a, b)),
                    fb(number::float_mod(a, b)),
                    fb(number::float_pow(a, b)),
                    fb(a / b)
                )
                .into_bytes(),
            );
        }
    }
    for &i in &ci {
        for &f in &cf {
            exp.push(
                format!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    number::lt_int_float(i, f),
                    number::le_int_float(i, f),
                    number::lt_float_int(f, i),
                    number::le_float_int(f, i),
                    number::eq_int_float(i, f),
                    number::eq_int_float(i, f)
                )
                .into_bytes(),
            );
        }
    }
    let count_int = |a: i64, b: Number, c: i64| match number::for_prep_int(a, b, c) {
        Err(_) => "err".to_string(),
        Ok(None) => "0".to_string(),
        Ok(Some(n)) => n.saturating_add(1).min(3).to_string(),
    };
    for &a in &ci {
        for &b in &ci {
            let mut l = String::new();
            for c in [1, -1, 2, -3, 0, i64::MAX, i64::MIN] {
                l.push_str(&count_int(a, Number::Int(b), c));
                l.push(' ');
            }
            exp.push(l.into_bytes());
        }
        for &b in &cf {
            let mut l = String::new();
            for c in [1, -1, 7, 0] {
                l.push_str(&count_int(a, Number::Float(b), c));
                l.push(' ');
            }
            for c in [0.5, -0.5, 0.0] {
                // Float loops: only compare whether the loop runs (iterations are the VM's).
                let r = match number::for_prep_float(a as f64, b, c) {
                    Err(_) => "err".to_string(),
                    Ok(false) => "0".to_string(),
                    Ok(true) => "?".to_string(),
                };
                l.push_str(&r);
                l.push(' ');
            }
            exp.push(l.into_bytes());
        }
    }

    let path = std::env::temp_dir().join(format!("number_vs_lua_{}.lua", std::process::id()));
    std::fs::write(&path, &script).expect("write script");
    let out = Command::new(&oracle)
        .arg(&path)
        .output()
        .expect("run the oracle");
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "the oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Vec<&[u8]> = out.stdout.split(|&c| c == b'\n').collect();
    let got = &got[..got.len().saturating_sub(1)];
    assert_eq!(got.len(), exp.len(), "line counts differ");
    let mut mismatches = 0;
    for (k, (g, e)) in got.iter().zip(&exp).enumerate() {
        // Float loop iteration counts are not ours to check: accept any positive count.
        let same = if e.contains(&b'?') {
            let ge: Vec<&[u8]> = g.split(|&c| c == b' ').collect();
            let ee: Vec<&[u8]> = e.split(|&c| c == b' ').collect();
            ge.len() == ee.len()
                && ge.iter().zip(&ee).all(|(x, y)| {
                    x == y || (*y == b"?" && !x.is_empty() && *x != b"0" && *x != b"err")
                })
        } else {
            *g == e.as_slice()
        };
        if !same {
            mismatches += 1;
            if mismatches <= 40 {
                eprintln!(
                    "line {k}: lua {:?} ours {:?}",
                    String::from_utf8_lossy(g),
                    String::from_utf8_lossy(e)
                );
            }
        }
    }
    eprintln!("{} lines compared, {mismatches} mismatches", exp.len());
    assert_eq!(mismatches, 0);
}
