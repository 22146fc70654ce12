//! Expression code generation (`lcode.c`'s expression half): discharging descriptors into
//! registers, conditionals, operators with constant folding and immediate operands.

use crate::number::{self, Number};
use crate::opcode::{Instruction, OpCode, MAXARG_B, MAXARG_C, NO_REG};

use super::code::{tm_of_binop, tonumeral, BinOpr, ExpDesc, ExpKind, KValue, UnOpr, NO_JUMP};
use super::parser::{PResult, Parser};

const MAXINDEXRK: u32 = MAXARG_B;

fn fits_c(i: i64) -> bool {
    (i as u64).wrapping_add(crate::opcode::OFFSET_SC as u64) <= MAXARG_C as u64
}

fn int2sc(i: i64) -> u32 {
    (i + crate::opcode::OFFSET_SC as i64) as u32
}

fn is_kint(e: &ExpDesc) -> bool {
    matches!(e.k, ExpKind::KInt(_)) && e.t == e.f
}

fn is_cint(e: &ExpDesc) -> bool {
    matches!(e.k, ExpKind::KInt(i) if e.t == e.f && (i as u64) <= MAXARG_C as u64)
}

fn is_scint(e: &ExpDesc) -> bool {
    matches!(e.k, ExpKind::KInt(i) if e.t == e.f && fits_c(i))
}

/// An immediate number operand (`isSCnumber`): the sC value if it fits, and whether the
/// constant is a float with an integral value (reported even when it does not fit, as C Lua's
/// `isfloat` out-parameter is).
fn is_scnumber(e: &ExpDesc) -> (Option<u32>, bool) {
    let (i, isf) = match e.k {
        ExpKind::KInt(i) => (i, false),
        ExpKind::KFlt(f) => match number::float_to_int_exact(f) {
            Some(i) => (i, true),
            None => return (None, false),
        },
        _ => return (None, false),
    };
    if e.t == e.f && fits_c(i) {
        (Some(int2sc(i)), isf)
    } else {
        (None, isf)
    }
}

fn arith_op(op: BinOpr, base: OpCode) -> OpCode {
    OpCode::ALL[op as usize - BinOpr::Add as usize + base as usize]
}

impl<'a> Parser<'a> {
    fn const_to_exp(&self, v: &KValue) -> ExpKind {
        match *v {
            KValue::Nil => ExpKind::Nil,
            KValue::Bool(true) => ExpKind::True,
            KValue::Bool(false) => ExpKind::False,
            KValue::Int(i) => ExpKind::KInt(i),
            KValue::Flt(f) => ExpKind::KFlt(f),
            KValue::Str(s) => ExpKind::KStr(s),
        }
    }

    /// The constant value of an expression, if it has one (`luaK_exp2const`).
    pub fn exp2const(&self, e: &ExpDesc) -> Option<KValue> {
        if e.t != e.f {
            return None;
        }
        match e.k {
            ExpKind::False => Some(KValue::Bool(false)),
            ExpKind::True => Some(KValue::Bool(true)),
            ExpKind::Nil => Some(KValue::Nil),
            ExpKind::KStr(s) => Some(KValue::Str(s)),
            ExpKind::Const(vidx) => self.actvar[vidx as usize].k.clone(),
            ExpKind::KInt(i) => Some(KValue::Int(i)),
            ExpKind::KFlt(f) => Some(KValue::Flt(f)),
            _ => None,
        }
    }

    fn str2k(&mut self, e: &mut ExpDesc) {
        if let ExpKind::KStr(s) = e.k {
            let k = self.fs.string_k(s, &self.pool);
            e.k = ExpKind::K(k);
        }
    }

