//! The package library (manual §6.3): `require`, `package.loaded`, `preload`, `path`,
//! `searchers`, `searchpath`. There is no C: `loadlib` and the C searchers report that C
//! libraries are unavailable.

use interp::{NativeCall, Table, Value};

use crate::util::{new_lib, Ret};

const LUA_PATH_DEFAULT: &str =
    "/usr/local/share/lua/5.4/?.lua;/usr/local/share/lua/5.4/?/init.lua;\
/usr/local/lib/lua/5.4/?.lua;/usr/local/lib/lua/5.4/?/init.lua;./?.lua;./?/init.lua";
const LUA_CPATH_DEFAULT: &str =
    "/usr/local/lib/lua/5.4/?.so;/usr/local/lib/lua/5.4/loadall.so;./?.so";

/// Opens the `package` library and `require`.
pub fn open_package(ctx: interp::Context<'_>) {
    let pkg = new_lib(
        ctx,
        "package",
        &[("loadlib", loadlib), ("searchpath", searchpath)],
    );
    let mc = ctx.mutation();
    let loaded = loaded_table(ctx);
    pkg.set_str(mc, ctx.intern_static(b"loaded"), Value::Table(loaded));
    pkg.set_str(
        mc,
        ctx.intern_static(b"preload"),
        Value::Table(ctx.new_table()),
    );
    let path = env_path(ctx, "LUA_PATH", LUA_PATH_DEFAULT);
    pkg.set_str(mc, ctx.intern_static(b"path"), ctx.intern(&path).into());
    let cpath = env_path(ctx, "LUA_CPATH", LUA_CPATH_DEFAULT);
    pkg.set_str(mc, ctx.intern_static(b"cpath"), ctx.intern(&cpath).into());
    pkg.set_str(mc, ctx.intern_static(b"config"), ctx.str("/\n;\n?\n!\n-\n"));
    let searchers = ctx.new_table();
    for (i, (name, f)) in [
        ("searcher_preload", searcher_preload as interp::NativeFn),
        ("searcher_Lua", searcher_lua),
        ("searcher_C", searcher_c),
        ("searcher_Croot", searcher_croot),
    ]
    .into_iter()
    .enumerate()
    {
        let nf = interp::NativeFunction::with_upvalues(mc, name, f, Box::new([Value::Table(pkg)]));
        searchers.set_int(mc, i as i64 + 1, Value::Native(nf));
    }
    pkg.set_str(mc, ctx.intern_static(b"searchers"), Value::Table(searchers));
    let req = interp::NativeFunction::with_upvalues(
        mc,
        "require",
        require,
        Box::new([Value::Table(pkg)]),
    );
    ctx.set_global("require", Value::Native(req));
    // Register the libraries already opened as loaded modules.
    for name in [
        "_G",
        "string",
        "table",
        "math",
        "io",
        "os",
        "coroutine",
        "utf8",
        "debug",
        "package",
    ] {
        let key = if name == "_G" { "_G" } else { name };
        let v = ctx.get_global(key);
        if !v.is_nil() {
            loaded.set_str(mc, ctx.intern(name.as_bytes()), v);
        }
    }
}

/// A search path from environment variable `name` (its `_5_4` version first), with the
/// first `;;` replaced by the default `dft`; the default when the registry's `LUA_NOENV`
/// is set (the `-E` option of `lua-rs`) or the variable is unset (C Lua's `setpath`).
fn env_path(ctx: interp::Context<'_>, name: &str, dft: &str) -> Vec<u8> {
    let noenv = ctx
        .registry()
        .get_str(ctx.intern_static(b"LUA_NOENV"))
        .is_truthy();
    let var = std::env::var_os(format!("{name}_5_4")).or_else(|| std::env::var_os(name));
    let path = match var {
        Some(v) if !noenv => crate::util::os_bytes(&v).to_vec(),
        _ => return dft.as_bytes().to_vec(),
    };
    let Some(mark) = path.windows(2).position(|w| w == b";;") else {
        return path;
    };
    let mut out = Vec::with_capacity(path.len() + dft.len() + 2);
    if mark > 0 {
        out.extend_from_slice(&path[..mark]);
        out.push(b';');
    }
    out.extend_from_slice(dft.as_bytes());
    if mark + 2 < path.len() {
        out.push(b';');
        out.extend_from_slice(&path[mark + 2..]);
    }
    out
}

/// The registry's `_LOADED` table (created on first use).
pub fn loaded_table<'gc>(ctx: interp::Context<'gc>) -> Table<'gc> {
    let key = ctx.intern_static(b"_LOADED");
    match ctx.registry().get_str(key) {
        Value::Table(t) => t,
        _ => {
            let t = ctx.new_table();
            ctx.registry().set_str(ctx.mutation(), key, Value::Table(t));
            t
        }
    }
}

fn pkg_field<'gc>(call: &NativeCall<'gc, '_>, name: &str) -> Value<'gc> {
    match call.upvalue(0) {
        Value::Table(p) => p.get_str(call.ctx.intern(name.as_bytes())),
        _ => Value::Nil,
    }
}

