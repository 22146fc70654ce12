//! Code generation (`lcode.c`): expression descriptors, registers, constants, jump lists,
//! constant folding and instruction selection for a function being compiled.

use std::collections::HashMap;
use std::rc::Rc;

use crate::number::{self, Number};
use crate::opcode::{Instruction, OpCode, MAXARG_BX, NO_REG, OFFSET_SBX, OFFSET_SJ};
use crate::proto::{Constant, Proto};

/// End of a jump list.
pub const NO_JUMP: i32 = -1;
/// Largest number of registers a function may use.
pub const MAXREGS: u32 = 255;

/// What an expression is and where its value lives (`expdesc`'s kind and payload).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ExpKind {
    /// No value (empty expression list).
    Void,
    /// `nil`
    Nil,
    /// `true`
    True,
    /// `false`
    False,
    /// Constant `K[.0]`.
    K(u32),
    /// A float constant.
    KFlt(f64),
    /// An integer constant.
    KInt(i64),
    /// A string constant (index into the parser's string pool).
    KStr(u32),
    /// A value in a fixed register.
    NonReloc(u32),
    /// A local variable: register, index in the active variables.
    Local { ridx: u32, vidx: u32 },
    /// An upvalue.
    Upval(u32),
    /// A compile-time constant: index in the active variables.
    Const(u32),
    /// `R[t][R[idx]]`
    Indexed { t: u32, idx: u32 },
    /// `Upval[t][K[idx]]`
    IndexUp { t: u32, idx: u32 },
    /// `R[t][idx]` with an integer constant.
    IndexI { t: u32, idx: u32 },
    /// `R[t][K[idx]]` with a short string constant.
    IndexStr { t: u32, idx: u32 },
    /// A comparison; `.0` is the pc of its jump.
    Jmp(u32),
    /// A relocatable instruction at pc `.0` (its A is set later).
    Reloc(u32),
    /// A call at pc `.0`.
    Call(u32),
    /// A vararg expression at pc `.0`.
    VarArg(u32),
}

/// An expression descriptor.
#[derive(Clone, Copy, Debug)]
pub struct ExpDesc {
    /// Kind and payload.
    pub k: ExpKind,
    /// Patch list of "exit when true".
    pub t: i32,
    /// Patch list of "exit when false".
    pub f: i32,
}

impl ExpDesc {
    /// A descriptor of kind `k` with empty jump lists.
    pub fn new(k: ExpKind) -> ExpDesc {
        ExpDesc {
            k,
            t: NO_JUMP,
            f: NO_JUMP,
        }
    }
    fn has_jumps(&self) -> bool {
        self.t != self.f
    }
}

/// A constant value known at compile time.
#[derive(Clone, Debug, PartialEq)]
pub enum KValue {
    /// nil
    Nil,
    /// boolean
    Bool(bool),
    /// integer
    Int(i64),
    /// float
    Flt(f64),
    /// string (pool index)
    Str(u32),
}

/// A key of the constant cache.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum KKey {
    Nil,
    Bool(bool),
    Int(i64),
    Flt(u64),
    Str(u32),
}

/// Binary operators, in `lcode.h` order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum BinOpr {
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
    Concat,
    Eq,
    Lt,
    Le,
    Ne,
    Gt,
    Ge,
    And,
    Or,
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum UnOpr {
    Minus,
    BNot,
    Not,
    Len,
}

/// Per-block state (`BlockCnt`).
#[derive(Clone, Debug)]
pub struct BlockCnt {
    /// Index of the first label of this block.
    pub first_label: usize,
    /// Index of the first pending goto of this block.
    pub first_goto: usize,
    /// Active locals outside the block.
    pub nactvar: u32,
    /// True if some variable of the block is an upvalue.
    pub upval: bool,
    /// True if the block is a loop.
    pub is_loop: bool,
    /// True if the block is inside a to-be-closed scope.
    pub inside_tbc: bool,
}

