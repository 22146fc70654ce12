//! Strings: the string library with negative, zero and out-of-range indices, `rep`,
//! `byte`/`char`, `%q`, comparisons, `utf8`, and the pattern functions (`find`, `match`,
//! `gmatch`, `gsub`) on generated patterns, well formed or not.

use super::rng::Rng;
use super::values::{self, quote};

/// Indices around the ends of short strings.
const INDICES: &[&str] = &[
    "1",
    "2",
    "3",
    "0",
    "-1",
    "-2",
    "-3",
    "5",
    "10",
    "100",
    "-100",
    "math.maxinteger",
    "math.mininteger",
    "2.0",
    "1.5",
    "\"2\"",
    "nil",
    "(1 << 32)",
    "-(1 << 32)",
];

/// A random subject string of a small alphabet, so patterns match often.
fn subject(rng: &mut Rng) -> Vec<u8> {
    const ALPHABET: &[u8] = b"aabbcxyz  019..,-()[]%_AZ\t\n\0=";
    let n = rng.below(16);
    (0..n).map(|_| rng.pick(ALPHABET)).collect()
}

/// A subject as a Lua literal, sometimes one of the fixed strings.
fn subject_lit(rng: &mut Rng) -> String {
    if rng.one_in(4) {
        rng.pick(values::STRINGS).to_string()
    } else {
        quote(&subject(rng))
    }
}

/// One single-character class of a pattern.
fn single(rng: &mut Rng) -> String {
    match rng.below(10) {
        0..=3 => (rng.pick(&["a", "b", "c", "x", "1", " ", ",", "-", "_", "A"])).to_string(),
        4..=6 => (rng.pick(&[
            "%a", "%d", "%l", "%s", "%u", "%w", "%x", "%p", "%c", "%g", "%A", "%D", "%S", "%W",
            ".", "%.", "%%", "%(", "%-", "%z",
        ]))
        .to_string(),
        _ => (rng.pick(&[
            "[abc]", "[a-z]", "[^%d]", "[%a_]", "[%]]", "[-a]", "[^ ]", "[a-]", "[%w%s]", "[]]",
            "[^]]", "[0-9.]", "[z-a]", "[%%]",
        ]))
        .to_string(),
    }
}

/// A random pattern, possibly malformed.
pub fn pattern(rng: &mut Rng) -> String {
    let mut p = String::new();
    if rng.one_in(4) {
        p.push('^');
    }
    let mut open = 0;
    for _ in 0..rng.range(1, 5) {
        match rng.below(12) {
            0..=5 => {
                p.push_str(&single(rng));
                if rng.one_in(2) {
                    p.push_str(rng.pick(&["*", "+", "-", "?"]));
                }
            }
            6 => {
                p.push('(');
                open += 1;
            }
            7 if open > 0 => {
                p.push(')');
                open -= 1;
            }
            7 => p.push_str("()"),
            8 => p.push_str(rng.pick(&["%b()", "%bxy", "%b[]", "%f[%w]", "%f[%s]", "%f[^%a]"])),
            9 => p.push_str(rng.pick(&["%1", "%2", "%0"])),
            10 => p.push_str(rng.pick(&["%", "[a", "%b", "%f", "%fx", "(()", "%9", ")", "[^"])),
            _ => p.push_str(rng.pick(&["a", "b", ".-", ".*", "%s*"])),
        }
    }
    while open > 0 && !rng.one_in(6) {
        p.push(')');
        open -= 1;
    }
    if rng.one_in(5) {
        p.push('$');
    }
    quote(p.as_bytes())
}

/// A replacement for `gsub`: a string with captures, a table or a function.
fn replacement(rng: &mut Rng) -> String {
    match rng.below(8) {
        0..=3 => (rng.pick(&[
            "\"<%0>\"",
            "\"%1\"",
            "\"%2-%1\"",
            "\"%%\"",
            "\"x\"",
            "\"\"",
            "\"%a\"",
            "\"%\"",
            "\"[%1%1]\"",
            "\"%9\"",
        ]))
        .to_string(),
        4 => "{a = \"A\", b = false, c = 1.5, x = {}, [\"1\"] = \"one\"}".to_string(),
        5 => "function(a, b) return b or a:upper() end".to_string(),
        6 => "function(a) if a == \"a\" then return nil end return #a end".to_string(),
        _ => (rng.pick(&["function() return {} end", "1", "true", "nil"])).to_string(),
    }
}

