//! Lua threads (coroutines): a value stack, call frames and open upvalues.

use std::cell::Cell;

use gc_arena::{lock::RefLock, Collect, Gc, Mutation};

use crate::closure::{Closure, Upvalue};
use crate::value::Value;

/// Largest stack size in slots (C Lua's `LUAI_MAXSTACK`).
pub const MAX_STACK: usize = 1_000_000;
/// Largest number of frames: every frame takes at least one slot, so the slot limit decides
/// first, as in C Lua (a call chain of functions without locals goes ~1,000,000 deep).
pub const MAX_FRAMES: usize = MAX_STACK;

/// A thread's status, as `coroutine.status` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Collect)]
#[collect(require_static)]
pub enum ThreadStatus {
    /// Created or yielded: can be resumed.
    Suspended,
    /// Currently running.
    Running,
    /// Resumed another coroutine and waits for it.
    Normal,
    /// Finished or died with an error.
    Dead,
}

impl ThreadStatus {
    /// The name `coroutine.status` returns.
    pub fn name(self) -> &'static str {
        match self {
            ThreadStatus::Suspended => "suspended",
            ThreadStatus::Running => "running",
            ThreadStatus::Normal => "normal",
            ThreadStatus::Dead => "dead",
        }
    }
}

/// What happens to a frame's results when it returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Collect)]
#[collect(require_static)]
pub(crate) enum ReturnTo {
    /// A normal call from a Lua frame: move `nresults` results to the function slot.
    Caller,
    /// A metamethod call whose first result goes to absolute stack index `.0`.
    Store(usize),
    /// A comparison metamethod: continue with the conditional jump of the calling
    /// instruction.
    Compare,
    /// `__lt` standing in for a missing `__le` (`a <= b` as `not (b < a)`, Lua 5.3's rule,
    /// kept by LUA_COMPAT_LT_LE): like `Compare` with the result negated.
    CompareNot,
    /// A `__concat` metamethod of OP_CONCAT over `stack[first..top]`: its result replaces
    /// the last two values, and the concatenation goes on (see `ConcatResume`).
    Concat {
        /// First value of the concatenation.
        first: u32,
        /// End of the values when the metamethod was called.
        top: u32,
    },
    /// A metamethod called for its effect only (`__newindex`, `__close`).
    Discard,
    /// A `__close` metamethod run while an error unwinds to a protected call: the unwinding
    /// goes on when it returns (see `ThreadState::unwinding`).
    Unwind,
    /// A `__close` metamethod called by OP_RETURN or OP_CLOSE: the instruction runs again
    /// (to close the next variable or finish), with `top` restored (C Lua's
    /// `luaV_finishOp` for OP_RETURN).
    Reclose {
        /// `top` when the metamethod was called (end of the results of OP_RETURN).
        top: u32,
    },
    /// The boundary of a nested call made by a native function: stop the nested VM loop.
    Boundary,
}

/// One activation record.
#[derive(Clone, Copy, Collect)]
#[collect(no_drop)]
pub(crate) struct Frame<'gc> {
    /// The running closure (`None` for a protected-call marker frame).
    pub(crate) closure: Option<Closure<'gc>>,
    /// Stack index of the called function value.
    pub(crate) func: usize,
    /// Stack index of register 0.
    pub(crate) base: usize,
    /// Saved program counter (index of the next instruction).
    pub(crate) pc: usize,
    /// Results wanted by the caller; -1 means all.
    pub(crate) nresults: i32,
    /// Extra arguments of a vararg function (stored below `func`).
    pub(crate) nextra: usize,
    /// What to do with the results.
    pub(crate) ret: ReturnTo,
    /// For a protected-call marker: the message handler slot, if any (xpcall).
    pub(crate) handler: Option<Value<'gc>>,
    /// True for a protected-call marker frame (pcall/xpcall).
    pub(crate) protected: bool,
    /// True if this frame was entered by a tail call (for tracebacks).
    pub(crate) tail: bool,
    /// True for the frame of a native function waiting for the function it called
    /// ([`crate::vm::Action::Call`]): its results are the native's.
    pub(crate) calling: bool,
    /// For a stand-in frame of a native function (while a message handler runs on the
    /// error it raised): its name.
    #[collect(require_static)]
    pub(crate) native: Option<&'static str>,
    /// C Lua's count of C calls (`nCcalls`) this frame runs at, relative to the thread's
    /// `cbase`: a metamethod, a protected call or a call from a native function counts one
    /// more than its caller, a Lua call from Lua code nothing (see `vm::call::C_CALLS_MAX`).
    pub(crate) cdepth: u16,
}