/// The state of one function being compiled (`FuncState`).
pub struct FuncState {
    /// The prototype being built.
    pub f: Proto,
    /// Blocks, innermost last.
    pub blocks: Vec<BlockCnt>,
    /// Index of the last jump target.
    pub lasttarget: u32,
    kcache: HashMap<KKey, u32>,
    /// Index of the first active local of this function in the parser's variable list.
    pub firstlocal: usize,
    /// Index of the first label of this function.
    pub firstlabel: usize,
    /// Active local variables.
    pub nactvar: u32,
    /// First free register.
    pub freereg: u32,
    /// True if the function needs to close upvalues when returning.
    pub needclose: bool,
    /// Registers holding active locals (`luaY_nvarstack`), kept up to date by the parser.
    pub nvarstack: u32,
    /// Line where the last token was consumed (for line info).
    pub last_line: u32,
}

fn fits_bx(i: i64) -> bool {
    -(OFFSET_SBX as i64) <= i && i <= MAXARG_BX as i64 - OFFSET_SBX as i64
}

/// Operands the compiler can fold: exact integer floats for bitwise operators, nonzero
/// divisors.
pub(super) fn valid_fold(op: BinOpr, v1: Number, v2: Number) -> bool {
    use BinOpr::*;
    match op {
        BAnd | BOr | BXor | Shl | Shr => {
            let ok = |v: Number| match v {
                Number::Int(_) => true,
                Number::Float(f) => number::float_to_int_exact(f).is_some(),
            };
            ok(v1) && ok(v2)
        }
        Div | IDiv | Mod => v2.to_float() != 0.0,
        _ => true,
    }
}

pub(super) fn tm_of_binop(op: BinOpr) -> crate::metamethod::Metamethod {
    use crate::metamethod::Metamethod as M;
    match op {
        BinOpr::Add => M::Add,
        BinOpr::Sub => M::Sub,
        BinOpr::Mul => M::Mul,
        BinOpr::Mod => M::Mod,
        BinOpr::Pow => M::Pow,
        BinOpr::Div => M::Div,
        BinOpr::IDiv => M::IDiv,
        BinOpr::BAnd => M::BAnd,
        BinOpr::BOr => M::BOr,
        BinOpr::BXor => M::BXor,
        BinOpr::Shl => M::Shl,
        _ => M::Shr,
    }
}

impl FuncState {
    /// A fresh function state.
    pub fn new(
        source: Rc<[u8]>,
        line_defined: u32,
        firstlocal: usize,
        firstlabel: usize,
    ) -> FuncState {
        FuncState {
            f: Proto {
                source,
                line_defined,
                last_line_defined: 0,
                num_params: 0,
                is_vararg: false,
                max_stack_size: 2,
                code: Vec::new(),
                line_info: Vec::new(),
                constants: Vec::new(),
                upvalues: Vec::new(),
                protos: Vec::new(),
                local_vars: Vec::new(),
            },
            blocks: Vec::new(),
            lasttarget: 0,
            kcache: HashMap::new(),
            firstlocal,
            firstlabel,
            nactvar: 0,
            freereg: 0,
            needclose: false,
            nvarstack: 0,
            last_line: line_defined,
        }
    }

    /// Current pc.
    pub fn pc(&self) -> u32 {
        self.f.code.len() as u32
    }

    // ----- emitting -----

    /// Appends an instruction (with the line of the last token).
    pub fn code(&mut self, i: Instruction) -> u32 {
        self.f.code.push(i);
        self.f.line_info.push(self.last_line);
        self.pc() - 1
    }

    /// iABC with k.
    pub fn code_abck(&mut self, op: OpCode, a: u32, b: u32, c: u32, k: bool) -> u32 {
        self.code(Instruction::abc(op, a, b, c, k))
    }

    /// iABC.
    pub fn code_abc(&mut self, op: OpCode, a: u32, b: u32, c: u32) -> u32 {
        self.code_abck(op, a, b, c, false)
    }

    /// iABx.
    pub fn code_abx(&mut self, op: OpCode, a: u32, bx: u32) -> u32 {
        self.code(Instruction::abx(op, a, bx))
    }

    pub(super) fn code_asbx(&mut self, op: OpCode, a: u32, sbx: i32) -> u32 {
        self.code(Instruction::asbx(op, a, sbx))
    }

