//! The fuzz targets' logic, one function per target taking the fuzzer's bytes. Each returns
//! normally whatever the input (a Lua error is a normal outcome); a panic, an abort, a hang
//! or runaway memory is a bug. `conformance/fuzz/` wraps them for libFuzzer, and
//! `conformance/tests/fuzz_regressions.rs` runs the seeds and the crashes found so far.

use interp::{Lua, StashedValue, Value};

/// Fuel (roughly, VM instructions) given to each run of Lua code.
pub const FUEL: u64 = 200_000;
/// Bytes Lua code may allocate on top of a fresh runtime with its libraries.
pub const MEMORY: usize = 4 << 20;

/// The targets, by name: the fuzz binaries and the regression folders have these names.
pub const TARGETS: [&str; 6] = ["compile", "run", "format", "pattern", "pack", "undump"];

/// Runs target `name` on `data`; false if there is no such target.
pub fn run_target(name: &str, data: &[u8]) -> bool {
    let f: fn(&[u8]) = match name {
        "compile" => compile,
        "run" => run,
        "format" => format,
        "pattern" => pattern,
        "pack" => pack,
        "undump" => undump,
        _ => return false,
    };
    f(data);
    true
}

/// Compiles `data` as Lua source: a prototype or a syntax error. A prototype must dump and
/// load back (the verifier accepts everything the compiler makes).
pub fn compile(data: &[u8]) {
    if let Ok(proto) = interp::compiler::compile(data, b"=fuzz") {
        for strip in [false, true] {
            let bytes = interp::chunk::dump(&proto, strip);
            if let Err(e) = interp::chunk::undump(&bytes, b"=fuzz") {
                panic!(
                    "a compiled chunk does not load back (strip={strip}): {}",
                    String::from_utf8_lossy(&e)
                );
            }
        }
    }
}

/// Compiles and runs `data` as Lua source in a sandbox, with fuel and memory limits.
pub fn run(data: &[u8]) {
    let mut lua = sandbox();
    let _ = lua.exec(data, b"=fuzz");
}

/// Calls `string.format` with a format string (`data` up to its first zero byte) and
/// arguments decoded from the rest (see [`decode_values`]).
pub fn format(data: &[u8]) {
    let (fmt, rest) = split0(data);
    let mut lua = sandbox();
    let f = library_function(&lua, "string", "format");
    let mut args = vec![lua.enter(|ctx| ctx.stash(Value::String(ctx.intern(fmt))))];
    args.extend(decode_values(&lua, rest));
    let _ = lua.call(&f, &args);
}

/// Runs a pattern function of the string library. `data`: an operation byte (`find`,
/// `match`, `gmatch`, `gsub` with a string, table or function replacement), an `init`
/// byte, then the pattern, the subject and the replacement separated by zero bytes.
/// Backtracking (exponential in the number of quantifiers, as in C Lua) is bounded by the
/// fuel the matcher charges.
pub fn pattern(data: &[u8]) {
    let (op, init) = match data {
        [op, init, ..] => (*op, *init as i8 as i64),
        _ => return,
    };
    let (pat, rest) = split0(&data[2..]);
    let (subject, repl) = split0(rest);
    let mut lua = sandbox();
    let driver: &[u8] = match op % 6 {
        0 => b"local p, s, r, i = ... return s:find(p, i)",
        1 => b"local p, s, r, i = ... return s:find(p, i, true)",
        2 => b"local p, s, r, i = ... return s:match(p, i)",
        3 => b"local p, s, r, i = ... local n = 0 for a, b in s:gmatch(p, i) do n = n + 1 end return n",
        4 => b"local p, s, r, i = ... return s:gsub(p, r, i % 8)",
        _ => b"local p, s, r, i = ... local t = {} for c in r:gmatch('.') do t[c] = c:byte() end \
               if i % 2 == 0 then return s:gsub(p, t) end \
               return s:gsub(p, function(a, b) if a == b then return nil end return r end)",
    };
    let f = lua.enter(|ctx| {
        ctx.load(driver, b"=pattern", None)
            .map(|c| ctx.stash(Value::Closure(c)))
            .expect("the driver compiles")
    });
    let args = lua.enter(|ctx| {
        vec![
            ctx.stash(Value::String(ctx.intern(pat))),
            ctx.stash(Value::String(ctx.intern(subject))),
            ctx.stash(Value::String(ctx.intern(repl))),
            ctx.stash(Value::Integer(init)),
        ]
    });
    let _ = lua.call(&f, &args);
}

