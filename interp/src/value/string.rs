//! Lua strings: immutable byte strings, short ones interned (equality is a pointer compare).

use gc_arena::{Collect, Finalization, Gc, GcWeak, Mutation};
use hashbrown::HashTable;

/// Strings up to this many bytes are interned (C Lua's `LUAI_MAXSHORTLEN`).
pub const SHORT_STRING_MAX: usize = 40;

/// The heap object behind a [`LuaString`].
#[derive(Collect)]
#[collect(require_static)]
pub struct StringObject {
    hash: u64,
    /// The bytes: a boxed slice this object owns (`owned`), or a `'static` literal (names
    /// of library functions: no second allocation for them).
    bytes: *const [u8],
    owned: bool,
}

/// A Lua string: a pointer-sized `Copy` handle to an immutable byte string.
#[derive(Clone, Copy, Collect)]
#[collect(no_drop)]
pub struct LuaString<'gc>(pub Gc<'gc, StringObject>);

impl StringObject {
    fn new(hash: u64, bytes: &[u8]) -> StringObject {
        crate::memory::charge(Self::SIZE + bytes.len());
        let boxed: Box<[u8]> = bytes.into();
        StringObject {
            hash,
            bytes: Box::into_raw(boxed),
            owned: true,
        }
    }

    fn new_static(hash: u64, bytes: &'static [u8]) -> StringObject {
        crate::memory::charge(Self::SIZE);
        StringObject {
            hash,
            bytes,
            owned: false,
        }
    }

    /// The bytes.
    #[inline(always)]
    fn bytes(&self) -> &[u8] {
        // SAFETY: `bytes` is a `'static` literal or a box this object owns and frees only
        // when it is dropped, so it is valid for as long as `self` is borrowed.
        unsafe { &*self.bytes }
    }

    /// Bytes charged per string besides its contents (object, header, box).
    const SIZE: usize = 48;
}

impl Drop for StringObject {
    fn drop(&mut self) {
        if self.owned {
            crate::memory::release(Self::SIZE + self.bytes.len());
            // SAFETY: an owned `bytes` came from `Box::into_raw` in `new` and is freed only
            // here, once.
            drop(unsafe { Box::from_raw(self.bytes as *mut [u8]) });
        } else {
            crate::memory::release(Self::SIZE);
        }
    }
}

impl<'gc> LuaString<'gc> {
    /// The bytes of the string.
    #[inline(always)]
    pub fn as_bytes(self) -> &'gc [u8] {
        Gc::as_ref(self.0).bytes()
    }

    /// The length in bytes.
    #[inline(always)]
    pub fn len(self) -> usize {
        self.0.bytes.len()
    }

    /// True for the empty string.
    #[inline]
    pub fn is_empty(self) -> bool {
        self.0.bytes.is_empty()
    }

    /// The string's hash (fixed for its lifetime).
    #[inline(always)]
    pub fn hash(self) -> u64 {
        self.0.hash
    }

    /// True if the string is interned (short).
    #[inline(always)]
    pub fn is_short(self) -> bool {
        self.0.bytes.len() <= SHORT_STRING_MAX
    }

    /// The string as UTF-8 text, replacing invalid sequences (for diagnostics).
    pub fn to_str_lossy(self) -> std::borrow::Cow<'gc, str> {
        String::from_utf8_lossy(self.as_bytes())
    }
}

impl<'gc> PartialEq for LuaString<'gc> {
    #[inline(always)]
    fn eq(&self, other: &Self) -> bool {
        if Gc::ptr_eq(self.0, other.0) {
            return true;
        }
        let (a, b) = (&self.0, &other.0);
        // Two distinct short strings are never equal: they are interned.
        a.bytes.len() > SHORT_STRING_MAX && a.hash == b.hash && a.bytes() == b.bytes()
    }
}
impl<'gc> Eq for LuaString<'gc> {}

impl<'gc> std::fmt::Debug for LuaString<'gc> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.to_str_lossy())
    }
}

/// Hashes a byte string (a fast multiplicative hash over 8-byte words, seeded).
#[inline]
pub fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = seed ^ (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h ^ w).wrapping_mul(K).rotate_left(29);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut buf = [0u8; 8];
        buf[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(buf))
            .wrapping_mul(K)
            .rotate_left(29);
    }
    h ^= h >> 32;
    h = h.wrapping_mul(K);
    h ^ (h >> 29)
}

