//! The Lua 5.4 standard libraries, built on `interp`'s public API. Each library can be opened
//! on its own, so a host can build a runtime with only the libraries it trusts.

mod base;
mod coroutine;
mod debug;
mod io;
mod math;
mod os;
mod ostime;
mod package;
pub mod stdio;
mod strformat;
mod strlib;
mod table;
mod utf8;
mod util;
mod warnings;

pub use warnings::stderr_warnings;

pub mod string;

pub use base::{open_base, open_base_safe};
pub use coroutine::open_coroutine;
pub use debug::open_debug;
pub use io::open_io;
pub use math::{open_math, open_math_compat};
pub use os::{close_state, open_os, open_os_safe};
pub use package::open_package;
pub use strlib::open_string;
pub use table::open_table;
pub use utf8::open_utf8;

/// The names of the standard libraries, in the order `open_all` opens them.
pub const LIBRARIES: [&str; 10] = [
    "base",
    "coroutine",
    "string",
    "table",
    "utf8",
    "math",
    "io",
    "os",
    "debug",
    "package",
];

/// The libraries `open_library_safe` opens (the others reach the host: files, processes,
/// the debug interface, loading modules from disk).
pub const SAFE_LIBRARIES: [&str; 7] =
    ["base", "coroutine", "string", "table", "utf8", "math", "os"];

/// Opens the standard library `name` (one of `LIBRARIES`); false if there is none.
pub fn open_library(ctx: interp::Context<'_>, name: &str) -> bool {
    let open: fn(interp::Context<'_>) = match name {
        "base" => open_base,
        "coroutine" => open_coroutine,
        "string" => open_string,
        "table" => open_table,
        "utf8" => open_utf8,
        "math" => open_math,
        "io" => open_io,
        "os" => open_os,
        "debug" => open_debug,
        "package" => open_package,
        _ => return false,
    };
    open(ctx);
    true
}

/// Opens library `name` for untrusted code (one of `SAFE_LIBRARIES`): `base` without file
/// access, binary chunks or collector control (`open_base_safe`), `os` with only `clock`,
/// `date`, `difftime` and `time`. False if `name` is not a safe library.
pub fn open_library_safe(ctx: interp::Context<'_>, name: &str) -> bool {
    match name {
        "base" => open_base_safe(ctx),
        "os" => open_os_safe(ctx),
        _ if SAFE_LIBRARIES.contains(&name) => return open_library(ctx, name),
        _ => return false,
    }
    true
}

/// Functions a host needs whatever libraries it opens, by name: `tostring`,
/// `coroutine.create`, `coroutine.resume`.
pub fn host_function(name: &str) -> Option<interp::NativeFn> {
    Some(match name {
        "tostring" => base::tostring_fn(),
        "coroutine.create" => coroutine::create_fn(),
        "coroutine.resume" => coroutine::resume_fn(),
        _ => return None,
    })
}

/// C Lua's LUA_COMPAT_5_3, as the stock `lua` command is built (Lua's own makefile defines
/// it): the deprecated math functions (`math.pow`, `math.atan2`, `math.ldexp`...; added if
/// `math` is open) and `a <= b` through `__lt` when there is no `__le`.
pub fn enable_lua53_compat(ctx: interp::Context<'_>) {
    open_math_compat(ctx);
    ctx.set_compat_lt_le(true);
}

/// Opens every standard library.
pub fn open_all(ctx: interp::Context<'_>) {
    for name in LIBRARIES {
        open_library(ctx, name);
    }
}
