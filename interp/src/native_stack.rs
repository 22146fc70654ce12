//! How much of the native (Rust) stack is left: the guard under every kind of nesting that
//! recurses on it (native -> Lua calls such as a `__tostring` run by `tostring`, calls from the
//! host, the parser's levels). C Lua bounds these by a count (`LUAI_MAXCCALLS`); a count alone
//! cannot know the stack it runs on (a host thread started with a small stack, a host that
//! recursed deeply before calling in), so both apply: whichever is hit first raises
//! "C stack overflow".

use std::cell::Cell;

/// Bytes that must stay free below the stack pointer for one more level of nesting (the
/// instruction loop's frame, a library function, the collector, and what the host needs to
/// handle the error). A level of native -> Lua nesting takes about 10 KB (optimized builds).
const RESERVE: usize = 128 * 1024;

thread_local! {
    /// The lowest address of this thread's stack plus [`RESERVE`] (0: not known yet;
    /// 1: unknown on this platform, no guard).
    static LIMIT: Cell<usize> = const { Cell::new(0) };
}

/// True if the native stack has room for one more level of nesting. Cheap: one thread-local
/// read and a compare (the stack bounds are read once per thread).
#[inline]
pub fn has_room() -> bool {
    let marker = 0u8;
    let sp = std::ptr::addr_of!(marker) as usize;
    let limit = LIMIT.with(|l| match l.get() {
        0 => {
            let v = stack_low().map_or(1, |low| low.saturating_add(RESERVE));
            l.set(v);
            v
        }
        v => v,
    });
    sp > limit
}

/// The lowest address of the calling thread's stack, where the platform says.
#[cfg(all(target_os = "linux", not(miri)))]
fn stack_low() -> Option<usize> {
    // SAFETY: `attr` is initialized by `pthread_getattr_np` before it is read and destroyed
    // once; `addr` and `size` are plain out-parameters.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut addr: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let r = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        (r == 0 && !addr.is_null()).then_some(addr as usize)
    }
}

/// Elsewhere (and under Miri, which cannot ask the platform), the counts alone guard the
/// stack.
#[cfg(any(not(target_os = "linux"), miri))]
fn stack_low() -> Option<usize> {
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_main_test_thread_has_room() {
        assert!(super::has_room());
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri cannot read the thread's stack bounds")]
    #[cfg_attr(target_family = "wasm", ignore = "WebAssembly has no threads")]
    fn a_deep_recursion_runs_out_of_room_before_the_stack_does() {
        fn depth(n: usize) -> usize {
            let pad = [n as u8; 1024];
            if !super::has_room() {
                return n;
            }
            std::hint::black_box(&pad);
            depth(n + 1) + std::hint::black_box(0)
        }
        let h = std::thread::Builder::new()
            .stack_size(4 << 20)
            .spawn(|| depth(0))
            .unwrap();
        let n = h.join().unwrap();
        assert!(n > 100, "{n}");
    }
}