    /// `luaK_setreturns`
    pub fn set_returns(&mut self, e: &mut ExpDesc, nresults: i32) -> PResult<()> {
        match e.k {
            ExpKind::Call(pc) => {
                let i = self.fs.f.code[pc as usize];
                self.fs.f.code[pc as usize] = i.with_c((nresults + 1) as u32);
            }
            ExpKind::VarArg(pc) => {
                let i = self.fs.f.code[pc as usize];
                let fr = self.fs.freereg;
                self.fs.f.code[pc as usize] = i.with_c((nresults + 1) as u32).with_a(fr);
                self.reserve(1)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// `luaK_setoneret`
    pub fn set_one_ret(&mut self, e: &mut ExpDesc) {
        match e.k {
            ExpKind::Call(pc) => {
                e.k = ExpKind::NonReloc(self.fs.f.code[pc as usize].a());
            }
            ExpKind::VarArg(pc) => {
                let i = self.fs.f.code[pc as usize];
                self.fs.f.code[pc as usize] = i.with_c(2);
                e.k = ExpKind::Reloc(pc);
            }
            _ => {}
        }
    }

    /// `luaK_dischargevars`
    pub fn discharge_vars(&mut self, e: &mut ExpDesc) {
        match e.k {
            ExpKind::Const(vidx) => {
                let v = self.actvar[vidx as usize].k.clone().unwrap_or(KValue::Nil);
                e.k = self.const_to_exp(&v);
            }
            ExpKind::Local { ridx, .. } => e.k = ExpKind::NonReloc(ridx),
            ExpKind::Upval(idx) => {
                let pc = self.fs.code_abc(OpCode::GetUpval, 0, idx, 0);
                e.k = ExpKind::Reloc(pc);
            }
            ExpKind::IndexUp { t, idx } => {
                let pc = self.fs.code_abc(OpCode::GetTabUp, 0, t, idx);
                e.k = ExpKind::Reloc(pc);
            }
            ExpKind::IndexI { t, idx } => {
                self.free_reg(t);
                let pc = self.fs.code_abc(OpCode::GetI, 0, t, idx);
                e.k = ExpKind::Reloc(pc);
            }
            ExpKind::IndexStr { t, idx } => {
                self.free_reg(t);
                let pc = self.fs.code_abc(OpCode::GetField, 0, t, idx);
                e.k = ExpKind::Reloc(pc);
            }
            ExpKind::Indexed { t, idx } => {
                self.free_regs(t, idx);
                let pc = self.fs.code_abc(OpCode::GetTable, 0, t, idx);
                e.k = ExpKind::Reloc(pc);
            }
            ExpKind::VarArg(_) | ExpKind::Call(_) => self.set_one_ret(e),
            _ => {}
        }
    }

    fn discharge2reg(&mut self, e: &mut ExpDesc, reg: u32) {
        self.discharge_vars(e);
        match e.k {
            ExpKind::Nil => self.fs.nil(reg, 1),
            ExpKind::False => {
                self.fs.code_abc(OpCode::LoadFalse, reg, 0, 0);
            }
            ExpKind::True => {
                self.fs.code_abc(OpCode::LoadTrue, reg, 0, 0);
            }
            ExpKind::KStr(_) => {
                self.str2k(e);
                if let ExpKind::K(k) = e.k {
                    self.fs.code_k(reg, k);
                }
            }
            ExpKind::K(k) => {
                self.fs.code_k(reg, k);
            }
            ExpKind::KFlt(f) => self.fs.float(reg, f),
            ExpKind::KInt(i) => self.fs.int(reg, i),
            ExpKind::Reloc(pc) => {
                let i = self.fs.f.code[pc as usize];
                self.fs.f.code[pc as usize] = i.with_a(reg);
            }
            ExpKind::NonReloc(r) => {
                if reg != r {
                    self.fs.code_abc(OpCode::Move, reg, r, 0);
                }
            }
            _ => return,
        }
        e.k = ExpKind::NonReloc(reg);
    }

    fn discharge2anyreg(&mut self, e: &mut ExpDesc) -> PResult<()> {
        if !matches!(e.k, ExpKind::NonReloc(_)) {
            self.reserve(1)?;
            let r = self.fs.freereg - 1;
            self.discharge2reg(e, r);
        }
        Ok(())
    }

    fn code_loadbool(&mut self, a: u32, op: OpCode) -> u32 {
        self.fs.get_label();
        self.fs.code_abc(op, a, 0, 0)
    }

    fn need_value(&self, mut list: i32) -> bool {
        while list != NO_JUMP {
            let i = self.fs.f.code[self.fs.jump_control_index(list as u32)];
            if i.opcode() != OpCode::TestSet {
                return true;
            }
            list = self.fs.get_jump(list as u32);
        }
        false
    }

    fn exp2reg(&mut self, e: &mut ExpDesc, reg: u32) -> PResult<()> {
        self.discharge2reg(e, reg);
        if let ExpKind::Jmp(pc) = e.k {
            let mut t = e.t;
            self.jconcat(&mut t, pc as i32)?;
            e.t = t;
        }
        if e.t != e.f {
            let mut p_f = NO_JUMP;
            let mut p_t = NO_JUMP;
            if self.need_value(e.t) || self.need_value(e.f) {
                let fj = if matches!(e.k, ExpKind::Jmp(_)) {
                    NO_JUMP
                } else {
                    self.fs.jump() as i32
                };
                p_f = self.code_loadbool(reg, OpCode::LFalseSkip) as i32;
                p_t = self.code_loadbool(reg, OpCode::LoadTrue) as i32;
                self.patch_to_here(fj)?;
            }
            let fin = self.fs.get_label();
            self.patch_list_aux(e.f, fin, reg, p_f as u32)?;
            self.patch_list_aux(e.t, fin, reg, p_t as u32)?;
        }
        e.f = NO_JUMP;
        e.t = NO_JUMP;
        e.k = ExpKind::NonReloc(reg);
        Ok(())
    }

    /// `luaK_exp2nextreg`
    pub fn exp2nextreg(&mut self, e: &mut ExpDesc) -> PResult<()> {
        self.discharge_vars(e);
        self.fs_free_exp(e);
        self.reserve(1)?;
        let r = self.fs.freereg - 1;
        self.exp2reg(e, r)
    }

    /// `luaK_exp2anyreg`
    pub fn exp2anyreg(&mut self, e: &mut ExpDesc) -> PResult<u32> {
        self.discharge_vars(e);
        if let ExpKind::NonReloc(r) = e.k {
            if e.t == e.f {
                return Ok(r);
            }
            if r >= self.fs.nvarstack {
                self.exp2reg(e, r)?;
                return Ok(r);
            }
        }
        self.exp2nextreg(e)?;
        match e.k {
            ExpKind::NonReloc(r) => Ok(r),
            _ => Ok(0),
        }
    }

    /// `luaK_exp2anyregup`
    pub fn exp2anyregup(&mut self, e: &mut ExpDesc) -> PResult<()> {
        if !matches!(e.k, ExpKind::Upval(_)) || e.t != e.f {
            self.exp2anyreg(e)?;
        }
        Ok(())
    }

    /// `luaK_exp2val`
    pub fn exp2val(&mut self, e: &mut ExpDesc) -> PResult<()> {
        if matches!(e.k, ExpKind::Jmp(_)) || e.t != e.f {
            self.exp2anyreg(e)?;
        } else {
            self.discharge_vars(e);
        }
        Ok(())
    }

    fn exp2k(&mut self, e: &mut ExpDesc) -> bool {
        if e.t != e.f {
            return false;
        }
        let info = match e.k {
            ExpKind::True => self.fs.bool_k(true),
            ExpKind::False => self.fs.bool_k(false),
            ExpKind::Nil => self.fs.nil_k(),
            ExpKind::KInt(i) => self.fs.int_k(i),
            ExpKind::KFlt(f) => self.fs.number_k(f),
            ExpKind::KStr(s) => self.fs.string_k(s, &self.pool),
            ExpKind::K(k) => k,
            _ => return false,
        };
        if info <= MAXINDEXRK {
            e.k = ExpKind::K(info);
            true
        } else {
            false
        }
    }

    /// `luaK_exp2RK`: true if `e` became a K operand.
    pub fn exp2rk(&mut self, e: &mut ExpDesc) -> PResult<bool> {
        if self.exp2k(e) {
            Ok(true)
        } else {
            self.exp2anyreg(e)?;
            Ok(false)
        }
    }

    fn code_abrk(&mut self, op: OpCode, a: u32, b: u32, ec: &mut ExpDesc) -> PResult<()> {
        let k = self.exp2rk(ec)?;
        let c = exp_info(ec);
        self.fs.code_abck(op, a, b, c, k);
        Ok(())
    }

    /// `luaK_storevar`
    pub fn store_var(&mut self, var: &ExpDesc, ex: &mut ExpDesc) -> PResult<()> {
        match var.k {
            ExpKind::Local { ridx, .. } => {
                self.fs_free_exp(ex);
                return self.exp2reg(ex, ridx);
            }
            ExpKind::Upval(idx) => {
                let e = self.exp2anyreg(ex)?;
                self.fs.code_abc(OpCode::SetUpval, e, idx, 0);
            }
            ExpKind::IndexUp { t, idx } => self.code_abrk(OpCode::SetTabUp, t, idx, ex)?,
            ExpKind::IndexI { t, idx } => self.code_abrk(OpCode::SetI, t, idx, ex)?,
            ExpKind::IndexStr { t, idx } => self.code_abrk(OpCode::SetField, t, idx, ex)?,
            ExpKind::Indexed { t, idx } => self.code_abrk(OpCode::SetTable, t, idx, ex)?,
            _ => {}
        }
        self.fs_free_exp(ex);
        Ok(())
    }

    /// `luaK_self`
    pub fn code_self(&mut self, e: &mut ExpDesc, key: &mut ExpDesc) -> PResult<()> {
        self.exp2anyreg(e)?;
        let ereg = exp_info(e);
        self.fs_free_exp(e);
        let base = self.fs.freereg;
        e.k = ExpKind::NonReloc(base);
        self.reserve(2)?;
        self.code_abrk(OpCode::Self_, base, ereg, key)?;
        self.fs_free_exp(key);
        Ok(())
    }

    fn negate_condition(&mut self, e: &ExpDesc) {
        if let ExpKind::Jmp(pc) = e.k {
            let idx = self.fs.jump_control_index(pc);
            let i = self.fs.f.code[idx];
            self.fs.f.code[idx] = i.with_k(!i.k());
        }
    }

    fn jump_on_cond(&mut self, e: &mut ExpDesc, cond: bool) -> PResult<u32> {
        if let ExpKind::Reloc(pc) = e.k {
            let ie = self.fs.f.code[pc as usize];
            if ie.opcode() == OpCode::Not {
                self.fs.remove_last_instruction();
                return Ok(self.fs.cond_jump(OpCode::Test, ie.b(), 0, 0, !cond));
            }
        }
        self.discharge2anyreg(e)?;
        self.fs_free_exp(e);
        let r = exp_info(e);
        Ok(self.fs.cond_jump(OpCode::TestSet, NO_REG, r, 0, cond))
    }

    /// `luaK_goiftrue`
    pub fn go_if_true(&mut self, e: &mut ExpDesc) -> PResult<()> {
        self.discharge_vars(e);
        let pc = match e.k {
            ExpKind::Jmp(pc) => {
                self.negate_condition(e);
                pc as i32
            }
            ExpKind::K(_)
            | ExpKind::KFlt(_)
            | ExpKind::KInt(_)
            | ExpKind::KStr(_)
            | ExpKind::True => NO_JUMP,
            _ => self.jump_on_cond(e, false)? as i32,
        };
        let mut f = e.f;
        self.jconcat(&mut f, pc)?;
        e.f = f;
        self.patch_to_here(e.t)?;
        e.t = NO_JUMP;
        Ok(())
    }

    /// `luaK_goiffalse`
    pub fn go_if_false(&mut self, e: &mut ExpDesc) -> PResult<()> {
        self.discharge_vars(e);
        let pc = match e.k {
            ExpKind::Jmp(pc) => pc as i32,
            ExpKind::Nil | ExpKind::False => NO_JUMP,
            _ => self.jump_on_cond(e, true)? as i32,
        };
        let mut t = e.t;
        self.jconcat(&mut t, pc)?;
        e.t = t;
        self.patch_to_here(e.f)?;
        e.f = NO_JUMP;
        Ok(())
    }

    fn code_not(&mut self, e: &mut ExpDesc) -> PResult<()> {
        match e.k {
            ExpKind::Nil | ExpKind::False => e.k = ExpKind::True,
            ExpKind::K(_)
            | ExpKind::KFlt(_)
            | ExpKind::KInt(_)
            | ExpKind::KStr(_)
            | ExpKind::True => e.k = ExpKind::False,
            ExpKind::Jmp(_) => self.negate_condition(e),
            ExpKind::Reloc(_) | ExpKind::NonReloc(_) => {
                self.discharge2anyreg(e)?;
                self.fs_free_exp(e);
                let r = exp_info(e);
                let pc = self.fs.code_abc(OpCode::Not, 0, r, 0);
                e.k = ExpKind::Reloc(pc);
            }
            _ => {}
        }
        std::mem::swap(&mut e.t, &mut e.f);
        self.fs.remove_values(e.f);
        self.fs.remove_values(e.t);
        Ok(())
    }

    fn is_kstr(&self, e: &ExpDesc) -> bool {
        match e.k {
            ExpKind::K(k) if e.t == e.f && k <= MAXARG_B => {
                matches!(&self.fs.f.constants[k as usize], crate::proto::Constant::String(s) if s.len() <= crate::value::SHORT_STRING_MAX)
            }
            _ => false,
        }
    }

    /// `luaK_indexed`: `t[k]`.
    pub fn indexed(&mut self, t: &mut ExpDesc, k: &mut ExpDesc) -> PResult<()> {
        if matches!(k.k, ExpKind::KStr(_)) {
            self.str2k(k);
        }
        if matches!(t.k, ExpKind::Upval(_)) && !self.is_kstr(k) {
            self.exp2anyreg(t)?;
        }
        if let ExpKind::Upval(u) = t.k {
            t.k = ExpKind::IndexUp {
                t: u,
                idx: exp_info(k),
            };
        } else {
            let treg = match t.k {
                ExpKind::Local { ridx, .. } => ridx,
                ExpKind::NonReloc(r) => r,
                _ => 0,
            };
            if self.is_kstr(k) {
                t.k = ExpKind::IndexStr {
                    t: treg,
                    idx: exp_info(k),
                };
            } else if is_cint(k) {
                let ExpKind::KInt(i) = k.k else {
                    unreachable!()
                };
                t.k = ExpKind::IndexI {
                    t: treg,
                    idx: i as u32,
                };
            } else {
                let r = self.exp2anyreg(k)?;
                t.k = ExpKind::Indexed { t: treg, idx: r };
            }
        }
        Ok(())
    }

    fn const_folding(&mut self, op: BinOpr, e1: &mut ExpDesc, e2: &ExpDesc) -> bool {
        let (Some(v1), Some(v2)) = (tonumeral(e1), tonumeral(e2)) else {
            return false;
        };
        if !super::code::valid_fold(op, v1, v2) {
            return false;
        }
        let r = match op {
            BinOpr::BAnd | BinOpr::BOr | BinOpr::BXor | BinOpr::Shl | BinOpr::Shr => {
                let a = match v1 {
                    Number::Int(i) => i,
                    Number::Float(f) => number::float_to_int_exact(f).unwrap_or(0),
                };
                let b = match v2 {
                    Number::Int(i) => i,
                    Number::Float(f) => number::float_to_int_exact(f).unwrap_or(0),
                };
                Number::Int(match op {
                    BinOpr::BAnd => a & b,
                    BinOpr::BOr => a | b,
                    BinOpr::BXor => a ^ b,
                    BinOpr::Shl => number::shift_left(a, b),
                    _ => number::shift_left(a, b.wrapping_neg()),
                })
            }
            _ => match crate::arith::arith_numbers(tm_of_binop(op), v1, v2) {
                Ok(r) => r,
                Err(_) => return false,
            },
        };
        match r {
            Number::Int(i) => e1.k = ExpKind::KInt(i),
            Number::Float(f) => {
                if f.is_nan() || f == 0.0 {
                    return false;
                }
                e1.k = ExpKind::KFlt(f);
            }
        }
        true
    }

    fn code_unexpval(&mut self, op: OpCode, e: &mut ExpDesc, line: u32) -> PResult<()> {
        let r = self.exp2anyreg(e)?;
        self.fs_free_exp(e);
        let pc = self.fs.code_abc(op, 0, r, 0);
        e.k = ExpKind::Reloc(pc);
        self.fs.fix_line(line);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_binexpval(
        &mut self,
        e1: &mut ExpDesc,
        e2: &ExpDesc,
        op: OpCode,
        v2: u32,
        flip: bool,
        line: u32,
        mmop: OpCode,
        event: crate::metamethod::Metamethod,
    ) -> PResult<()> {
        let v1 = self.exp2anyreg(e1)?;
        let pc = self.fs.code_abck(op, 0, v1, v2, false);
        self.fs_free_exps(e1, e2);
        e1.k = ExpKind::Reloc(pc);
        self.fs.fix_line(line);
        self.fs.code_abck(mmop, v1, v2, event as u32, flip);
        self.fs.fix_line(line);
        Ok(())
    }

    fn code_binexpval(
        &mut self,
        opr: BinOpr,
        e1: &mut ExpDesc,
        e2: &mut ExpDesc,
        line: u32,
    ) -> PResult<()> {
        let op = arith_op(opr, OpCode::Add);
        let v2 = self.exp2anyreg(e2)?;
        self.finish_binexpval(e1, e2, op, v2, false, line, OpCode::MmBin, tm_of_binop(opr))
    }

    #[allow(clippy::too_many_arguments)]
    fn code_bini(
        &mut self,
        op: OpCode,
        e1: &mut ExpDesc,
        e2: &ExpDesc,
        flip: bool,
        line: u32,
        event: crate::metamethod::Metamethod,
    ) -> PResult<()> {
        let ExpKind::KInt(i) = e2.k else {
            return Ok(());
        };
        self.finish_binexpval(e1, e2, op, int2sc(i), flip, line, OpCode::MmBinI, event)
    }

    fn code_bink(
        &mut self,
        opr: BinOpr,
        e1: &mut ExpDesc,
        e2: &ExpDesc,
        flip: bool,
        line: u32,
    ) -> PResult<()> {
        let event = tm_of_binop(opr);
        let v2 = exp_info(e2);
        let op = arith_op(opr, OpCode::AddK);
        self.finish_binexpval(e1, e2, op, v2, flip, line, OpCode::MmBinK, event)
    }

    fn finish_binexpneg(
        &mut self,
        e1: &mut ExpDesc,
        e2: &ExpDesc,
        op: OpCode,
        line: u32,
        event: crate::metamethod::Metamethod,
    ) -> PResult<bool> {
        if !is_kint(e2) {
            return Ok(false);
        }
        let ExpKind::KInt(i2) = e2.k else {
            return Ok(false);
        };
        if !(fits_c(i2) && fits_c(i2.wrapping_neg())) {
            return Ok(false);
        }
        self.finish_binexpval(e1, e2, op, int2sc(-i2), false, line, OpCode::MmBinI, event)?;
        let last = self.fs.f.code.len() - 1;
        let i = self.fs.f.code[last];
        self.fs.f.code[last] = i.with_b(int2sc(i2));
        Ok(true)
    }

    fn code_bin_nok(
        &mut self,
        opr: BinOpr,
        e1: &mut ExpDesc,
        e2: &mut ExpDesc,
        flip: bool,
        line: u32,
    ) -> PResult<()> {
        if flip {
            std::mem::swap(e1, e2);
        }
        self.code_binexpval(opr, e1, e2, line)
    }

    fn code_arith(
        &mut self,
        opr: BinOpr,
        e1: &mut ExpDesc,
        e2: &mut ExpDesc,
        flip: bool,
        line: u32,
    ) -> PResult<()> {
        if tonumeral(e2).is_some() && self.exp2k(e2) {
            self.code_bink(opr, e1, e2, flip, line)
        } else {
            self.code_bin_nok(opr, e1, e2, flip, line)
        }
    }

    fn code_commutative(
        &mut self,
        op: BinOpr,
        e1: &mut ExpDesc,
        e2: &mut ExpDesc,
        line: u32,
    ) -> PResult<()> {
        let mut flip = false;
        if tonumeral(e1).is_some() {
            std::mem::swap(e1, e2);
            flip = true;
        }
        if op == BinOpr::Add && is_scint(e2) {
            self.code_bini(
                OpCode::AddI,
                e1,
                e2,
                flip,
                line,
                crate::metamethod::Metamethod::Add,
            )
        } else {
            self.code_arith(op, e1, e2, flip, line)
        }
    }

    fn code_bitwise(
        &mut self,
        opr: BinOpr,
        e1: &mut ExpDesc,
        e2: &mut ExpDesc,
        line: u32,
    ) -> PResult<()> {
        let mut flip = false;
        if matches!(e1.k, ExpKind::KInt(_)) {
            std::mem::swap(e1, e2);
            flip = true;
        }
        if matches!(e2.k, ExpKind::KInt(_)) && self.exp2k(e2) {
            self.code_bink(opr, e1, e2, flip, line)
        } else {
            self.code_bin_nok(opr, e1, e2, flip, line)
        }
    }

    fn code_order(&mut self, opr: BinOpr, e1: &mut ExpDesc, e2: &mut ExpDesc) -> PResult<()> {
        let base =
            |o: BinOpr, b: OpCode| OpCode::ALL[o as usize - BinOpr::Lt as usize + b as usize];
        let (s2, f2) = is_scnumber(e2);
        let (r1, r2, op, isf) = if let Some(im) = s2 {
            (self.exp2anyreg(e1)?, im, base(opr, OpCode::LtI), f2)
        } else {
            let (s1, f1) = is_scnumber(e1);
            let isf = f2 || f1;
            if let Some(im) = s1 {
                (self.exp2anyreg(e2)?, im, base(opr, OpCode::GtI), isf)
            } else {
                let r1 = self.exp2anyreg(e1)?;
                let r2 = self.exp2anyreg(e2)?;
                (r1, r2, base(opr, OpCode::Lt), isf)
            }
        };
        self.fs_free_exps(e1, e2);
        let pc = self.fs.cond_jump(op, r1, r2, isf as u32, true);
        e1.k = ExpKind::Jmp(pc);
        e1.t = NO_JUMP;
        e1.f = NO_JUMP;
        Ok(())
    }

    fn code_eq(&mut self, opr: BinOpr, e1: &mut ExpDesc, e2: &mut ExpDesc) -> PResult<()> {
        if !matches!(e1.k, ExpKind::NonReloc(_)) {
            std::mem::swap(e1, e2);
        }
        let r1 = self.exp2anyreg(e1)?;
        let (s2, isf) = is_scnumber(e2);
        let (op, r2) = if let Some(im) = s2 {
            (OpCode::EqI, im)
        } else if self.exp2rk(e2)? {
            (OpCode::EqK, exp_info(e2))
        } else {
            (OpCode::Eq, self.exp2anyreg(e2)?)
        };
        self.fs_free_exps(e1, e2);
        let pc = self.fs.cond_jump(op, r1, r2, isf as u32, opr == BinOpr::Eq);
        e1.k = ExpKind::Jmp(pc);
        e1.t = NO_JUMP;
        e1.f = NO_JUMP;
        Ok(())
    }

    /// `luaK_prefix`
    pub fn prefix(&mut self, op: UnOpr, e: &mut ExpDesc, line: u32) -> PResult<()> {
        self.discharge_vars(e);
        match op {
            UnOpr::Minus | UnOpr::BNot => {
                if let Some(v) = tonumeral(e) {
                    let folded = match op {
                        UnOpr::Minus => match v {
                            Number::Int(i) => Some(ExpKind::KInt(i.wrapping_neg())),
                            Number::Float(f) if -f != 0.0 && !f.is_nan() => Some(ExpKind::KFlt(-f)),
                            _ => None,
                        },
                        _ => match v {
                            Number::Int(i) => Some(ExpKind::KInt(!i)),
                            Number::Float(f) => {
                                number::float_to_int_exact(f).map(|i| ExpKind::KInt(!i))
                            }
                        },
                    };
                    if let Some(k) = folded {
                        e.k = k;
                        return Ok(());
                    }
                }
                let opc = if op == UnOpr::Minus {
                    OpCode::Unm
                } else {
                    OpCode::BNot
                };
                self.code_unexpval(opc, e, line)
            }
            UnOpr::Len => self.code_unexpval(OpCode::Len, e, line),
            UnOpr::Not => self.code_not(e),
        }
    }

    /// `luaK_infix`
    pub fn infix(&mut self, op: BinOpr, v: &mut ExpDesc) -> PResult<()> {
        self.discharge_vars(v);
        use BinOpr::*;
        match op {
            And => self.go_if_true(v)?,
            Or => self.go_if_false(v)?,
            Concat => self.exp2nextreg(v)?,
            Add | Sub | Mul | Div | IDiv | Mod | Pow | BAnd | BOr | BXor | Shl | Shr => {
                if tonumeral(v).is_none() {
                    self.exp2anyreg(v)?;
                }
            }
            Eq | Ne => {
                if tonumeral(v).is_none() {
                    self.exp2rk(v)?;
                }
            }
            Lt | Le | Gt | Ge => {
                if is_scnumber(v).0.is_none() {
                    self.exp2anyreg(v)?;
                }
            }
        }
        Ok(())
    }

    fn code_concat(&mut self, e1: &mut ExpDesc, e2: &mut ExpDesc, line: u32) {
        if let Some(ie2) = self.fs.previous_instruction() {
            if ie2.opcode() == OpCode::Concat {
                let n = ie2.b();
                self.fs_free_exp(e2);
                let last = self.fs.f.code.len() - 1;
                self.fs.f.code[last] = ie2.with_a(exp_info(e1)).with_b(n + 1);
                return;
            }
        }
        self.fs.code_abc(OpCode::Concat, exp_info(e1), 2, 0);
        self.fs_free_exp(e2);
        self.fs.fix_line(line);
    }

    /// `luaK_posfix`
    pub fn posfix(
        &mut self,
        opr: BinOpr,
        e1: &mut ExpDesc,
        e2: &mut ExpDesc,
        line: u32,
    ) -> PResult<()> {
        self.discharge_vars(e2);
        if opr <= BinOpr::Shr && self.const_folding(opr, e1, e2) {
            return Ok(());
        }
        use BinOpr::*;
        match opr {
            And => {
                let mut f = e2.f;
                self.jconcat(&mut f, e1.f)?;
                e2.f = f;
                *e1 = *e2;
            }
            Or => {
                let mut t = e2.t;
                self.jconcat(&mut t, e1.t)?;
                e2.t = t;
                *e1 = *e2;
            }
            Concat => {
                self.exp2nextreg(e2)?;
                self.code_concat(e1, e2, line);
            }
            Add | Mul => self.code_commutative(opr, e1, e2, line)?,
            Sub => {
                if !self.finish_binexpneg(
                    e1,
                    e2,
                    OpCode::AddI,
                    line,
                    crate::metamethod::Metamethod::Sub,
                )? {
                    self.code_arith(opr, e1, e2, false, line)?;
                }
            }
            Div | IDiv | Mod | Pow => self.code_arith(opr, e1, e2, false, line)?,
            BAnd | BOr | BXor => self.code_bitwise(opr, e1, e2, line)?,
            Shl => {
                if is_scint(e1) {
                    std::mem::swap(e1, e2);
                    self.code_bini(
                        OpCode::ShlI,
                        e1,
                        e2,
                        true,
                        line,
                        crate::metamethod::Metamethod::Shl,
                    )?;
                } else if !self.finish_binexpneg(
                    e1,
                    e2,
                    OpCode::ShrI,
                    line,
                    crate::metamethod::Metamethod::Shl,
                )? {
                    self.code_binexpval(opr, e1, e2, line)?;
                }
            }
            Shr => {
                if is_scint(e2) {
                    self.code_bini(
                        OpCode::ShrI,
                        e1,
                        e2,
                        false,
                        line,
                        crate::metamethod::Metamethod::Shr,
                    )?;
                } else {
                    self.code_binexpval(opr, e1, e2, line)?;
                }
            }
            Eq | Ne => self.code_eq(opr, e1, e2)?,
            Gt | Ge => {
                std::mem::swap(e1, e2);
                let o = if opr == Gt { Lt } else { Le };
                self.code_order(o, e1, e2)?;
            }
            Lt | Le => self.code_order(opr, e1, e2)?,
        }
        Ok(())
    }

    /// `luaK_settablesize`
    pub fn set_table_size(&mut self, pc: u32, ra: u32, asize: u32, hsize: u32) {
        let rb = if hsize != 0 { ceil_log2(hsize) + 1 } else { 0 };
        let extra = asize / (MAXARG_C + 1);
        let rc = asize % (MAXARG_C + 1);
        self.fs.f.code[pc as usize] = Instruction::abc(OpCode::NewTable, ra, rb, rc, extra > 0);
        self.fs.f.code[pc as usize + 1] = Instruction::ax_(OpCode::ExtraArg, extra);
    }

    /// `luaK_setlist`
    pub fn set_list(&mut self, base: u32, nelems: u32, tostore: i32) {
        let tostore = if tostore == -1 { 0 } else { tostore as u32 };
        if nelems <= MAXARG_C {
            self.fs.code_abc(OpCode::SetList, base, tostore, nelems);
        } else {
            let extra = nelems / (MAXARG_C + 1);
            self.fs.code_abck(
                OpCode::SetList,
                base,
                tostore,
                nelems % (MAXARG_C + 1),
                true,
            );
            self.fs.code(Instruction::ax_(OpCode::ExtraArg, extra));
        }
        self.fs.freereg = base + 1;
    }
}

fn ceil_log2(x: u32) -> u32 {
    let mut l = 0;
    let mut x = x - 1;
    while x > 0 {
        l += 1;
        x >>= 1;
    }
    l
}

/// The register or constant index an expression holds (`e->u.info`).
pub fn exp_info(e: &ExpDesc) -> u32 {
    match e.k {
        ExpKind::K(i)
        | ExpKind::NonReloc(i)
        | ExpKind::Upval(i)
        | ExpKind::Jmp(i)
        | ExpKind::Reloc(i)
        | ExpKind::Call(i)
        | ExpKind::VarArg(i) => i,
        ExpKind::Local { ridx, .. } => ridx,
        _ => 0,
    }
}