/// The mutable state of a thread.
#[derive(Collect, Default)]
#[collect(no_drop)]
pub(crate) struct ThreadState<'gc> {
    /// The value stack; registers of the frames live here.
    pub(crate) stack: Vec<Value<'gc>>,
    /// End of the values produced by the last multi-result operation (C Lua's `L->top`).
    pub(crate) top: usize,
    /// Call frames, innermost last.
    pub(crate) frames: Vec<Frame<'gc>>,
    /// The C-call count at the bottom of this thread: for a coroutine, its resumer's plus
    /// one (C Lua's `lua_resume`), for a call from the host one (`lua_pcall`).
    pub(crate) cbase: u32,
    /// Open upvalues, sorted by stack index.
    pub(crate) open_upvalues: Vec<(usize, Upvalue<'gc>)>,
    /// Stack indices of pending to-be-closed variables, innermost last.
    pub(crate) tbc: Vec<usize>,
    /// A native call waiting for a coroutine switch to finish: (function slot, results wanted,
    /// kind).
    #[collect(require_static)]
    pub(crate) pending: Option<PendingCall>,
    /// The error that ended the last host call, until the host takes it.
    pub(crate) error: Option<crate::error::Error<'gc>>,
    /// What the instruction loop finishes at its next reload before it runs on.
    pub(crate) resumption: Resumption<'gc>,
    /// How many message handlers are running (errors inside them are not pre-handled).
    #[collect(require_static)]
    pub(crate) in_handler: u32,
    /// Errors being delivered to protected calls while their to-be-closed variables close
    /// (a `__close` may yield): (index of the protected-call frame, error), innermost last.
    pub(crate) unwinding: Vec<(usize, crate::error::Error<'gc>)>,
    /// The traceback of a coroutine that died by an error, as it was when it died (its
    /// frames are gone; `debug.traceback` of it shows this).
    #[collect(require_static)]
    pub(crate) dead_traceback: Option<String>,
    /// The function slot of the innermost call made by a native function (`nested_call`): a
    /// native running there was called from native code, not from Lua.
    #[collect(require_static)]
    pub(crate) native_call_slot: usize,
    /// A `__gc` finalizer runs on this thread (called at `native_call_slot`).
    #[collect(require_static)]
    pub(crate) finalizing: bool,
    /// The host resumed this coroutine (it is the base of the running chain): a yield, return
    /// or error ends the host's step, and the coroutine stays a coroutine (suspended or dead).
    #[collect(require_static)]
    pub(crate) host_resumed: bool,
    /// The debug hook (`debug.sethook`) of this thread.
    pub(crate) hook: crate::hook::Hook<'gc>,
    /// The memory this thread is charged for: the object and its stack and frames as they
    /// grow (checked where frames are pushed).
    #[collect(require_static)]
    pub(crate) mem: crate::memory::Charge,
    /// Most frames this thread may hold while it runs (the host's call depth limit less
    /// the frames of the threads resuming it; at most the built-in stack limit).
    #[collect(require_static)]
    pub(crate) frame_cap: FrameCap,
    /// Frames of the threads resuming this one (its depth starts above them).
    #[collect(require_static)]
    pub(crate) depth_base: usize,
    /// Slots C Lua's stack would hold below this thread's slot 0, for its `LUAI_MAXSTACK`
    /// limit: the base CallInfo's function entry.
    pub(crate) slot_base: usize,
    /// Calls the host made into Lua on this thread while it waited for a host function
    /// (Lua -> host -> Lua), innermost last: each runs above the frames that called the host
    /// function, as C Lua's `lua_call` from a C function runs above its caller's frames.
    #[collect(require_static)]
    pub(crate) host_calls: Vec<HostCall>,
}

/// A call the host made on a thread that waits for a host function (see
/// `ThreadState::host_calls`). The host function has a frame of its own below the call (a
/// C function's, for tracebacks and `debug.getinfo`), and the call counts as a C call
/// (`lua_call`): it cannot yield, and its errors unwind only its own frames.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HostCall {
    /// Frames below the call; the last of them is the host function's.
    pub(crate) floor: usize,
    /// Stack slot of the called function: its results go here, and the stack is cut back to
    /// it when the call ends.
    pub(crate) func: usize,
    /// The host function call the thread waits for, back in place when the call ends.
    pub(crate) pending: PendingCall,
    /// `top` before the call.
    pub(crate) top: usize,
    /// `host_resumed` before the call (a coroutine the host resumed, calling the host).
    pub(crate) host_resumed: bool,
}