    pub(super) fn code_extraarg(&mut self, a: u32) -> u32 {
        self.code(Instruction::ax_(OpCode::ExtraArg, a))
    }

    pub(super) fn code_k(&mut self, reg: u32, k: u32) -> u32 {
        if k <= MAXARG_BX {
            self.code_abx(OpCode::LoadK, reg, k)
        } else {
            let p = self.code_abx(OpCode::LoadKX, reg, 0);
            self.code_extraarg(k);
            p
        }
    }

    /// Sets the line of the last instruction (`luaK_fixline`).
    pub fn fix_line(&mut self, line: u32) {
        if let Some(l) = self.f.line_info.last_mut() {
            *l = line;
        }
    }

    pub(super) fn remove_last_instruction(&mut self) {
        self.f.code.pop();
        self.f.line_info.pop();
    }

    pub(super) fn previous_instruction(&self) -> Option<Instruction> {
        if self.pc() > self.lasttarget {
            self.f.code.last().copied()
        } else {
            None
        }
    }

    /// `luaK_nil`: sets `n` registers from `from` to nil, merging with a previous LOADNIL.
    pub fn nil(&mut self, from: u32, n: u32) {
        let mut from = from;
        let mut l = from + n - 1;
        if let Some(prev) = self.previous_instruction() {
            if prev.opcode() == OpCode::LoadNil {
                let pfrom = prev.a();
                let pl = pfrom + prev.b();
                if (pfrom <= from && from <= pl + 1) || (from <= pfrom && pfrom <= l + 1) {
                    from = from.min(pfrom);
                    l = l.max(pl);
                    let last = self.f.code.len() - 1;
                    self.f.code[last] = prev.with_a(from).with_b(l - from);
                    return;
                }
            }
        }
        self.code_abc(OpCode::LoadNil, from, n - 1, 0);
    }

    // ----- jumps -----

    pub(super) fn get_jump(&self, pc: u32) -> i32 {
        let off = self.f.code[pc as usize].sj();
        if off == NO_JUMP {
            NO_JUMP
        } else {
            pc as i32 + 1 + off
        }
    }

