//! Tables: constructors with holes and varargs, sequences of assignments, `table.insert` and
//! `table.remove` that grow and shrink, each followed by `layout` (border, unpacked length,
//! `ipairs` count, `next` order); the table library with bad arguments; `table.sort`.

use super::rng::Rng;
use super::values;

/// An element value: often nil, to make holes.
fn element(rng: &mut Rng) -> String {
    match rng.below(8) {
        0..=2 => "nil".to_string(),
        3..=5 => rng.range(1, 99).to_string(),
        6 => rng
            .pick(&["\"s\"", "true", "false", "1.5", "{}"])
            .to_string(),
        _ => values::number(rng),
    }
}

/// A key for keyed constructor fields and assignments (no strings: their order depends on
/// the hash seed; strings are added separately).
fn key(rng: &mut Rng) -> String {
    match rng.below(12) {
        0..=6 => rng.range(1, 12).to_string(),
        7 => rng.range(-3, 0).to_string(),
        8 => rng
            .pick(&["1.0", "2.0", "0.5", "-0.0", "2^53", "1e100", "-1.5", "3.25"])
            .to_string(),
        9 => rng.pick(&["true", "false"]).to_string(),
        10 => rng.range(13, 70).to_string(),
        _ => rng
            .pick(&[
                "math.maxinteger",
                "math.mininteger",
                "(1 << 31)",
                "(1 << 40)",
                "-(1 << 31)",
            ])
            .to_string(),
    }
}

/// Argument lists for a vararg function building a table.
fn varargs(rng: &mut Rng) -> String {
    let n = rng.below(7);
    (0..n).map(|_| element(rng)).collect::<Vec<_>>().join(", ")
}

/// A table constructor with positional items (some nil), keyed fields, and maybe `...` or
/// a call in the last position.
pub fn constructor(rng: &mut Rng) -> String {
    let mut items = Vec::new();
    for _ in 0..rng.below(9) {
        match rng.below(10) {
            0..=5 => items.push(element(rng)),
            6..=7 => items.push(format!("[{}] = {}", key(rng), element(rng))),
            // Never nil: a string key left with nil sits in the hash part unseen, and moves
            // the other keys as its hash-seeded position does.
            8 => items.push(format!("k{} = {}", rng.below(4), rng.range(1, 99))),
            _ => items.push(format!("({})", element(rng))),
        }
    }
    let tail = match rng.below(5) {
        0 => ", ...".to_string(),
        1 => ", f()".to_string(),
        _ => String::new(),
    };
    let list = items.join(", ");
    let list = if list.is_empty() {
        tail.trim_start_matches(", ").to_string()
    } else {
        list + &tail
    };
    format!(
        "do local function f() return {} end\n\
         local function make(...) return {{{list}}} end\n\
         local t = make({})\n layout(t) end\n",
        varargs(rng),
        varargs(rng)
    )
}

/// One mutation of the table `t`.
fn mutation(rng: &mut Rng) -> String {
    match rng.below(14) {
        0..=4 => format!("t[{}] = {}", key(rng), element(rng)),
        5 => format!("t[#t + 1] = {}", rng.range(1, 9)),
        6 => "t[#t] = nil".to_string(),
        7 => format!("table.insert(t, {})", rng.range(1, 9)),
        8 => format!(
            "pcall(table.insert, t, {}, {})",
            rng.range(-1, 14),
            element(rng)
        ),
        9 => "table.remove(t)".to_string(),
        10 => format!("pcall(table.remove, t, {})", rng.range(-1, 14)),
        // No string keys: with nils assigned, where they land (hash-seeded in C Lua)
        // changes when tables rehash, and so even `#t`.
        11..=12 => format!("rawset(t, {}, {})", key(rng), element(rng)),
        _ => format!(
            "for i = {}, {} do t[i] = {} end",
            rng.range(1, 6),
            rng.range(1, 40),
            rng.pick(&["i", "nil", "true"])
        ),
    }
}

/// A table built or emptied by a sequence of assignments (non-string keys), printed along
/// the way.
pub fn assignments(rng: &mut Rng) -> String {
    let start = if rng.one_in(2) {
        "{}".to_string()
    } else {
        let items: Vec<String> = (0..rng.below(6)).map(|_| element(rng)).collect();
        format!("{{{}}}", items.join(", "))
    };
    let mut s = format!("do local t = {start}\n");
    for _ in 0..rng.range(2, 14) {
        s.push_str(&mutation(rng));
        s.push('\n');
        if rng.one_in(4) {
            s.push_str("layout(t)\n");
        }
    }
    if rng.one_in(3) {
        s.push_str("collectgarbage()\n");
    }
    s.push_str("layout(t) end\n");
    s
}