/// The most frames a thread may hold: [`MAX_FRAMES`] unless the host's call depth
/// limit is lower.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FrameCap(pub(crate) usize);

impl Default for FrameCap {
    fn default() -> Self {
        FrameCap(MAX_FRAMES)
    }
}

impl FrameCap {
    /// The cap of a thread whose depth starts at `base` under the call depth limit `max`.
    pub fn new(max: Option<u32>, base: usize) -> FrameCap {
        let hard = MAX_FRAMES;
        FrameCap(max.map_or(hard, |m| (m as usize).saturating_sub(base).min(hard)))
    }
}

/// What an interrupted instruction left for the instruction loop to finish at its next
/// reload (C Lua's `luaV_finishOp` and its call-status bits): at most one thing at a time,
/// since each is set as a metamethod call ends and taken at the reload that follows.
#[derive(Clone, Copy, Collect, Default)]
#[collect(no_drop)]
pub(crate) enum Resumption<'gc> {
    /// Nothing: the loop runs on.
    #[default]
    Run,
    /// A metamethod that is a native function asked to leave the step (a host function,
    /// a yield, a resume).
    Leave(MetaExit<'gc>),
    /// An OP_CONCAT to go on with after its `__concat` metamethod returned.
    Concat(#[collect(require_static)] ConcatResume),
    /// A `__close` run by an error unwinding returned: go on unwinding.
    Unwind,
}

impl Resumption<'_> {
    /// True if nothing waits for the next reload.
    #[inline(always)]
    pub(crate) fn is_run(&self) -> bool {
        matches!(self, Resumption::Run)
    }
}

/// The rest of an OP_CONCAT interrupted by a `__concat` metamethod call (C Lua's
/// `luaV_finishOp` for OP_CONCAT): concatenate `stack[first..first + n]` in the frame that
/// was on top (`frames` frames deep) when the metamethod returned.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConcatResume {
    /// Depth of the frame running the OP_CONCAT.
    pub frames: usize,
    /// First value.
    pub first: usize,
    /// Number of values left.
    pub n: usize,
}

/// Why a native metamethod leaves the instruction loop.
#[derive(Clone, Copy, Collect)]
#[collect(no_drop)]
pub(crate) enum MetaExit<'gc> {
    /// A host function was called.
    Host,
    /// `coroutine.yield`.
    Yield,
    /// `coroutine.resume` or a `wrap` function.
    Resume(Thread<'gc>),
}

/// A native call (resume, yield, wrap) that finishes when control comes back to this thread.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PendingCall {
    /// Stack index of the native function's slot (results go here).
    pub func: usize,
    /// Results wanted (-1 = all).
    pub nresults: i32,
    /// Which call.
    pub kind: PendingKind,
    /// Where its results go.
    pub ret: ReturnTo,
}

/// Which native call is pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PendingKind {
    /// `coroutine.resume`: results are `true, ...` or `false, err`.
    Resume,
    /// A `coroutine.wrap` function: results are the values; errors propagate.
    Wrap,
    /// `coroutine.yield`: results are the next resume's arguments.
    Yield,
    /// A call to a host function: results come from the host.
    Host,
}

/// The heap object behind a [`Thread`].
#[derive(Collect)]
#[collect(no_drop)]
pub(crate) struct ThreadObject<'gc> {
    /// The status (outside the lock so it can be read while the thread runs).
    #[collect(require_static)]
    pub status: Cell<ThreadStatus>,
    /// True for the main thread.
    #[collect(require_static)]
    pub is_main: bool,
    /// Number of active nested (non-yieldable) native calls on this thread.
    #[collect(require_static)]
    pub nny: Cell<u32>,
    /// Number of calls from the host running on this thread above a host function
    /// (`ThreadState::host_calls`): they cannot yield either, but unlike the nested native
    /// calls of `nny` they run in steps (they may leave the step for the host again).
    #[collect(require_static)]
    pub host_calls: Cell<u32>,
    /// Counts this coroutine against the host's limit until it dies or is collected.
    #[collect(require_static)]
    pub live: Cell<Option<crate::limits::CoroutineToken>>,
    /// Stack, frames and upvalues.
    pub state: RefLock<ThreadState<'gc>>,
    /// Where the stack was (buffer address, length) when this thread last handed control to
    /// another thread while keeping its state borrowed (see [`Thread::publish_stack`]).
    #[collect(require_static)]
    stack_view: Cell<(usize, usize)>,
}

/// Bytes charged per thread besides its stack and frames: the object, its state and the
/// collector's header.
const THREAD_SIZE: usize = std::mem::size_of::<ThreadObject<'static>>() + crate::memory::GC_HEADER;

