//! The Lua 5.4 standard libraries, built on `interp`'s public API. Each library can be opened
//! on its own, so a host can build a runtime with only the libraries it trusts.

mod base;
mod coroutine;
mod debug;
mod io;
mod math;
mod os;
mod package;
mod strformat;
mod strlib;
mod table;
mod utf8;
mod util;

pub mod string;

pub use base::open_base;
pub use coroutine::open_coroutine;
pub use debug::open_debug;
pub use io::open_io;
pub use math::open_math;
pub use os::{close_state, open_os, open_os_safe};
pub use package::open_package;
pub use strlib::open_string;
pub use table::open_table;
pub use utf8::open_utf8;

/// Opens every standard library.
pub fn open_all(ctx: interp::Context<'_>) {
    open_base(ctx);
    open_coroutine(ctx);
    open_string(ctx);
    open_table(ctx);
    open_utf8(ctx);
    open_math(ctx);
    open_io(ctx);
    open_os(ctx);
    open_debug(ctx);
    open_package(ctx);
}