/// The table of interned short strings, held weakly and pruned after each marking phase.
pub struct StringInterner<'gc> {
    seed: u64,
    table: HashTable<(u64, GcWeak<'gc, StringObject>)>,
}

// SAFETY: the interner traces nothing: it holds its strings weakly without telling the
// collector (a traced weak pointer would keep a dead string's memory for one more cycle, and
// count it as remembered in the collector's pacing, so a program making many short-lived
// strings ran ever longer cycles). Every string the current collection found unreachable is
// removed by `prune`, called in the finalization phase of every cycle, before sweeping frees
// anything (`Collector::clear_weak`); strings made after that are not swept this cycle. So
// every pointer the table holds points to a live string, and `upgrade` (which applies the
// write barrier) is sound.
// (`NEEDS_TRACE` stays true: the interner is written through a lock, and gc-arena's write
// barrier counts on objects it re-marks having been traced.)
unsafe impl<'gc> Collect<'gc> for StringInterner<'gc> {
    fn trace<T: gc_arena::collect::Trace<'gc>>(&self, _cc: &mut T) {}
}

impl<'gc> StringInterner<'gc> {
    /// An empty interner hashing with `seed`.
    pub fn new(seed: u64) -> Self {
        StringInterner {
            seed,
            table: HashTable::with_capacity(512),
        }
    }

    /// Returns the Lua string with these bytes, interning it if it is short.
    pub fn intern(&mut self, mc: &Mutation<'gc>, bytes: &[u8]) -> LuaString<'gc> {
        self.intern_with(mc, bytes, StringObject::new)
    }

    /// Like [`StringInterner::intern`], for a `'static` literal: a new string points to the
    /// literal instead of copying it.
    pub fn intern_static(&mut self, mc: &Mutation<'gc>, bytes: &'static [u8]) -> LuaString<'gc> {
        self.intern_with(mc, bytes, |hash, _| StringObject::new_static(hash, bytes))
    }

    fn intern_with(
        &mut self,
        mc: &Mutation<'gc>,
        bytes: &[u8],
        make: impl FnOnce(u64, &[u8]) -> StringObject,
    ) -> LuaString<'gc> {
        let hash = hash_bytes(self.seed, bytes);
        if bytes.len() > SHORT_STRING_MAX {
            return LuaString(Gc::new(mc, make(hash, bytes)));
        }
        let same = |e: &(u64, GcWeak<'gc, StringObject>)| {
            // SAFETY: a weak pointer that is not dropped points to a live `StringObject`.
            e.0 == hash && !e.1.is_dropped() && unsafe { &*e.1.as_ptr() }.bytes() == bytes
        };
        if let Some((_, w)) = self.table.find(hash, same) {
            if let Some(s) = w.upgrade(mc) {
                return LuaString(s);
            }
        }
        let s = Gc::new(mc, make(hash, bytes));
        match self.table.find_entry(hash, same) {
            Ok(mut e) => e.get_mut().1 = Gc::downgrade(s),
            Err(_) => {
                self.table
                    .insert_unique(hash, (hash, Gc::downgrade(s)), |e| e.0);
            }
        }
        LuaString(s)
    }

    /// Removes strings that the current collection found unreachable. Called in the
    /// finalization phase, before they are swept, so every remaining pointer stays valid.
    pub fn prune(&mut self, fc: &Finalization<'gc>) {
        self.table.retain(|e| !e.1.is_dropped() && !e.1.is_dead(fc));
    }

    /// Number of interned strings.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True when nothing is interned.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The hash seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gc_arena::arena::rootless_mutate;

    #[test]
    fn short_strings_are_interned_long_ones_compare_by_content() {
        rootless_mutate(|mc| {
            let mut i = StringInterner::new(1);
            let a = i.intern(mc, b"hello");
            let b = i.intern(mc, b"hello");
            assert!(Gc::ptr_eq(a.0, b.0));
            let long = vec![b'x'; 100];
            let c = i.intern(mc, &long);
            let d = i.intern(mc, &long);
            assert!(!Gc::ptr_eq(c.0, d.0));
            assert!(c == d);
            assert!(a != c);
            assert_eq!(i.len(), 1);
        });
    }

    #[test]
    fn hash_depends_on_content_and_seed() {
        assert_eq!(hash_bytes(1, b"abc"), hash_bytes(1, b"abc"));
        assert_ne!(hash_bytes(1, b"abc"), hash_bytes(1, b"abd"));
        assert_ne!(hash_bytes(1, b"abc"), hash_bytes(2, b"abc"));
    }
}
