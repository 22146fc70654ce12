//! The standard warning function (lauxlib's `warnfoff`/`warnfon`/`warnfcont`): warnings go to
//! the standard error stream as `Lua warning: ...`, off until the control message `@on`.

use std::cell::Cell;
use std::io::Write;
use std::rc::Rc;

use interp::WarnFunction;

/// Where the standard warning function is: off, on, or in the middle of a message.
#[derive(Clone, Copy, PartialEq, Eq)]
enum WarnState {
    Off,
    On,
    Continuing,
}

/// A warning function that writes to standard error, as `luaL_newstate`'s: starts off;
/// `@on` and `@off` (a message of one piece) switch it.
pub fn stderr_warnings() -> WarnFunction {
    let state = Cell::new(WarnState::Off);
    Rc::new(move |piece: &[u8], to_continue: bool| {
        let now = state.get();
        if now != WarnState::Continuing && !to_continue && piece.first() == Some(&b'@') {
            // A control message (`checkcontrol`); unknown ones are ignored.
            match piece {
                b"@on" => state.set(WarnState::On),
                b"@off" => state.set(WarnState::Off),
                _ => {}
            }
            return;
        }
        if now == WarnState::Off {
            return;
        }
        let mut e = std::io::stderr().lock();
        if now == WarnState::On {
            let _ = e.write_all(b"Lua warning: ");
        }
        let _ = e.write_all(piece);
        if to_continue {
            state.set(WarnState::Continuing);
        } else {
            let _ = e.write_all(b"\n");
            state.set(WarnState::On);
        }
    })
}