/// `find`, `match`, `gmatch` or `gsub` with a generated pattern on a generated subject.
pub fn pattern_call(rng: &mut Rng) -> String {
    let s = subject_lit(rng);
    let p = pattern(rng);
    match rng.below(8) {
        0..=1 => {
            let init = rng.pick(INDICES);
            let plain = rng.pick(&["", ", true", ", false", ", nil"]);
            format!("try(string.find, {s}, {p}, {init}{plain})\n")
        }
        2..=3 => {
            let init = rng.pick(&["", ", 1", ", 3", ", -2", ", 0", ", 100"]);
            format!("try(string.match, {s}, {p}{init})\n")
        }
        4 => {
            let init = rng.pick(&["", ", 2", ", -3", ", 0", ", 50"]);
            format!(
                "do local r = {{}} local ok, e = pcall(function() for a, b in string.gmatch({s}, {p}{init}) do \
                 r[#r + 1] = fmt(a) .. \"/\" .. fmt(b) if #r > 10 then break end end end) \
                 print(\"gmatch\", ok, e, table.concat(r, \" \")) end\n"
            )
        }
        _ => {
            let n = rng.pick(&["", ", 1", ", 2", ", 0", ", -1", ", 1.5", ", \"2\""]);
            format!("try(string.gsub, {s}, {p}, {}{n})\n", replacement(rng))
        }
    }
}

/// String functions with arguments around the edges.
pub fn library_call(rng: &mut Rng) -> String {
    let s = subject_lit(rng);
    let i = rng.pick(INDICES);
    let j = rng.pick(INDICES);
    match rng.below(14) {
        0 => format!("try(string.sub, {s}, {i}, {j})\n"),
        1 => format!("try(string.sub, {s}, {i})\n"),
        2 => format!("try(string.byte, {s}, {i}, {j})\n"),
        3 => format!("try(string.byte, {s}{})\n", rng.pick(&["", ", 1", ", -1", ", 0"])),
        4 => {
            let codes: Vec<String> = (0..rng.range(0, 4))
                .map(|_| {
                    (rng.pick(&[
                        "65", "0", "255", "256", "-1", "97.0", "97.5", "\"98\"", "nil",
                        "math.maxinteger",
                    ]))
                    .to_string()
                })
                .collect();
            format!("try(string.char{})\n", values::more(&codes))
        }
        5 => {
            let n = rng.pick(&[
                "0", "1", "3", "-1", "2.0", "2.5", "\"2\"", "math.mininteger",
                "math.maxinteger", "nil",
            ]);
            let sep = rng.pick(&["", ", \",\"", ", \"\"", ", 1", ", {}"]);
            // C Lua copies an empty string n times: maxinteger times takes forever.
            let n = if s == "\"\"" && n.contains("max") { "3" } else { n };
            format!("try(string.rep, {s}, {n}{sep})\n")
        }
        6 => format!(
            "try(function(s) return s:upper(), s:lower(), s:reverse(), s:len(), #s end, {s})\n"
        ),
        7 => {
            let v = if rng.one_in(2) {
                values::any(rng)
            } else {
                s.clone()
            };
            format!("try(string.format, \"%q\", {v})\n")
        }
        8 => {
            let spec = rng.pick(&[
                "%s", "%10s", "%-10s|", "%.2s", "%5.1s", "%q", "%c", "%s%s", "%%", "%.20s",
                "%099s",
            ]);
            format!("try(string.format, \"{spec}\", {s}, {})\n", values::any(rng))
        }
        9 => {
            let t = subject_lit(rng);
            format!("try(function(a, b) return a < b, a <= b, a == b, a .. b end, {s}, {t})\n")
        }
        10 => {
            let cps: Vec<String> = (0..rng.range(1, 3))
                .map(|_| {
                    (rng.pick(&[
                        "65", "0x7FF", "0xFFFF", "0x10FFFF", "0x110000", "0x7FFFFFFF",
                        "0x80000000", "-1", "233", "1.0", "1.5",
                    ]))
                    .to_string()
                })
                .collect();
            format!("try(utf8.char, {})\n", cps.join(", "))
        }
        11 => {
            let u = rng.pick(&[
                "\"h\\195\\169llo\"", "\"\\255\"", "\"abc\"", "\"\\237\\160\\128\"",
                "\"\\244\\144\\128\\128\"", "\"\\192\\128\"", "\"\"",
            ]);
            let f = rng.pick(&["utf8.len", "utf8.codepoint", "utf8.offset"]);
            let lax = rng.pick(&["", ", true"]);
            if f == "utf8.offset" {
                format!("try({f}, {u}, {i}, {j})\n")
            } else {
                format!("try({f}, {u}, {i}, {j}{lax})\n")
            }
        }
        12 => format!(
            "do local r = {{}} for p, c in utf8.codes({}) do r[#r + 1] = p .. \":\" .. c end print(\"codes\", table.concat(r, \" \")) end\n",
            rng.pick(&["\"h\\195\\169\"", "\"abc\"", "\"\""])
        ),
        _ => format!("try(string.len, {})\n", values::any(rng)),
    }
}