/// Runs `string.packsize`, `string.unpack` (then `string.pack` on what it unpacked) and
/// `string.pack` on values drawn from the data. `data`: an `init` byte, then the format and
/// the data separated by a zero byte.
pub fn pack(data: &[u8]) {
    let Some((&init, data)) = data.split_first() else {
        return;
    };
    let (fmt, bytes) = split0(data);
    let mut lua = sandbox();
    let driver: &[u8] = b"local fmt, data, init = ...
        pcall(string.packsize, fmt)
        local r = table.pack(pcall(string.unpack, fmt, data, init))
        if r[1] then pcall(string.pack, fmt, table.unpack(r, 2, r.n - 1)) end
        local args, n = {}, math.min(#data, 12)
        for i = 1, n do
          local b = data:byte(i)
          local k = b % 4
          if k == 0 then args[i] = b - 128
          elseif k == 1 then args[i] = (b - 128) << (b % 61)
          elseif k == 2 then args[i] = (b - 128) / 3
          else args[i] = data:sub(i, i + b % 7) end
        end
        return pcall(string.pack, fmt, table.unpack(args, 1, n))";
    let f = lua.enter(|ctx| {
        ctx.load(driver, b"=pack", None)
            .map(|c| ctx.stash(Value::Closure(c)))
            .expect("the driver compiles")
    });
    let args = lua.enter(|ctx| {
        vec![
            ctx.stash(Value::String(ctx.intern(fmt))),
            ctx.stash(Value::String(ctx.intern(bytes))),
            ctx.stash(Value::Integer(init as i8 as i64)),
        ]
    });
    let _ = lua.call(&f, &args);
}

/// Loads `data` as a binary chunk (a valid header is put in front when it does not start
/// with the signature, so mutations reach the functions); if it is accepted, it must dump
/// and load back, and it runs in a sandbox with fuel and memory limits.
pub fn undump(data: &[u8]) {
    let bytes = if data.starts_with(interp::chunk::SIGNATURE) {
        data.to_vec()
    } else {
        let mut b = chunk_header();
        b.extend_from_slice(data);
        b
    };
    let Ok(proto) = interp::chunk::undump(&bytes, b"=fuzz") else {
        return;
    };
    let again = interp::chunk::dump(&proto, false);
    if let Err(e) = interp::chunk::undump(&again, b"=fuzz") {
        panic!(
            "an accepted chunk does not load back: {}",
            String::from_utf8_lossy(&e)
        );
    }
    let mut lua = sandbox();
    let f = lua.enter(|ctx| ctx.stash(Value::Closure(ctx.load_proto(&proto, None))));
    let _ = lua.call(&f, &[]);
}

/// The header of a binary chunk: what every dump starts with, up to the main function's
/// upvalue count.
pub fn chunk_header() -> Vec<u8> {
    let proto = interp::compiler::compile(b"", b"=fuzz").expect("the empty chunk compiles");
    let mut b = interp::chunk::dump(&proto, true);
    b.truncate(HEADER_LEN);
    b
}

/// Bytes in a binary chunk's header (`luaU_dump`'s `dumpHeader`).
const HEADER_LEN: usize = 4 + 1 + 1 + 6 + 3 + 8 + 8;

/// A runtime for untrusted code: the standard libraries without files, processes, module
/// loading or reading stdin (`print` prints nothing), with [`FUEL`] and [`MEMORY`] limits.
pub fn sandbox() -> Lua {
    let mut lua = Lua::new();
    lua.enter(|ctx| {
        // Everything but files, processes and module loading (`os` comes in its safe part).
        for name in stdlib::LIBRARIES {
            if !matches!(name, "io" | "os" | "package") {
                stdlib::open_library(ctx, name);
            }
        }
        stdlib::open_library_safe(ctx, "os");
        for name in ["dofile", "loadfile"] {
            ctx.set_global(name, Value::Nil);
        }
        if let Value::Table(debug) = ctx.get_global("debug") {
            debug.set_str(ctx.mutation(), ctx.intern(b"debug"), Value::Nil);
        }
    });
    lua.exec(b"print = function(...) end", b"=sandbox")
        .expect("the sandbox sets up");
    lua.limits().set_max_fuel(Some(FUEL));
    let base = lua.memory_used();
    lua.set_memory_limit(Some(base + MEMORY));
    lua
}

/// A function of a library table, rooted (`library_function(lua, "string", "format")`).
fn library_function(lua: &Lua, lib: &str, name: &str) -> StashedValue {
    lua.enter(|ctx| {
        let t = match ctx.get_global(lib) {
            Value::Table(t) => t,
            _ => panic!("no library {lib}"),
        };
        ctx.stash(t.get_str(ctx.intern(name.as_bytes())))
    })
}

/// `data` up to its first zero byte, and what follows that byte.
fn split0(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// Lua values from bytes: a tag byte, then its payload: integers (eight bytes or one),
/// floats (eight bytes or a small one), strings (a length byte, then the bytes), nil,
/// booleans, tables.
pub fn decode_values(lua: &Lua, mut data: &[u8]) -> Vec<StashedValue> {
    fn take<'a>(data: &mut &'a [u8], n: usize) -> &'a [u8] {
        let n = n.min(data.len());
        let (a, b) = data.split_at(n);
        *data = b;
        a
    }
    fn word(bytes: &[u8]) -> [u8; 8] {
        let mut w = [0u8; 8];
        w[..bytes.len()].copy_from_slice(bytes);
        w
    }
    let mut out = Vec::new();
    while let Some((&tag, rest)) = data.split_first() {
        data = rest;
        if out.len() >= 32 {
            break;
        }
        let v = lua.enter(|ctx| {
            let v = match tag % 8 {
                0 => Value::Integer(i64::from_le_bytes(word(take(&mut data, 8)))),
                1 => Value::Integer(take(&mut data, 1).first().map_or(0, |&b| b as i8 as i64)),
                2 => Value::Number(f64::from_le_bytes(word(take(&mut data, 8)))),
                3 => Value::Number(
                    take(&mut data, 1)
                        .first()
                        .map_or(0.0, |&b| f64::from(b as i8) / 4.0),
                ),
                4 => {
                    let n = take(&mut data, 1).first().map_or(0, |&b| b as usize % 64);
                    Value::String(ctx.intern(take(&mut data, n)))
                }
                5 => Value::Nil,
                6 => Value::Boolean(tag & 8 != 0),
                _ => Value::Table(ctx.new_table()),
            };
            ctx.stash(v)
        });
        out.push(v);
    }
    out
}

