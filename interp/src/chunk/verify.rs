//! The bytecode verifier: proves that a prototype keeps every invariant the VM relies on
//! for unchecked access, so that code from a binary chunk can run without bounds checks in
//! the instruction loop.
//!
//! What the VM (`vm/execute.rs`, `vm/ops.rs`, `vm/call.rs`) assumes, and is checked here:
//! - every opcode is valid, the code ends with a return and nothing runs past its end: jumps,
//!   loops and skips (conditionals, `LFALSESKIP`, arithmetic over its `MMBIN*`, instructions
//!   with an `EXTRAARG`) land inside the code;
//! - register operands, and the register ranges of `LOADNIL`, `CONCAT`, calls, returns,
//!   `VARARG`, `SETLIST` and the `for` loops, lie below `max_stack_size`;
//! - constant operands (`K[Bx]`, the k-bit `RK(C)` forms, `EXTRAARG`s) index the constant
//!   table, with a string where a field name is expected, a number for arithmetic and an
//!   integer for bitwise operations;
//! - upvalue operands index the upvalues, and nested functions' upvalue descriptors name a
//!   register or an upvalue that the enclosing function has;
//! - each arithmetic instruction is followed by its `MMBIN*` (which reads the instruction
//!   before it), each conditional by a `JMP`, `LOADKX`/`NEWTABLE`/`SETLIST k` by an
//!   `EXTRAARG`, `TFORPREP` jumps to a `TFORCALL` followed by its `TFORLOOP`;
//! - an operand count of 0 (up to the stack top) follows directly, and only, an instruction
//!   that sets the top (`CALL`/`VARARG` with `C = 0`, `TAILCALL`) over registers above it;
//! - `VARARGPREP` starts exactly the variadic functions and is never jumped to;
//! - debug information is absent or has one line per instruction.

use crate::metamethod::Metamethod;
use crate::opcode::{Instruction, OpCode, NUM_OPCODES};
use crate::proto::{Constant, Proto};
use crate::value::SHORT_STRING_MAX;

/// Checks `p` and its nested functions; the error says what is wrong and where.
pub fn verify(p: &Proto) -> Result<(), String> {
    Verifier::new(p).run()?;
    for child in &p.protos {
        verify(child)?;
    }
    Ok(())
}

type Check = Result<(), String>;

/// The checks of one prototype.
struct Verifier<'a> {
    p: &'a Proto,
    /// Instructions reached other than by falling through from the previous one.
    target: Vec<bool>,
    /// The instruction being checked.
    pc: usize,
}

impl<'a> Verifier<'a> {
    fn new(p: &'a Proto) -> Self {
        Verifier {
            p,
            target: vec![false; p.code.len()],
            pc: 0,
        }
    }