/// Tables given to the library functions.
const TABLES: &[&str] = &[
    "{}", "{1, 2, 3}", "{1, nil, 3}", "{\"a\", \"b\", \"c\", \"d\"}", "{1, 2.5, \"x\"}",
    "{nil, nil, 3}", "{1, {}, 3}", "{n = 2}", "{[0] = 0, 1, 2}", "{1, 2, 3, nil, 5}",
    "{true, false}", "setmetatable({}, {__len = function() return 3 end})",
    "setmetatable({}, {__index = function(_, k) return k * 10 end, __len = function() return 4 end})",
];

/// Integer arguments around the edges (ranges stay small: these functions loop over them).
const POSITIONS: &[&str] = &[
    "1",
    "2",
    "3",
    "0",
    "-1",
    "4",
    "5",
    "10",
    "nil",
    "1.0",
    "1.5",
    "\"2\"",
    "math.maxinteger",
    "math.mininteger",
    "(math.maxinteger - 1)",
];

/// Positions for the functions that loop over their range (`concat`, `move`): a huge range
/// would run for ages in C Lua too.
const SMALL: &[&str] = &[
    "1", "2", "3", "0", "-1", "4", "5", "nil", "1.0", "1.5", "\"2\"",
];

/// `table.insert/remove/concat/unpack/pack/move` with arguments of every kind and count.
pub fn library_call(rng: &mut Rng) -> String {
    let t = if rng.one_in(8) {
        values::any(rng)
    } else {
        rng.pick(TABLES).to_string()
    };
    let p = rng.pick(POSITIONS);
    let q = rng.pick(POSITIONS);
    match rng.below(9) {
        0 => format!(
            "do local t = {t} try(table.insert, t, {p}, {}) try(function() return #t, t[1], t[2], t[3], t[4] end) end\n",
            element(rng)
        ),
        1 => {
            let extra = rng.pick(&["", ", 1, 2", ", 1", ", nil, nil"]);
            format!("do local t = {t} try(table.insert, t{extra}) end\n")
        }
        2 => format!(
            "do local t = {t} try(table.remove, t{}) try(function() return #t, t[1], t[2], t[3] end) end\n",
            rng.take(vec!["".to_string(), format!(", {p}")])
        ),
        3 => {
            let sep = rng.pick(&["", ", \",\"", ", 1", ", {}", ", nil"]);
            let (i, j) = (rng.pick(SMALL), rng.pick(SMALL));
            format!("try(table.concat, {t}{sep}, {i}, {j})\n")
        }
        4 => format!("try(table.concat, {t}{})\n", rng.pick(&["", ", \"-\""])),
        5 => format!("try(table.unpack, {t}, {p}, {q})\n"),
        6 => format!("try(function(...) local p = table.pack(...) return p.n, #p, p[1], p[p.n] end, {})\n", varargs(rng)),
        7 => {
            let a2 = rng.pick(&["", ", {}", ", nil", ", 1"]);
            format!(
                "do local t = {t} local r = {{pcall(table.move, t, {}, {}, {}{a2})}} print(\"move\", r[1], type(r[2]) == \"string\" and r[2] or \"\") pcall(layout, t) end\n",
                rng.pick(SMALL),
                rng.pick(SMALL),
                rng.pick(POSITIONS)
            )
        }
        _ => format!("try(table.unpack, {t})\n"),
    }
}

/// `table.sort` on small arrays (C Lua picks pivots at random only above 100 elements):
/// the resulting order, ties included, and the comparison errors.
pub fn sort(rng: &mut Rng) -> String {
    let n = rng.range(0, 12);
    let items: Vec<String> = (0..n)
        .map(|_| match rng.below(10) {
            0..=6 => rng.range(1, 6).to_string(),
            7 => rng.pick(&["1.5", "2.0", "(0/0)", "-0.0"]).to_string(),
            8 => rng.pick(&["\"a\"", "\"b\""]).to_string(),
            _ => "nil".to_string(),
        })
        .collect();
    let cmp = rng.pick(&[
        "",
        ", function(a, b) return a > b end",
        ", function(a, b) return a.k < b.k end",
        ", function(a, b) return true end",
        ", function(a, b) return a <= b end",
        ", 1",
    ]);
    if cmp.contains("a.k") {
        return format!(
            "do local t = {{}} for i, v in ipairs({{{}}}) do t[i] = {{k = v, i = i}} end \
             local ok, e = pcall(table.sort, t{cmp}) local r = {{}} for i, v in ipairs(t) do r[i] = v.i end \
             print(\"sort\", ok, e, table.concat(r, \",\")) end\n",
            items.join(", ")
        );
    }
    format!(
        "do local t = {{{}}} local ok, e = pcall(table.sort, t{cmp}) local r = {{}} \
         for i = 1, #t do r[i] = fmt(t[i]) end print(\"sort\", ok, e, table.concat(r, \",\")) end\n",
        items.join(", ")
    )
}
