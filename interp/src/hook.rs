//! A thread's debug hook (C Lua's `L->hook`, `hookmask`, `basehookcount`, `hookcount`) and
//! its tracing state: what the VM's hooks (`vm/hooks.rs`) read and update. A leaf below the
//! VM, so that a thread holds it without naming the VM.

use gc_arena::Collect;

use crate::value::Value;

/// Hook on calls.
pub const MASK_CALL: u8 = 1;
/// Hook on returns.
pub const MASK_RETURN: u8 = 2;
/// Hook on new lines.
pub const MASK_LINE: u8 = 4;
/// Hook every `count` instructions.
pub const MASK_COUNT: u8 = 8;

/// The hook of a thread and its bookkeeping.
#[derive(Collect, Clone, Copy, Default)]
#[collect(no_drop)]
pub struct Hook<'gc> {
    /// The hook function (nil: no hook).
    pub func: Value<'gc>,
    /// Events (`MASK_*`); zero when there is no hook.
    #[collect(require_static)]
    pub mask: u8,
    /// Instructions between count events.
    #[collect(require_static)]
    pub base_count: u32,
    /// Instructions left until the next count event.
    #[collect(require_static)]
    pub(crate) count: u32,
    /// A hook is running (hooks are off inside hooks).
    #[collect(require_static)]
    pub(crate) running: bool,
    /// The frame whose event the running hook handles (its callee is named "hook").
    #[collect(require_static)]
    pub(crate) hooked_frame: usize,
    /// The values a call or return event transfers: (first local index, count), for
    /// `debug.getinfo`'s `ftransfer`/`ntransfer`.
    #[collect(require_static)]
    pub(crate) transfer: (usize, usize),
    /// Last instruction traced (C Lua's `L->oldpc`), in the function on top.
    #[collect(require_static)]
    pub(crate) old_pc: usize,
    /// A Lua frame was entered: its call event is due at its first instruction.
    #[collect(require_static)]
    pub(crate) call_pending: bool,
    /// The hooks of this instruction (frame index, pc) already ran.
    #[collect(require_static)]
    pub(crate) traced: Option<(usize, usize)>,
    /// Set by the host to stop the thread at its next event instead of calling a function
    /// (C Lua's `lstop`, a hook that is no Lua-visible function).
    #[collect(require_static)]
    pub(crate) stop: Option<StopHook>,
}

/// Why the host hooked a thread to stop it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StopHook {
    /// Raise "interrupted!" (`lua.c`'s Ctrl-C).
    Interrupted,
    /// Raise the uncatchable error of the limit that was hit.
    Limits,
}

impl<'gc> Hook<'gc> {
    /// A hook calling `func` on the events of `mask`, and every `count` instructions if
    /// `count > 0`.
    pub fn new(func: Value<'gc>, mask: u8, count: u32) -> Hook<'gc> {
        let mut mask = mask & (MASK_CALL | MASK_RETURN | MASK_LINE);
        if count > 0 {
            mask |= MASK_COUNT;
        }
        if func.is_nil() {
            return Hook::default();
        }
        Hook {
            func,
            mask,
            base_count: count,
            count,
            ..Hook::default()
        }
    }

    /// Installs `new` (hook function, events and count) in place of this hook, keeping the
    /// tracing state: a hook may replace itself while it runs.
    pub fn replace(&mut self, new: Hook<'gc>) {
        self.func = new.func;
        self.stop = new.stop;
        self.mask = new.mask;
        self.base_count = new.base_count;
        self.count = new.count;
        if new.mask == 0 {
            self.call_pending = false;
            self.traced = None;
        }
    }

    /// True when events must be traced.
    #[inline]
    pub fn active(&self) -> bool {
        self.mask != 0
    }

    /// True when an event of `mask` would call the hook now.
    #[inline]
    pub(crate) fn wants(&self, mask: u8) -> bool {
        self.mask & mask != 0 && !self.running
    }

    /// The frame whose event the running hook handles, if a hook is running.
    pub(crate) fn hooked_frame(&self) -> Option<usize> {
        self.running.then_some(self.hooked_frame)
    }

    /// Turns hooks off (while a finalizer runs, as C Lua's `GCTM` does); returns what
    /// `resume` needs to turn them back on.
    pub(crate) fn pause(&mut self) -> (bool, usize) {
        let saved = (self.running, self.hooked_frame);
        self.running = true;
        self.hooked_frame = usize::MAX;
        saved
    }

    /// Undoes `pause`.
    pub(crate) fn resume(&mut self, saved: (bool, usize)) {
        (self.running, self.hooked_frame) = saved;
    }

    /// `(ftransfer, ntransfer)` of frame `fi` (zeros unless a call or return hook of it runs).
    pub fn transfer_of(&self, fi: usize) -> (usize, usize) {
        if self.hooked_frame() == Some(fi) {
            self.transfer
        } else {
            (0, 0)
        }
    }

    /// Forgets the tracing state of a call from the host that ended (above a host function,
    /// see `ThreadState::host_calls`): the frame that called the host function goes on where
    /// it was.
    pub(crate) fn host_call_ended(&mut self) {
        self.call_pending = false;
        self.traced = None;
    }

    /// Notes that a Lua frame was pushed (its call event fires at its first instruction).
    #[inline]
    pub(crate) fn entered_lua(&mut self) {
        if self.mask != 0 && !self.running {
            self.call_pending = true;
        }
    }
}
