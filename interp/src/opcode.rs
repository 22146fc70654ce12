//! The instruction set: Lua 5.4's opcodes and instruction encoding (`lopcodes.h`), unchanged.
//!
//! An instruction is a `u32`. Bits 0..7 hold the opcode; the other fields are laid out as in
//! PUC Lua 5.4:
//!
//! ```text
//!  iABC    C(8) | B(8) | k(1) | A(8) | Op(7)
//!  iABx        Bx(17)      | A(8) | Op(7)
//!  iAsBx      sBx(17)      | A(8) | Op(7)
//!  iAx             Ax(25)         | Op(7)
//!  isJ             sJ(25)         | Op(7)
//! ```
//!
//! Signed fields use excess-K encoding (`sBx = Bx - OFFSET_SBX`, `sJ = J - OFFSET_SJ`, `sC = C -
//! OFFSET_SC`). Every opcode means exactly what it means in Lua 5.4.8 (`lopcodes.h`, `lvm.c`),
//! so the compiler can follow `lcode.c` and the VM `lvm.c`.

/// Size of the opcode field.
pub const SIZE_OP: u32 = 7;
/// Size of the A field.
pub const SIZE_A: u32 = 8;
/// Size of the B field.
pub const SIZE_B: u32 = 8;
/// Size of the C field.
pub const SIZE_C: u32 = 8;
/// Size of the Bx field.
pub const SIZE_BX: u32 = SIZE_C + SIZE_B + 1;
/// Size of the Ax field.
pub const SIZE_AX: u32 = SIZE_BX + SIZE_A;
/// Size of the sJ field.
pub const SIZE_SJ: u32 = SIZE_BX + SIZE_A;

/// Position of the A field.
pub const POS_A: u32 = SIZE_OP;
/// Position of the k bit.
pub const POS_K: u32 = POS_A + SIZE_A;
/// Position of the B field.
pub const POS_B: u32 = POS_K + 1;
/// Position of the C field.
pub const POS_C: u32 = POS_B + SIZE_B;
/// Position of the Bx field.
pub const POS_BX: u32 = POS_K;
/// Position of the Ax field.
pub const POS_AX: u32 = POS_A;
/// Position of the sJ field.
pub const POS_SJ: u32 = POS_A;

/// Largest value of the A field.
pub const MAXARG_A: u32 = (1 << SIZE_A) - 1;
/// Largest value of the B field.
pub const MAXARG_B: u32 = (1 << SIZE_B) - 1;
/// Largest value of the C field.
pub const MAXARG_C: u32 = (1 << SIZE_C) - 1;
/// Largest value of the Bx field.
pub const MAXARG_BX: u32 = (1 << SIZE_BX) - 1;
/// Largest value of the Ax field.
pub const MAXARG_AX: u32 = (1 << SIZE_AX) - 1;
/// Largest value of the sJ field (unsigned).
pub const MAXARG_SJ: u32 = (1 << SIZE_SJ) - 1;
/// Excess-K offset of sBx.
pub const OFFSET_SBX: i32 = (MAXARG_BX >> 1) as i32;
/// Excess-K offset of sJ.
pub const OFFSET_SJ: i32 = (MAXARG_SJ >> 1) as i32;
/// Excess-K offset of sC (and sB).
pub const OFFSET_SC: i32 = (MAXARG_C >> 1) as i32;
/// Marker in `C` of OP_SETLIST / `B` of OP_NEWTABLE etc: "no register".
pub const NO_REG: u32 = MAXARG_A;
/// Number of list items to accumulate before a SETLIST instruction.
pub const LFIELDS_PER_FLUSH: u32 = 50;