/// A Lua thread: a pointer-sized `Copy` handle.
#[derive(Clone, Copy, Collect)]
#[collect(no_drop)]
pub struct Thread<'gc>(pub(crate) Gc<'gc, ThreadObject<'gc>>);

impl<'gc> Thread<'gc> {
    /// A new, empty thread.
    pub(crate) fn new(mc: &Mutation<'gc>, is_main: bool) -> Thread<'gc> {
        let state = ThreadState {
            mem: crate::memory::Charge::new(THREAD_SIZE),
            slot_base: 1,
            ..ThreadState::default()
        };
        Thread(Gc::new(
            mc,
            ThreadObject {
                status: Cell::new(ThreadStatus::Suspended),
                is_main,
                nny: Cell::new(0),
                host_calls: Cell::new(0),
                live: Cell::new(None),
                state: RefLock::new(state),
                stack_view: Cell::new((0, 0)),
            },
        ))
    }

    /// Whether this is the runtime's main thread (never resumable).
    #[inline]
    pub fn is_main(self) -> bool {
        self.0.is_main
    }

    /// True if code running on this thread now may yield (`coroutine.isyieldable`): a
    /// coroutine not inside a call from native code or from the host (a C-call boundary).
    #[inline]
    pub fn is_yieldable(self) -> bool {
        !self.0.is_main && self.0.nny.get() == 0 && self.0.host_calls.get() == 0
    }

    /// A new coroutine that will run `f`, held by `token` (its count against the host's
    /// limit on live coroutines) until it dies or is collected.
    pub(crate) fn new_coroutine(
        mc: &Mutation<'gc>,
        f: Value<'gc>,
        token: crate::limits::CoroutineToken,
    ) -> Thread<'gc> {
        let co = Thread::new(mc, false);
        co.0.live.set(Some(token));
        co.state_mut(mc).stack.push(f);
        co
    }

    /// The status.
    #[inline]
    pub fn status(self) -> ThreadStatus {
        self.0.status.get()
    }

    /// Sets the status.
    #[inline]
    pub(crate) fn set_status(self, s: ThreadStatus) {
        self.0.status.set(s)
    }

    /// Borrows the thread's state for writing.
    #[inline]
    pub(crate) fn state_mut(self, mc: &Mutation<'gc>) -> std::cell::RefMut<'gc, ThreadState<'gc>> {
        gc_arena::barrier::unlock!(Gc::write(mc, self.0), ThreadObject, state).borrow_mut()
    }

    /// Tries to borrow the thread's state for writing (fails while it runs a nested call).
    #[inline]
    pub(crate) fn try_state_mut(
        self,
        mc: &Mutation<'gc>,
    ) -> Option<std::cell::RefMut<'gc, ThreadState<'gc>>> {
        gc_arena::barrier::unlock!(Gc::write(mc, self.0), ThreadObject, state)
            .try_borrow_mut()
            .ok()
    }

    /// Records where this thread's stack is, before code of another thread may run while
    /// this thread's state stays borrowed (a native function running, a resume). Open
    /// upvalues of this thread's frames are then reached through this view.
    ///
    /// Callers publish at every such hand-over: `precall` of a native function, a nested
    /// call, and `resume`. Between a publish and the moment the other thread's code reads
    /// the view, this thread does not run, so its stack is not reallocated.
    #[inline]
    pub(crate) fn publish_stack(self, st: &mut ThreadState<'gc>) {
        self.0
            .stack_view
            .set((st.stack.as_mut_ptr() as usize, st.stack.len()));
    }

