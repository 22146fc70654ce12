//! The metamethod events (C Lua's `ltm.h` TMS): their numbers (OP_MMBIN's C operand) and
//! names. A leaf module: the compiler, the chunk verifier and the VM all use it.

/// The metamethods, in `ltm.h` order (OP_MMBIN's C operand is this number), followed by
/// the names the libraries look up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum Metamethod {
    Index,
    NewIndex,
    Gc,
    Mode,
    Len,
    Eq,
    Add,
    Sub,
    Mul,
    Mod,
    Pow,
    Div,
    IDiv,
    BAnd,
    BOr,
    BXor,
    Shl,
    Shr,
    Unm,
    BNot,
    Lt,
    Le,
    Concat,
    Call,
    Close,
    ToString,
    Name,
    Metatable,
    Pairs,
}

/// The metamethod names, indexed by [`Metamethod`].
pub const METAMETHOD_NAMES: [&str; 29] = [
    "__index",
    "__newindex",
    "__gc",
    "__mode",
    "__len",
    "__eq",
    "__add",
    "__sub",
    "__mul",
    "__mod",
    "__pow",
    "__div",
    "__idiv",
    "__band",
    "__bor",
    "__bxor",
    "__shl",
    "__shr",
    "__unm",
    "__bnot",
    "__lt",
    "__le",
    "__concat",
    "__call",
    "__close",
    "__tostring",
    "__name",
    "__metatable",
    "__pairs",
];

impl Metamethod {
    /// The metamethod with `ltm.h` number `n`.
    pub fn from_u32(n: u32) -> Option<Metamethod> {
        use Metamethod::*;
        const ALL: [Metamethod; 29] = [
            Index, NewIndex, Gc, Mode, Len, Eq, Add, Sub, Mul, Mod, Pow, Div, IDiv, BAnd, BOr,
            BXor, Shl, Shr, Unm, BNot, Lt, Le, Concat, Call, Close, ToString, Name, Metatable,
            Pairs,
        ];
        ALL.get(n as usize).copied()
    }

    /// The name without the leading underscores, as in "perform 'add'" messages.
    pub fn name(self) -> &'static str {
        &METAMETHOD_NAMES[self as usize][2..]
    }
}