macro_rules! opcodes {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// A Lua 5.4 opcode (the low 7 bits of an instruction).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        #[allow(missing_docs)]
        pub enum OpCode { $($(#[$doc])* $name,)* }

        /// Number of opcodes.
        pub const NUM_OPCODES: usize = [$(OpCode::$name,)*].len();

        impl OpCode {
            /// All opcodes, indexed by their number.
            pub const ALL: [OpCode; NUM_OPCODES] = [$(OpCode::$name,)*];
            /// The opcode's name as `luac -l` prints it (e.g. `GETTABUP`).
            pub fn name(self) -> &'static str {
                match self { $(OpCode::$name => stringify!($name),)* }
            }
        }
    };
}

opcodes! {
    /// `R[A] := R[B]`
    Move,
    /// `R[A] := sBx`
    LoadI,
    /// `R[A] := (lua_Number)sBx`
    LoadF,
    /// `R[A] := K[Bx]`
    LoadK,
    /// `R[A] := K[extra arg]`
    LoadKX,
    /// `R[A] := false`
    LoadFalse,
    /// `R[A] := false; pc++`
    LFalseSkip,
    /// `R[A] := true`
    LoadTrue,
    /// `R[A], R[A+1], ..., R[A+B] := nil`
    LoadNil,
    /// `R[A] := UpValue[B]`
    GetUpval,
    /// `UpValue[B] := R[A]`
    SetUpval,
    /// `R[A] := UpValue[B][K[C]:shortstring]`
    GetTabUp,
    /// `R[A] := R[B][R[C]]`
    GetTable,
    /// `R[A] := R[B][C]`
    GetI,
    /// `R[A] := R[B][K[C]:shortstring]`
    GetField,
    /// `UpValue[A][K[B]:shortstring] := RK(C)`
    SetTabUp,
    /// `R[A][R[B]] := RK(C)`
    SetTable,
    /// `R[A][B] := RK(C)`
    SetI,
    /// `R[A][K[B]:shortstring] := RK(C)`
    SetField,
    /// `R[A] := {}  (B: hash size log2+1, C: array size, k: EXTRAARG follows)`
    NewTable,
    /// `R[A+1] := R[B]; R[A] := R[B][RK(C):string]`
    Self_,
    /// `R[A] := R[B] + sC`
    AddI,
    /// `R[A] := R[B] + K[C]:number`
    AddK,
    /// `R[A] := R[B] - K[C]:number`
    SubK,
    /// `R[A] := R[B] * K[C]:number`
    MulK,
    /// `R[A] := R[B] % K[C]:number`
    ModK,
    /// `R[A] := R[B] ^ K[C]:number`
    PowK,
    /// `R[A] := R[B] / K[C]:number`
    DivK,
    /// `R[A] := R[B] // K[C]:number`
    IDivK,
    /// `R[A] := R[B] & K[C]:integer`
    BAndK,
    /// `R[A] := R[B] | K[C]:integer`
    BOrK,
    /// `R[A] := R[B] ~ K[C]:integer`
    BXorK,
    /// `R[A] := R[B] >> sC`
    ShrI,
    /// `R[A] := sC << R[B]`
    ShlI,
    /// `R[A] := R[B] + R[C]`
    Add,
    /// `R[A] := R[B] - R[C]`
    Sub,
    /// `R[A] := R[B] * R[C]`
    Mul,
    /// `R[A] := R[B] % R[C]`
    Mod,
    /// `R[A] := R[B] ^ R[C]`
    Pow,
    /// `R[A] := R[B] / R[C]`
    Div,
    /// `R[A] := R[B] // R[C]`
    IDiv,
    /// `R[A] := R[B] & R[C]`
    BAnd,
    /// `R[A] := R[B] | R[C]`
    BOr,
    /// `R[A] := R[B] ~ R[C]`
    BXor,
    /// `R[A] := R[B] << R[C]`
    Shl,
    /// `R[A] := R[B] >> R[C]`
    Shr,
    /// `call C metamethod over R[A] and R[B] (follows a failed arithmetic op)`
    MmBin,
    /// `call C metamethod over R[A] and sB`
    MmBinI,
    /// `call C metamethod over R[A] and K[B]`
    MmBinK,
    /// `R[A] := -R[B]`
    Unm,
    /// `R[A] := ~R[B]`
    BNot,
    /// `R[A] := not R[B]`
    Not,
    /// `R[A] := #R[B] (length operator)`
    Len,
    /// `R[A] := R[A].. ... ..R[A + B - 1]`
    Concat,
    /// `close all upvalues >= R[A]`
    Close,
    /// mark variable A "to be closed"
    Tbc,
    /// pc += sJ
    Jmp,
    /// `if ((R[A] == R[B]) ~= k) then pc++`
    Eq,
    /// `if ((R[A] <  R[B]) ~= k) then pc++`
    Lt,
    /// `if ((R[A] <= R[B]) ~= k) then pc++`
    Le,
    /// `if ((R[A] == K[B]) ~= k) then pc++`
    EqK,
    /// `if ((R[A] == sB) ~= k) then pc++`
    EqI,
    /// `if ((R[A] < sB) ~= k) then pc++`
    LtI,
    /// `if ((R[A] <= sB) ~= k) then pc++`
    LeI,
    /// `if ((R[A] > sB) ~= k) then pc++`
    GtI,
    /// `if ((R[A] >= sB) ~= k) then pc++`
    GeI,
    /// `if (not R[A] == k) then pc++`
    Test,
    /// `if (not R[B] == k) then pc++ else R[A] := R[B]`
    TestSet,
    /// `R[A], ... ,R[A+C-2] := R[A](R[A+1], ... ,R[A+B-1])`
    Call,
    /// `return R[A](R[A+1], ... ,R[A+B-1])`
    TailCall,
    /// `return R[A], ... ,R[A+B-2]`
    Return,
    /// return
    Return0,
    /// `return R[A]`
    Return1,
    /// update counters; if loop continues then pc-=Bx;
    ForLoop,
    /// `<check values and prepare counters>; if not to run then pc+=Bx+1;`
    ForPrep,
    /// `create upvalue for R[A + 3]; pc+=Bx`
    TForPrep,
    /// `R[A+4], ... ,R[A+3+C] := R[A](R[A+1], R[A+2]);`
    TForCall,
    /// `if R[A+2] ~= nil then { R[A]=R[A+2]; pc -= Bx }`
    TForLoop,
    /// `R[A][C+i] := R[A+i], 1 <= i <= B`
    SetList,
    /// `R[A] := closure(KPROTO[Bx])`
    Closure,
    /// `R[A], R[A+1], ..., R[A+C-2] = vararg`
    VarArg,
    /// (adjust vararg parameters)
    VarArgPrep,
    /// extra (larger) argument for previous opcode
    ExtraArg,
}

/// One encoded instruction, with accessors for its fields.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Instruction(pub u32);

impl Instruction {
    /// The opcode. Instructions from the compiler or a verified binary chunk always hold a valid
    /// opcode; an invalid number decodes as `ExtraArg`.
    #[inline(always)]
    pub fn opcode(self) -> OpCode {
        let n = (self.0 & ((1 << SIZE_OP) - 1)) as usize;
        if n < NUM_OPCODES {
            OpCode::ALL[n]
        } else {
            OpCode::ExtraArg
        }
    }
    /// The opcode of an instruction known to be valid (every instruction of a loaded
    /// prototype is: `FunctionProto::load` replaces invalid ones with `ExtraArg`).
    #[inline(always)]
    pub fn opcode_verified(self) -> OpCode {
        let n = (self.0 & ((1 << SIZE_OP) - 1)) as u8;
        debug_assert!((n as usize) < NUM_OPCODES);
        // SAFETY: `OpCode` is `repr(u8)` with the contiguous discriminants `0..NUM_OPCODES`,
        // and loaded code only holds opcodes in that range (checked in `FunctionProto::load`).
        unsafe { std::mem::transmute::<u8, OpCode>(n) }
    }

    /// True if the opcode field holds a valid opcode.
    pub fn is_valid(self) -> bool {
        ((self.0 & ((1 << SIZE_OP) - 1)) as usize) < NUM_OPCODES
    }

    /// Field A.
    #[inline(always)]
    pub fn a(self) -> u32 {
        (self.0 >> POS_A) & MAXARG_A
    }
    /// Field B.
    #[inline(always)]
    pub fn b(self) -> u32 {
        (self.0 >> POS_B) & MAXARG_B
    }
    /// Field B, signed (excess-K).
    #[inline(always)]
    pub fn sb(self) -> i32 {
        self.b() as i32 - OFFSET_SC
    }
    /// Field C.
    #[inline(always)]
    pub fn c(self) -> u32 {
        (self.0 >> POS_C) & MAXARG_C
    }
    /// Field C, signed (excess-K).
    #[inline(always)]
    pub fn sc(self) -> i32 {
        self.c() as i32 - OFFSET_SC
    }
    /// The k bit.
    #[inline(always)]
    pub fn k(self) -> bool {
        (self.0 >> POS_K) & 1 != 0
    }
    /// Field Bx.
    #[inline(always)]
    pub fn bx(self) -> u32 {
        (self.0 >> POS_BX) & MAXARG_BX
    }
    /// Field sBx.
    #[inline(always)]
    pub fn sbx(self) -> i32 {
        self.bx() as i32 - OFFSET_SBX
    }
    /// Field Ax.
    #[inline(always)]
    pub fn ax(self) -> u32 {
        (self.0 >> POS_AX) & MAXARG_AX
    }
    /// Field sJ.
    #[inline(always)]
    pub fn sj(self) -> i32 {
        ((self.0 >> POS_SJ) & MAXARG_SJ) as i32 - OFFSET_SJ
    }

    /// Encodes an iABC instruction.
    pub fn abc(op: OpCode, a: u32, b: u32, c: u32, k: bool) -> Self {
        Instruction(
            (op as u32) | (a << POS_A) | ((k as u32) << POS_K) | (b << POS_B) | (c << POS_C),
        )
    }
    /// Encodes an iABx instruction.
    pub fn abx(op: OpCode, a: u32, bx: u32) -> Self {
        Instruction((op as u32) | (a << POS_A) | (bx << POS_BX))
    }
    /// Encodes an iAsBx instruction.
    pub fn asbx(op: OpCode, a: u32, sbx: i32) -> Self {
        Self::abx(op, a, (sbx + OFFSET_SBX) as u32)
    }
    /// Encodes an iAx instruction.
    pub fn ax_(op: OpCode, ax: u32) -> Self {
        Instruction((op as u32) | (ax << POS_AX))
    }
    /// Encodes an isJ instruction.
    pub fn sj_(op: OpCode, sj: i32) -> Self {
        Instruction((op as u32) | (((sj + OFFSET_SJ) as u32) << POS_SJ))
    }
    /// Returns this instruction with field A replaced.
    pub fn with_a(self, a: u32) -> Self {
        Instruction((self.0 & !(MAXARG_A << POS_A)) | (a << POS_A))
    }
    /// Returns this instruction with field B replaced.
    pub fn with_b(self, b: u32) -> Self {
        Instruction((self.0 & !(MAXARG_B << POS_B)) | (b << POS_B))
    }
    /// Returns this instruction with field C replaced.
    pub fn with_c(self, c: u32) -> Self {
        Instruction((self.0 & !(MAXARG_C << POS_C)) | (c << POS_C))
    }
    /// Returns this instruction with the k bit replaced.
    pub fn with_k(self, k: bool) -> Self {
        Instruction((self.0 & !(1 << POS_K)) | ((k as u32) << POS_K))
    }
    /// Returns this instruction with field Bx replaced.
    pub fn with_bx(self, bx: u32) -> Self {
        Instruction((self.0 & !(MAXARG_BX << POS_BX)) | (bx << POS_BX))
    }
    /// Returns this instruction with field sJ replaced.
    pub fn with_sj(self, sj: i32) -> Self {
        Instruction((self.0 & !(MAXARG_SJ << POS_SJ)) | (((sj + OFFSET_SJ) as u32) << POS_SJ))
    }
}

impl std::fmt::Debug for Instruction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} A={} B={} C={} k={} Bx={}",
            self.opcode().name(),
            self.a(),
            self.b(),
            self.c(),
            self.k() as u8,
            self.bx()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let i = Instruction::abc(OpCode::Call, 3, 200, 7, true);
        assert_eq!(
            (i.opcode(), i.a(), i.b(), i.c(), i.k()),
            (OpCode::Call, 3, 200, 7, true)
        );
        let j = Instruction::asbx(OpCode::ForLoop, 5, -1234);
        assert_eq!(j.sbx(), -1234);
        let s = Instruction::sj_(OpCode::Jmp, -70000);
        assert_eq!(s.sj(), -70000);
        assert_eq!(OpCode::ExtraArg as usize, NUM_OPCODES - 1);
        assert_eq!(NUM_OPCODES, 83);
    }
}