    pub(super) fn fix_jump(&mut self, pc: u32, dest: u32) -> Result<(), &'static str> {
        let off = dest as i64 - (pc as i64 + 1);
        if !(-(OFFSET_SJ as i64) <= off && off <= OFFSET_SJ as i64 + 1) {
            return Err("control structure too long");
        }
        let i = self.f.code[pc as usize];
        self.f.code[pc as usize] = i.with_sj(off as i32);
        Ok(())
    }

    /// Appends jump list `l2` to `l1`.
    pub fn concat(&mut self, l1: &mut i32, l2: i32) -> Result<(), &'static str> {
        if l2 == NO_JUMP {
            return Ok(());
        }
        if *l1 == NO_JUMP {
            *l1 = l2;
            return Ok(());
        }
        let mut list = *l1;
        loop {
            let next = self.get_jump(list as u32);
            if next == NO_JUMP {
                break;
            }
            list = next;
        }
        self.fix_jump(list as u32, l2 as u32)
    }

    /// Emits a JMP to be patched later.
    pub fn jump(&mut self) -> u32 {
        self.code(Instruction::sj_(OpCode::Jmp, NO_JUMP))
    }

    /// Emits a return of `nret` values starting at `first`.
    pub fn ret(&mut self, first: u32, nret: i32) {
        let op = match nret {
            0 => OpCode::Return0,
            1 => OpCode::Return1,
            _ => OpCode::Return,
        };
        self.code_abc(op, first, (nret + 1) as u32, 0);
    }

    pub(super) fn cond_jump(&mut self, op: OpCode, a: u32, b: u32, c: u32, k: bool) -> u32 {
        self.code_abck(op, a, b, c, k);
        self.jump()
    }

    /// Marks the current pc as a jump target.
    pub fn get_label(&mut self) -> u32 {
        self.lasttarget = self.pc();
        self.pc()
    }

    pub(super) fn jump_control_index(&self, pc: u32) -> usize {
        let pc = pc as usize;
        if pc >= 1 && is_test_mode(self.f.code[pc - 1].opcode()) {
            pc - 1
        } else {
            pc
        }
    }

    pub(super) fn patch_test_reg(&mut self, node: u32, reg: u32) -> bool {
        let idx = self.jump_control_index(node);
        let i = self.f.code[idx];
        if i.opcode() != OpCode::TestSet {
            return false;
        }
        if reg != NO_REG && reg != i.b() {
            self.f.code[idx] = i.with_a(reg);
        } else {
            self.f.code[idx] = Instruction::abc(OpCode::Test, i.b(), 0, 0, i.k());
        }
        true
    }

    pub(super) fn remove_values(&mut self, mut list: i32) {
        while list != NO_JUMP {
            self.patch_test_reg(list as u32, NO_REG);
            list = self.get_jump(list as u32);
        }
    }

    pub(super) fn patch_list_aux(
        &mut self,
        mut list: i32,
        vtarget: u32,
        reg: u32,
        dtarget: u32,
    ) -> Result<(), &'static str> {
        while list != NO_JUMP {
            let next = self.get_jump(list as u32);
            if self.patch_test_reg(list as u32, reg) {
                self.fix_jump(list as u32, vtarget)?;
            } else {
                self.fix_jump(list as u32, dtarget)?;
            }
            list = next;
        }
        Ok(())
    }

    /// Points every jump of `list` to `target`.
    pub fn patch_list(&mut self, list: i32, target: u32) -> Result<(), &'static str> {
        self.patch_list_aux(list, target, NO_REG, target)
    }

    /// Points every jump of `list` here.
    pub fn patch_to_here(&mut self, list: i32) -> Result<(), &'static str> {
        let hr = self.get_label();
        self.patch_list(list, hr)
    }

    // ----- registers -----

    /// Ensures `n` more registers fit.
    pub fn check_stack(&mut self, n: u32) -> Result<(), &'static str> {
        let newstack = self.freereg + n;
        if newstack > self.f.max_stack_size as u32 {
            if newstack >= MAXREGS {
                return Err("function or expression needs too many registers");
            }
            self.f.max_stack_size = newstack as u8;
        }
        Ok(())
    }

    /// Reserves `n` registers.
    pub fn reserve_regs(&mut self, n: u32) -> Result<(), &'static str> {
        self.check_stack(n)?;
        self.freereg += n;
        Ok(())
    }

    fn free_reg(&mut self, reg: u32) {
        if reg >= self.nvarstack {
            self.freereg -= 1;
        }
    }

    /// Frees the register of a non-relocatable expression.
    pub fn free_exp(&mut self, e: &ExpDesc) {
        if let ExpKind::NonReloc(r) = e.k {
            self.free_reg(r);
        }
    }

    pub(super) fn free_exps(&mut self, e1: &ExpDesc, e2: &ExpDesc) {
        let r1 = if let ExpKind::NonReloc(r) = e1.k {
            r as i64
        } else {
            -1
        };
        let r2 = if let ExpKind::NonReloc(r) = e2.k {
            r as i64
        } else {
            -1
        };
        if r1 > r2 {
            if r1 >= 0 {
                self.free_reg(r1 as u32);
            }
            if r2 >= 0 {
                self.free_reg(r2 as u32);
            }
        } else {
            if r2 >= 0 {
                self.free_reg(r2 as u32);
            }
            if r1 >= 0 {
                self.free_reg(r1 as u32);
            }
        }
    }

    // ----- constants -----

    /// `addk`: the cache is shared by all functions of the chunk (C Lua's scanner table), so
    /// an entry is reused only if it indexes an equal constant of *this* function; otherwise
    /// a new constant is added (and the entry updated), exactly as C Lua does.
    fn add_k(&mut self, key: KKey, c: Constant) -> u32 {
        if let Some(&i) = self.kcache.get(&key) {
            if let Some(existing) = self.f.constants.get(i as usize) {
                if same_constant(existing, &c) {
                    return i;
                }
            }
        }
        let i = self.f.constants.len() as u32;
        self.f.constants.push(c);
        self.kcache.insert(key, i);
        i
    }

    /// Takes the chunk-wide constant cache (to hand it to a nested function).
    pub fn take_kcache(&mut self) -> HashMap<KKey, u32> {
        std::mem::take(&mut self.kcache)
    }

    /// Gives the chunk-wide constant cache back.
    pub fn set_kcache(&mut self, c: HashMap<KKey, u32>) {
        self.kcache = c;
    }

    /// Final pass (`luaK_finish`): return/tail-call flags, jumps to their final targets.
    pub fn finish(&mut self) -> Result<(), &'static str> {
        let np = self.f.num_params as u32;
        let vararg = self.f.is_vararg;
        for i in 0..self.f.code.len() {
            let ins = self.f.code[i];
            match ins.opcode() {
                OpCode::Return0 | OpCode::Return1 | OpCode::Return | OpCode::TailCall => {
                    let mut ins = ins;
                    if matches!(ins.opcode(), OpCode::Return0 | OpCode::Return1) {
                        if !(self.needclose || vararg) {
                            continue;
                        }
                        ins = Instruction::abc(OpCode::Return, ins.a(), ins.b(), ins.c(), ins.k());
                    }
                    if self.needclose {
                        ins = ins.with_k(true);
                    }
                    if vararg {
                        ins = ins.with_c(np + 1);
                    }
                    self.f.code[i] = ins;
                }
                OpCode::Jmp => {
                    let mut target = i;
                    for _ in 0..100 {
                        let t = self.f.code[target];
                        if t.opcode() != OpCode::Jmp {
                            break;
                        }
                        target = (target as i64 + t.sj() as i64 + 1) as usize;
                    }
                    self.fix_jump(i as u32, target as u32)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The constant index of a string from the pool.
    pub fn string_k(&mut self, id: u32, pool: &[Rc<[u8]>]) -> u32 {
        self.add_k(
            KKey::Str(id),
            Constant::String(pool[id as usize].to_vec().into_boxed_slice()),
        )
    }

    pub(super) fn int_k(&mut self, n: i64) -> u32 {
        self.add_k(KKey::Int(n), Constant::Integer(n))
    }

    pub(super) fn number_k(&mut self, r: f64) -> u32 {
        self.add_k(KKey::Flt(r.to_bits()), Constant::Float(r))
    }

    pub(super) fn bool_k(&mut self, b: bool) -> u32 {
        self.add_k(KKey::Bool(b), Constant::Boolean(b))
    }

    pub(super) fn nil_k(&mut self) -> u32 {
        self.add_k(KKey::Nil, Constant::Nil)
    }

    /// Loads integer `i` into `reg`.
    pub fn int(&mut self, reg: u32, i: i64) {
        if fits_bx(i) {
            self.code_asbx(OpCode::LoadI, reg, i as i32);
        } else {
            let k = self.int_k(i);
            self.code_k(reg, k);
        }
    }

    pub(super) fn float(&mut self, reg: u32, f: f64) {
        match number::float_to_int_exact(f) {
            Some(fi) if fits_bx(fi) => {
                self.code_asbx(OpCode::LoadF, reg, fi as i32);
            }
            _ => {
                let k = self.number_k(f);
                self.code_k(reg, k);
            }
        }
    }
}

fn same_constant(a: &Constant, b: &Constant) -> bool {
    match (a, b) {
        (Constant::Float(x), Constant::Float(y)) => x.to_bits() == y.to_bits() || x == y,
        _ => a == b,
    }
}

/// True for the opcodes followed by a jump (`testTMode`).
fn is_test_mode(op: OpCode) -> bool {
    use OpCode::*;
    matches!(
        op,
        Eq | Lt | Le | EqK | EqI | LtI | LeI | GtI | GeI | Test | TestSet
    )
}

pub(super) fn tonumeral(e: &ExpDesc) -> Option<Number> {
    if e.has_jumps() {
        return None;
    }
    match e.k {
        ExpKind::KInt(i) => Some(Number::Int(i)),
        ExpKind::KFlt(f) => Some(Number::Float(f)),
        _ => None,
    }
}
