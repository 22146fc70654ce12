//! The running chain: which threads run (the executing one and the coroutines that resumed
//! it), the chains of host calls waiting below it, and the depth of calls native functions
//! made (C Lua's C stack, `nCcalls`).

use std::cell::Cell;

use gc_arena::{lock::RefLock, Collect, Gc, Mutation};

use crate::error::Error;
use crate::thread::{Thread, ThreadStatus};

/// The threads that run now and the calls waiting for them (part of the arena's root).
///
/// Invariant: while a call from the host is in progress, `threads` is not empty: its first
/// thread is the base of the call, its last the one executing; each thread in it but the
/// last is `Normal` (it resumed the next), the last `Running`.
#[derive(Collect)]
#[collect(no_drop)]
pub(crate) struct RunningChain<'gc> {
    /// The resume chain of the call in progress: its base first, the executing thread last.
    threads: Gc<'gc, RefLock<Vec<Thread<'gc>>>>,
    /// Running chains of calls the host made while another call was in progress
    /// (host -> Lua -> host -> Lua nesting), outermost first.
    outer: Gc<'gc, RefLock<Vec<Vec<Thread<'gc>>>>>,
    /// Depth of nested calls made by native functions (C Lua's C stack).
    #[collect(require_static)]
    nested: Cell<u32>,
    /// An error a host function returned, to be raised in the waiting thread.
    host_error: Gc<'gc, RefLock<Option<Error<'gc>>>>,
}

impl<'gc> RunningChain<'gc> {
    /// An empty chain: nothing runs.
    pub(crate) fn new(mc: &Mutation<'gc>) -> Self {
        RunningChain {
            threads: Gc::new(mc, RefLock::new(Vec::new())),
            outer: Gc::new(mc, RefLock::new(Vec::new())),
            nested: Cell::new(0),
            host_error: Gc::new(mc, RefLock::new(None)),
        }
    }

    /// The executing thread, if a call is in progress.
    #[inline]
    pub(crate) fn current(&self) -> Option<Thread<'gc>> {
        self.threads.borrow().last().copied()
    }

    /// The executing thread of the call in progress (there must be one).
    #[inline]
    pub(crate) fn running(&self) -> Thread<'gc> {
        self.current().expect("running thread")
    }

    /// The base thread of the call in progress.
    pub(crate) fn base(&self) -> Option<Thread<'gc>> {
        self.threads.borrow().first().copied()
    }

    /// Threads in the chain.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.threads.borrow().len()
    }

    /// True if no call is in progress.
    pub(crate) fn is_empty(&self) -> bool {
        self.threads.borrow().is_empty()
    }

    /// `t` resumed by the executing thread: it executes now.
    pub(crate) fn push(&self, mc: &Mutation<'gc>, t: Thread<'gc>) {
        self.threads.borrow_mut(mc).push(t);
    }

    /// The executing thread leaves the chain (yielded, returned or failed).
    pub(crate) fn pop(&self, mc: &Mutation<'gc>) -> Option<Thread<'gc>> {
        self.threads.borrow_mut(mc).pop()
    }

    /// Replaces the chain (for a call that runs apart from it, as a finalizer does);
    /// returns the old one, to put back with another `replace`.
    pub(crate) fn replace(&self, mc: &Mutation<'gc>, chain: Vec<Thread<'gc>>) -> Vec<Thread<'gc>> {
        std::mem::replace(&mut *self.threads.borrow_mut(mc), chain)
    }

    /// Makes `thread` the base of a new chain for a call from the host; the chain of a call
    /// waiting for a host function (if any) is kept for [`RunningChain::end_host_call`].
    pub(crate) fn begin_host_call(&self, mc: &Mutation<'gc>, thread: Thread<'gc>) {
        let mut running = self.threads.borrow_mut(mc);
        if let Some(&waiting) = running.last() {
            // A call made by a host function while another call waits for it: the thread
            // that called the host function is "normal" meanwhile, unless the call runs on
            // it.
            if !waiting.ptr_eq(thread) {
                waiting.set_status(ThreadStatus::Normal);
            }
            let outer = std::mem::take(&mut *running);
            self.outer.borrow_mut(mc).push(outer);
        }
        running.push(thread);
        thread.set_status(ThreadStatus::Running);
    }

    /// Ends the chain of a call from the host: the chain of the call that waited for a host
    /// function (if any) runs again.
    pub(crate) fn end_host_call(&self, mc: &Mutation<'gc>) {
        let outer = self.outer.borrow_mut(mc).pop();
        let mut running = self.threads.borrow_mut(mc);
        running.clear();
        if let Some(chain) = outer {
            *running = chain;
            if let Some(waiting) = running.last() {
                waiting.set_status(ThreadStatus::Running);
            }
        }
    }

    /// Depth of the nested calls native functions are making.
    #[inline]
    pub(crate) fn nested(&self) -> u32 {
        self.nested.get()
    }

    /// Sets the depth of nested calls (one more as a native function calls, back after).
    #[inline]
    pub(crate) fn set_nested(&self, depth: u32) {
        self.nested.set(depth);
    }

    /// Keeps the error a host function returned, for the waiting thread to raise.
    pub(crate) fn set_host_error(&self, mc: &Mutation<'gc>, e: Error<'gc>) {
        *self.host_error.borrow_mut(mc) = Some(e);
    }

    /// Takes the error a host function returned, if it did.
    pub(crate) fn take_host_error(&self, mc: &Mutation<'gc>) -> Option<Error<'gc>> {
        self.host_error.borrow_mut(mc).take()
    }
}