    /// Reads stack slot `index` of this thread (an open upvalue), from any thread.
    pub(crate) fn stack_slot(self, index: usize) -> Value<'gc> {
        if let Ok(s) = self.0.state.try_borrow() {
            return s.stack.get(index).copied().unwrap_or_default();
        }
        let (ptr, len) = self.0.stack_view.get();
        if index < len {
            // SAFETY: the state is borrowed by this thread's own (suspended) execution, which
            // published the view when it handed control over and has not run since (see
            // `publish_stack`), so the buffer is alive, unmoved and `len` long. No Rust
            // reference to this slot is held across the hand-over (the VM addresses the
            // stack through raw register pointers it re-derives after calls).
            unsafe { *(ptr as *const Value<'gc>).add(index) }
        } else {
            Value::Nil
        }
    }

    /// Writes stack slot `index` of this thread (an open upvalue), from any thread.
    pub(crate) fn set_stack_slot(self, mc: &Mutation<'gc>, index: usize, v: Value<'gc>) {
        let lock = gc_arena::barrier::unlock!(Gc::write(mc, self.0), ThreadObject, state);
        if let Ok(mut s) = lock.try_borrow_mut() {
            if let Some(slot) = s.stack.get_mut(index) {
                *slot = v;
            }
            return;
        }
        let (ptr, len) = self.0.stack_view.get();
        if index < len {
            // SAFETY: as in `stack_slot`; the write barrier was issued by `Gc::write` above.
            unsafe { *(ptr as *mut Value<'gc>).add(index) = v }
        }
    }

    /// The body of a coroutine that has not started yet (`coroutine.create(f)` not resumed).
    pub fn unstarted_function(self) -> Option<Value<'gc>> {
        if self.status() != ThreadStatus::Suspended {
            return None;
        }
        let st = self.0.state.try_borrow().ok()?;
        if !st.frames.is_empty() || st.pending.is_some() || st.stack.len() != 1 {
            return None;
        }
        Some(st.stack[0])
    }

    /// Pointer identity.
    #[inline]
    pub fn ptr_eq(self, other: Thread<'gc>) -> bool {
        Gc::ptr_eq(self.0, other.0)
    }
}

impl<'gc> ThreadState<'gc> {
    /// True if calling a Lua function at `func` with `nargs` arguments and `frame` slots
    /// (plus one for a vararg function) passes C Lua's stack limit, `LUAI_MAXSTACK` plus
    /// `room`: `L->top + framesize` counted from C Lua's stack base.
    #[inline]
    pub fn call_overflows(&self, func: usize, nargs: usize, frame: usize, room: usize) -> bool {
        self.slot_base + func + 1 + nargs + frame > MAX_STACK + room
    }

    /// The C-call count the innermost frame runs at (C Lua's `getCcalls(L)`).
    #[inline]
    pub fn c_calls(&self) -> u32 {
        self.cbase + self.frames.last().map_or(0, |f| f.cdepth as u32)
    }

    /// Leaves `r` for the instruction loop to finish at its next reload (nothing else
    /// waits there: see [`Resumption`]).
    pub(crate) fn resume_at_reload(&mut self, r: Resumption<'gc>) {
        debug_assert!(self.resumption.is_run(), "two resumptions at once");
        self.resumption = r;
    }

    /// Makes sure the stack has at least `n` slots (filled with nil).
    #[inline]
    pub fn ensure_stack(&mut self, n: usize) {
        if self.stack.len() < n {
            self.stack.resize(n, Value::Nil);
            // The frames grow with the stack: both are charged when the stack grows.
            self.mem.grow_to(self.heap_size());
        }
    }

    /// Gives back the memory of a stack and frames that grew far beyond what they hold
    /// (after a deep recursion), as C Lua's collector does (`luaD_shrinkstack`).
    pub fn shrink_buffers(&mut self) {
        const KEEP: usize = 1 << 12;
        let want = (self.stack.len() * 2).max(KEEP);
        if self.stack.capacity() > want * 2 {
            self.stack.shrink_to(want);
        }
        let want = (self.frames.len() * 2).max(KEEP / 8);
        if self.frames.capacity() > want * 2 {
            self.frames.shrink_to(want);
        }
        self.mem.set_to(self.heap_size());
    }

    /// Bytes of the thread object and its buffers.
    fn heap_size(&self) -> usize {
        THREAD_SIZE
            + self.stack.capacity() * std::mem::size_of::<Value<'_>>()
            + self.frames.capacity() * std::mem::size_of::<Frame<'_>>()
    }

    /// Closes open upvalues at stack index `level` and above.
    pub fn close_upvalues(&mut self, mc: &Mutation<'gc>, level: usize) {
        while let Some(&(idx, uv)) = self.open_upvalues.last() {
            if idx < level {
                break;
            }
            // A slot past the top (a register a malformed binary chunk captured, then called
            // below) closes as nil.
            let v = self.stack.get(idx).copied().unwrap_or_default();
            uv.set(mc, crate::closure::UpvalueState::Closed(v));
            self.open_upvalues.pop();
        }
    }

    /// The frames the innermost call from the host runs above: its errors unwind no frame
    /// below (0 for the thread's own call).
    #[inline]
    pub fn host_floor(&self) -> usize {
        self.host_calls.last().map_or(0, |c| c.floor)
    }

    /// Where the innermost call from the host has its function, results and error: slot 0
    /// for the thread's own call.
    #[inline]
    pub fn host_base(&self) -> usize {
        self.host_calls.last().map_or(0, |c| c.func)
    }
}