/// Inputs to start fuzzing `target` from (also run by the regression tests): hand-written
/// ones, and for `compile`, `run` and `undump` the given Lua sources (or their dumps).
pub fn seeds(target: &str, sources: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let own = |v: &[&[u8]]| v.iter().map(|s| s.to_vec()).collect::<Vec<_>>();
    match target {
        "compile" | "run" => {
            let mut v = own(&[
                b"local t = {1, 2, x = 3} for k, v in pairs(t) do t[k] = v * 2 end return #t",
                b"local function f(n) if n < 2 then return n end return f(n-1) + f(n-2) end return f(20)",
                b"local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b end) co(1) return co(2)",
                b"return string.format('%5.2f %q %s', 1.5, 'a\\n', {}), ('x'):rep(10, ',')",
                b"local s = setmetatable({}, {__index = function(t, k) return k end, __gc = function() end}) return s.x",
                b"goto l ::l:: local <const> c = 1 local <close> x = nil return c // 0.0, 7 // 0.0, -7 % 3",
                b"while true do end",
                b"local t = {} while true do t[#t + 1] = ('x'):rep(1000) end",
            ]);
            v.extend(sources.iter().cloned());
            v
        }
        "undump" => {
            let mut v = Vec::new();
            for src in sources.iter().chain(seeds("run", &[]).iter()) {
                if let Ok(p) = interp::compiler::compile(src, b"=seed") {
                    v.push(interp::chunk::dump(&p, false));
                    v.push(interp::chunk::dump(&p, true));
                }
            }
            v
        }
        "format" => own(&[
            b"%d %5.2f %s %q\0\x01\x2a\x03\x06\x04\x03abc\x04\x02\n\0",
            b"%-10x|%+.3e|%#o|%c|%a|%g|%i|%u|%%\0\x00\xff\xff\xff\xff\xff\xff\xff\x7f\x02\x00\x00\x00\x00\x00\x00\xf0\x7f\x01\x07\x01\x41\x03\x05\x02\x18\x2d\x44\x54\xfb\x21\x09\x40\x01\xff\x01\x09",
            b"%q %q %q %s %s\0\x02\x00\x00\x00\x00\x00\x00\xf8\x7f\x00\x00\x00\x00\x00\x00\x00\x80\x05\x07\x0e",
            b"%99.99f %.99s\0\x03\x7f\x04\x3fthe quick brown fox",
        ]),
        "pattern" => own(&[
            b"\x00\x01(%a+)%s*=%s*(%d+)\0key = 42, other = 7\0%2-%1",
            b"\x03\x01%f[%w]%w+\0THE (quick) fox\0",
            b"\x04\x01%b()\0f(a(b)c) g(d)\0[%0]",
            b"\x05\x02[^%s,]+\0a, b,c  d\0abcd",
            b"\x02\xfe()a-(b?)%1$\0aaabb\0",
            b"\x01\x01.\0a.b.c\0",
        ]),
        "pack" => own(&[
            b"\x01<i4 >I2 =d s1 z\0\x01\x02\x03\x04\x00\x05\x00\x00\x00\x00\x00\x00\xf0\x3f\x03abcxyz\0",
            b"\x01!8 b B h H l L j J T f n i16 I7\0\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93",
            b"\xfd c5 x Xi4 s2 <!4 i3\0hello world, with some bytes",
        ]),
        _ => Vec::new(),
    }
}