fn require<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let name = call.check_string(0)?;
    let loaded = loaded_table(call.ctx);
    let v = loaded.get_str(name);
    if v.is_truthy() {
        return call.ret1(v);
    }
    let Value::Table(searchers) = pkg_field(call, "searchers") else {
        return Err(call.error("'package.searchers' must be a table"));
    };
    let mut msg = Vec::new();
    let mut i = 1;
    let (loader, extra) = loop {
        let s = searchers.get_int(i);
        if s.is_nil() {
            let mut m = format!("module '{}' not found:", name.to_str_lossy()).into_bytes();
            m.extend_from_slice(&msg);
            return Err(call.error(m));
        }
        let r = call.call(s, &[Value::String(name)])?;
        let f = r.first().copied().unwrap_or_default();
        if f.is_function() {
            break (f, r.get(1).copied().unwrap_or_default());
        }
        match r.first() {
            Some(Value::String(m)) => {
                msg.extend_from_slice(b"\n\t");
                msg.extend_from_slice(m.as_bytes());
            }
            Some(v @ (Value::Integer(_) | Value::Number(_))) => {
                let m = call.to_string(*v)?;
                msg.extend_from_slice(b"\n\t");
                msg.extend_from_slice(m.as_bytes());
            }
            _ => {}
        }
        i += 1;
    };
    let r = call.call(loader, &[Value::String(name), extra])?;
    let mc = call.ctx.mutation();
    if let Some(v) = r.first().copied().filter(|v| !v.is_nil()) {
        loaded.set_str(mc, name, v);
    }
    if loaded.get_str(name).is_nil() {
        loaded.set_str(mc, name, Value::Boolean(true));
    }
    let v = loaded.get_str(name);
    call.ret(&[v, extra])
}

fn searcher_preload<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let name = call.check_string(0)?;
    let Value::Table(pre) = pkg_field(call, "preload") else {
        return Err(call.error("'package.preload' must be a table"));
    };
    let f = pre.get_str(name);
    if f.is_nil() {
        let m = format!("no field package.preload['{}']", name.to_str_lossy());
        return call.ret1(call.ctx.str(&m));
    }
    call.ret(&[f, call.ctx.str(":preload:")])
}

/// `package.searchpath`: the first readable file for `name` in `path`; otherwise the list
/// of files tried (every template, empty ones included, as C Lua reports them).
fn search_path(name: &str, path: &str, sep: &str, rep: &str) -> Result<String, String> {
    let name = if sep.is_empty() {
        name.to_string()
    } else {
        name.replace(sep, rep)
    };
    let path = path.replace('?', &name);
    for file in path.split(';') {
        if !file.is_empty() && std::fs::File::open(file).is_ok() {
            return Ok(file.to_string());
        }
    }
    Err(format!("no file '{}'", path.replace(';', "'\n\tno file '")))
}

fn searchpath<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    // Checked last argument first: C Lua checks them in one call expression, which gcc
    // evaluates right to left.
    let rep = call
        .opt_string(3)?
        .map(|s| s.to_str_lossy().into_owned())
        .unwrap_or_else(|| "/".into());
    let sep = call
        .opt_string(2)?
        .map(|s| s.to_str_lossy().into_owned())
        .unwrap_or_else(|| ".".into());
    let path = call.check_string(1)?.to_str_lossy().into_owned();
    let name = call.check_string(0)?.to_str_lossy().into_owned();
    match search_path(&name, &path, &sep, &rep) {
        Ok(f) => call.ret1(call.ctx.str(&f)),
        Err(m) => call.ret(&[Value::Nil, call.ctx.str(&m)]),
    }
}

fn searcher_lua<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let name = call.check_string(0)?.to_str_lossy().into_owned();
    let Value::String(path) = pkg_field(call, "path") else {
        return Err(call.error("'package.path' must be a string"));
    };
    let file = match search_path(&name, &path.to_str_lossy(), ".", "/") {
        Ok(f) => f,
        Err(m) => return call.ret1(call.ctx.str(&m)),
    };
    let data = std::fs::read(&file).map_err(|e| call.error(e.to_string()))?;
    let src = interp::compiler::skip_shebang(&data);
    let mut chunk = b"@".to_vec();
    chunk.extend_from_slice(file.as_bytes());
    match call.ctx.load(src, &chunk, None) {
        Ok(f) => call.ret(&[Value::Closure(f), call.ctx.str(&file)]),
        Err(e) => Err(call.error(format!(
            "error loading module '{}' from file '{}':\n\t{}",
            name,
            file,
            String::from_utf8_lossy(&e.message)
        ))),
    }
}

fn searcher_c<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let name = call.check_string(0)?.to_str_lossy().into_owned();
    let Value::String(cpath) = pkg_field(call, "cpath") else {
        return Err(call.error("'package.cpath' must be a string"));
    };
    match search_path(&name, &cpath.to_str_lossy(), ".", "/") {
        Ok(file) => Err(call.error(format!(
            "error loading module '{name}' from file '{file}':\n\t{NO_DYNLIB}"
        ))),
        Err(m) => call.ret1(call.ctx.str(&m)),
    }
}

/// `searcher_Croot`: looks for the root name of a dotted module in `package.cpath`.
fn searcher_croot<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let name = call.check_string(0)?.to_str_lossy().into_owned();
    let Some((root, _)) = name.split_once('.') else {
        return call.ret(&[]);
    };
    let Value::String(cpath) = pkg_field(call, "cpath") else {
        return Err(call.error("'package.cpath' must be a string"));
    };
    match search_path(root, &cpath.to_str_lossy(), ".", "/") {
        Ok(file) => Err(call.error(format!(
            "error loading module '{name}' from file '{file}':\n\t{NO_DYNLIB}"
        ))),
        Err(m) => call.ret1(call.ctx.str(&m)),
    }
}

const NO_DYNLIB: &str = "dynamic libraries not enabled; check your Lua installation";

fn loadlib<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    call.check_string(0)?;
    call.check_string(1)?;
    call.ret(&[
        Value::Nil,
        call.ctx
            .str("dynamic libraries not enabled; check your Lua installation"),
        call.ctx.str("absent"),
    ])
}
