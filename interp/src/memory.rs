//! Memory accounting: the bytes a runtime's objects hold, and an optional limit.
//!
//! Objects add their size when created (through [`charge`]) and subtract it when dropped
//! (through [`release`], from `Drop` impls). Drops happen while the collector sweeps or while
//! the runtime is dropped; the runtime makes its account current for those moments and for
//! every `enter`, so frees are charged to the right runtime. The limit is enforced at safe
//! points (calls, loop back-edges, big allocations), where a `not enough memory` error can be
//! raised without losing anything.

use std::cell::Cell;
use std::rc::Rc;

/// A runtime's memory account.
#[derive(Debug, Default)]
pub struct MemoryAccount {
    used: Cell<usize>,
    limit: Cell<Option<usize>>,
    /// Bytes allocated since the collector was last told (it counts objects, not bytes).
    unreported: Cell<usize>,
}

impl MemoryAccount {
    /// Bytes in use.
    pub fn used(&self) -> usize {
        self.used.get()
    }

    /// The limit, if any.
    pub fn limit(&self) -> Option<usize> {
        self.limit.get()
    }

    /// Sets (or removes) the limit.
    pub fn set_limit(&self, limit: Option<usize>) {
        self.limit.set(limit);
    }

    /// True if `extra` more bytes would stay within the limit.
    #[inline]
    pub fn allows(&self, extra: usize) -> bool {
        match self.limit.get() {
            None => true,
            Some(l) => self.used.get().saturating_add(extra) <= l,
        }
    }

    /// Bytes allocated and not yet reported to the collector.
    pub fn unreported(&self) -> usize {
        self.unreported.get()
    }

    /// Takes the bytes not yet reported to the collector.
    pub fn take_unreported(&self) -> usize {
        self.unreported.replace(0)
    }

    /// True when usage is past the limit.
    #[inline]
    pub fn exceeded(&self) -> bool {
        !self.allows(0)
    }
}

/// Bytes charged to the current account for as long as an object lives (released when the
/// object is dropped): for objects whose size the collector does not report in bytes.
#[derive(Debug, Default)]
pub struct Charge(Cell<usize>);

impl Charge {
    /// Charges `n` bytes now.
    pub fn new(n: usize) -> Charge {
        charge(n);
        Charge(Cell::new(n))
    }

    /// Sets the charge to `n` bytes (a buffer that shrank or grew).
    pub fn set_to(&self, n: usize) {
        let old = self.0.get();
        if n > old {
            charge(n - old);
        } else {
            release(old - n);
        }
        self.0.set(n);
    }

    /// Raises the charge to `n` bytes (a buffer that grew); never lowers it.
    #[inline]
    pub fn grow_to(&self, n: usize) {
        let old = self.0.get();
        if n > old {
            charge(n - old);
            self.0.set(n);
        }
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        release(self.0.get());
    }
}

/// Bytes charged per collected object besides its own size (the collector's header).
pub const GC_HEADER: usize = 32;

thread_local! {
    static CURRENT: Cell<*const MemoryAccount> = const { Cell::new(std::ptr::null()) };
}

/// Makes `account` current until the guard is dropped (nesting restores the previous one).
pub(crate) struct AccountGuard {
    prev: *const MemoryAccount,
    _keep: Rc<MemoryAccount>,
}

impl AccountGuard {
    /// Makes `account` current.
    pub(crate) fn enter(account: &Rc<MemoryAccount>) -> AccountGuard {
        let prev = CURRENT.with(|c| c.replace(Rc::as_ptr(account)));
        AccountGuard {
            prev,
            _keep: account.clone(),
        }
    }
}

impl Drop for AccountGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.prev));
    }
}

/// Adds `n` bytes to the current account.
#[inline]
pub fn charge(n: usize) {
    CURRENT.with(|c| {
        let p = c.get();
        if !p.is_null() {
            // SAFETY: a non-null CURRENT points to an account kept alive by the `AccountGuard`
            // that installed it, which lives until CURRENT is restored.
            let a = unsafe { &*p };
            a.used.set(a.used.get().saturating_add(n));
            a.unreported.set(a.unreported.get().saturating_add(n));
        }
    });
}

/// Subtracts `n` bytes from the current account.
#[inline]
pub fn release(n: usize) {
    CURRENT.with(|c| {
        let p = c.get();
        if !p.is_null() {
            // SAFETY: as in `charge`.
            let a = unsafe { &*p };
            a.used.set(a.used.get().saturating_sub(n));
        }
    });
}

/// True if the current account can take `n` more bytes.
#[inline]
pub fn allows(n: usize) -> bool {
    CURRENT.with(|c| {
        let p = c.get();
        // SAFETY: as in `charge`.
        p.is_null() || unsafe { &*p }.allows(n)
    })
}

/// True if the current account is past its limit.
#[inline]
pub fn exceeded() -> bool {
    !allows(0)
}