    fn fail<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{what} at instruction {}", self.pc + 1))
    }

    fn run(mut self) -> Check {
        self.header()?;
        for pc in 0..self.p.code.len() {
            self.pc = pc;
            self.instruction(self.p.code[pc])?;
        }
        self.flow()
    }

    /// Sizes and the nested functions' upvalue descriptors.
    fn header(&self) -> Check {
        let p = self.p;
        match p.code.last().map(|i| i.opcode()) {
            Some(OpCode::Return | OpCode::Return0 | OpCode::Return1) => {}
            _ => return Err("code does not end with a return".into()),
        }
        if !p.line_info.is_empty() && p.line_info.len() != p.code.len() {
            return Err("line info does not match code".into());
        }
        if p.num_params > p.max_stack_size {
            return Err("more parameters than registers".into());
        }
        let starts_vararg = p.code[0].0 & 0x7f == OpCode::VarArgPrep as u32;
        if p.is_vararg != starts_vararg {
            return Err("variadic function without VARARGPREP".into());
        }
        for (n, child) in p.protos.iter().enumerate() {
            for u in &child.upvalues {
                let ok = if u.in_stack {
                    u.index < p.max_stack_size
                } else {
                    (u.index as usize) < p.upvalues.len()
                };
                if !ok {
                    return Err(format!("bad upvalue in function #{}", n + 1));
                }
            }
        }
        Ok(())
    }

    /// Control flow: no jump into `VARARGPREP` or into an instruction using the stack top.
    fn flow(&mut self) -> Check {
        for (pc, &i) in self.p.code.iter().enumerate() {
            self.pc = pc;
            if self.target[pc] && (pc == 0 && self.p.is_vararg || uses_top(i)) {
                return self.fail("jump into a call sequence");
            }
        }
        Ok(())
    }

    fn reg(&self, r: u32) -> Check {
        self.regs(r, 1)
    }

    /// Registers `first..first + n` exist.
    fn regs(&self, first: u32, n: u32) -> Check {
        if first + n > self.p.max_stack_size as u32 {
            return self.fail("register out of range");
        }
        Ok(())
    }

    fn konst(&self, k: u32) -> Result<&'a Constant, String> {
        match self.p.constants.get(k as usize) {
            Some(c) => Ok(c),
            None => self.fail("constant out of range"),
        }
    }

    /// `K[k]` is a short string (a field name).
    fn kstr(&self, k: u32) -> Check {
        match self.konst(k)? {
            Constant::String(s) if s.len() <= SHORT_STRING_MAX => Ok(()),
            _ => self.fail("field name is not a short string"),
        }
    }

    fn knum(&self, k: u32, int_only: bool) -> Check {
        match self.konst(k)? {
            Constant::Integer(_) => Ok(()),
            Constant::Float(_) if !int_only => Ok(()),
            _ => self.fail("bad constant operand"),
        }
    }

    /// `RK(C)`: a constant with the k bit, else a register.
    fn rk(&self, i: Instruction) -> Check {
        if i.k() {
            self.konst(i.c()).map(|_| ())
        } else {
            self.reg(i.c())
        }
    }

    fn upval(&self, u: u32) -> Check {
        if u as usize >= self.p.upvalues.len() {
            return self.fail("upvalue out of range");
        }
        Ok(())
    }

    /// The next instruction, which must exist and not be the last (it is skipped or read).
    fn next(&self) -> Result<Instruction, String> {
        match self.p.code.get(self.pc + 1) {
            Some(&i) if self.pc + 2 < self.p.code.len() => Ok(i),
            _ => self.fail("missing instruction"),
        }
    }

    fn next_is(&self, op: OpCode) -> Result<Instruction, String> {
        let i = self.next()?;
        if i.0 & 0x7f != op as u32 {
            return self.fail(&format!("{} expected after it", op.name()));
        }
        Ok(i)
    }

    /// A jump to `pc + 1 + offset`.
    fn jump(&mut self, offset: i64) -> Check {
        let t = self.pc as i64 + 1 + offset;
        if t < 0 || t >= self.p.code.len() as i64 {
            return self.fail("jump out of range");
        }
        self.target[t as usize] = true;
        Ok(())
    }

    /// The next instruction is skipped: control may go to `pc + 2`.
    fn skip(&mut self) -> Check {
        self.next()?;
        self.jump(1)
    }

    /// An operand count of 0 takes the values up to the top, which the previous instruction
    /// must have set, for registers from `first` on.
    fn open(&self, first: u32) -> Check {
        let prev = match self.pc.checked_sub(1).map(|pc| self.p.code[pc]) {
            Some(i) if sets_top(i) => i,
            _ => return self.fail("no open result before it"),
        };
        if prev.a() < first {
            return self.fail("open results below the registers used");
        }
        Ok(())
    }

    fn instruction(&mut self, i: Instruction) -> Check {
        if (i.0 & 0x7f) as usize >= NUM_OPCODES {
            return self.fail("invalid opcode");
        }
        use OpCode::*;
        let (a, b, c) = (i.a(), i.b(), i.c());
        match i.opcode() {
            Move | Unm | BNot | Not | Len => {
                self.reg(a)?;
                self.reg(b)
            }
            LoadI | LoadF | LoadFalse | LoadTrue | Return1 | Tbc | Close => self.reg(a),
            LFalseSkip => {
                self.reg(a)?;
                self.skip()
            }
            LoadK => {
                self.reg(a)?;
                self.konst(i.bx()).map(|_| ())
            }
            LoadKX => {
                self.reg(a)?;
                let x = self.next_is(ExtraArg)?;
                self.konst(x.ax())?;
                self.jump(1)
            }
            LoadNil => self.regs(a, b + 1),
            GetUpval | SetUpval => {
                self.reg(a)?;
                self.upval(b)
            }
            GetTabUp => {
                self.reg(a)?;
                self.upval(b)?;
                self.kstr(c)
            }
            GetTable => {
                self.reg(a)?;
                self.reg(b)?;
                self.reg(c)
            }
            GetI => {
                self.reg(a)?;
                self.reg(b)
            }
            GetField => {
                self.reg(a)?;
                self.reg(b)?;
                self.kstr(c)
            }
            SetTabUp => {
                self.upval(a)?;
                self.kstr(b)?;
                self.rk(i)
            }
            SetTable => {
                self.reg(a)?;
                self.reg(b)?;
                self.rk(i)
            }
            SetI => {
                self.reg(a)?;
                self.rk(i)
            }
            SetField => {
                self.reg(a)?;
                self.kstr(b)?;
                self.rk(i)
            }
            NewTable => {
                self.reg(a)?;
                self.next_is(ExtraArg)?;
                self.jump(1)
            }
            Self_ => {
                self.regs(a, 2)?;
                self.reg(b)?;
                // A method name may be a long string (`luaK_self` uses any RK operand).
                if i.k() {
                    self.konst(c).map(|_| ())
                } else {
                    self.reg(c)
                }
            }
            AddI | ShrI | ShlI => self.arith(i, MmBinI, None),
            AddK | SubK | MulK | ModK | PowK | DivK | IDivK => self.arith(i, MmBinK, Some(false)),
            BAndK | BOrK | BXorK => self.arith(i, MmBinK, Some(true)),
            Add | Sub | Mul | Mod | Pow | Div | IDiv | BAnd | BOr | BXor | Shl | Shr => {
                self.reg(c)?;
                self.arith(i, MmBin, None)
            }
            MmBin | MmBinI | MmBinK => self.mmbin(i),
            Concat => {
                if b < 2 {
                    return self.fail("bad concatenation");
                }
                self.regs(a, b)
            }
            Jmp => self.jump(i.sj() as i64),
            Eq | Lt | Le | TestSet => {
                self.reg(a)?;
                self.reg(b)?;
                self.conditional()
            }
            EqK => {
                self.reg(a)?;
                self.konst(b)?;
                self.conditional()
            }
            EqI | LtI | LeI | GtI | GeI | Test => {
                self.reg(a)?;
                self.conditional()
            }
            Call => {
                self.reg(a)?;
                self.args(a, b)?;
                self.results(a, c)
            }
            TailCall => {
                self.reg(a)?;
                self.args(a, b)
            }
            Return => match b {
                0 => self.open(a),
                _ => self.regs(a, b - 1),
            },
            // No value moves, but the VM takes `A` as the first result: a register or the
            // top of the frame.
            Return0 => self.regs(a, 0),
            ForLoop => {
                self.regs(a, 4)?;
                self.jump(-(i.bx() as i64))
            }
            ForPrep => {
                self.regs(a, 4)?;
                self.jump(i.bx() as i64 + 1)
            }
            TForPrep => self.tfor_prep(i),
            TForCall => {
                self.regs(a, 7)?;
                self.regs(a + 4, c)?;
                let next = self.next_is(TForLoop)?;
                if next.a() != a {
                    return self.fail("bad generic 'for'");
                }
                Ok(())
            }
            TForLoop => {
                self.regs(a, 5)?;
                self.jump(-(i.bx() as i64))
            }
            SetList => {
                self.reg(a)?;
                match b {
                    0 => self.open(a + 1)?,
                    _ => self.regs(a + 1, b)?,
                }
                if i.k() {
                    self.next_is(ExtraArg)?;
                    self.jump(1)?;
                }
                Ok(())
            }
            Closure => {
                self.reg(a)?;
                if i.bx() as usize >= self.p.protos.len() {
                    return self.fail("function index out of range");
                }
                Ok(())
            }
            VarArg => {
                if !self.p.is_vararg {
                    return self.fail("vararg outside a vararg function");
                }
                self.reg(a)?;
                self.results(a, c)
            }
            VarArgPrep => {
                if self.pc != 0 {
                    return self.fail("misplaced VARARGPREP");
                }
                Ok(())
            }
            ExtraArg => Ok(()),
        }
    }

    /// Arguments of a call: `R[A+1..A+B-1]`, or up to the top when B is 0.
    fn args(&self, a: u32, b: u32) -> Check {
        match b {
            0 => self.open(a + 1),
            _ => self.regs(a, b),
        }
    }

    /// `C - 1` results in registers from `a` (C = 0: up to the top, any number).
    fn results(&self, a: u32, c: u32) -> Check {
        match c {
            0 => Ok(()),
            _ => self.regs(a, c - 1),
        }
    }

    /// An arithmetic instruction: registers A and B, constant `K[C]` when `konst` says
    /// whether it must be an integer, and the matching `MMBIN*` after it.
    fn arith(&mut self, i: Instruction, mm: OpCode, konst: Option<bool>) -> Check {
        self.reg(i.a())?;
        self.reg(i.b())?;
        if let Some(int_only) = konst {
            self.knum(i.c(), int_only)?;
        }
        self.next_is(mm)?;
        self.jump(1)
    }

    /// `MMBIN*` follows its arithmetic instruction and names an arithmetic event.
    fn mmbin(&self, i: Instruction) -> Check {
        let prev = match self.pc.checked_sub(1) {
            Some(pc) => self.p.code[pc],
            None => return self.fail("MMBIN without arithmetic"),
        };
        let expected = match prev.opcode() {
            OpCode::AddI | OpCode::ShrI | OpCode::ShlI => OpCode::MmBinI,
            op if (OpCode::AddK as u8..=OpCode::BXorK as u8).contains(&(op as u8)) => {
                OpCode::MmBinK
            }
            op if (OpCode::Add as u8..=OpCode::Shr as u8).contains(&(op as u8)) => OpCode::MmBin,
            _ => return self.fail("MMBIN without arithmetic"),
        };
        if i.opcode() != expected {
            return self.fail("MMBIN without arithmetic");
        }
        let event = Metamethod::from_u32(i.c()).map(|m| m as u32);
        if !(Metamethod::Add as u32..=Metamethod::Shr as u32).contains(&event.unwrap_or(0)) {
            return self.fail("bad metamethod event");
        }
        self.reg(i.a())?;
        match i.opcode() {
            OpCode::MmBin => self.reg(i.b()),
            OpCode::MmBinK => self.konst(i.b()).map(|_| ()),
            _ => Ok(()),
        }
    }

    /// A test skips the `JMP` after it or falls into it.
    fn conditional(&mut self) -> Check {
        self.next_is(OpCode::Jmp)?;
        self.jump(1)
    }

    /// `TFORPREP` jumps to a `TFORCALL` over the same registers.
    fn tfor_prep(&mut self, i: Instruction) -> Check {
        self.regs(i.a(), 4)?;
        self.jump(i.bx() as i64)?;
        let call = self.p.code[self.pc + 1 + i.bx() as usize];
        if call.0 & 0x7f != OpCode::TForCall as u32 || call.a() != i.a() {
            return self.fail("bad generic 'for'");
        }
        Ok(())
    }
}

/// True if `i` leaves its results up to the stack top (an open call or vararg).
fn sets_top(i: Instruction) -> bool {
    match i.opcode() {
        OpCode::Call | OpCode::VarArg => i.c() == 0,
        OpCode::TailCall => true,
        _ => false,
    }
}

/// True if `i` reads the stack top set by the instruction before it.
fn uses_top(i: Instruction) -> bool {
    match i.opcode() {
        OpCode::Call | OpCode::TailCall | OpCode::Return | OpCode::SetList => i.b() == 0,
        _ => false,
    }
}
