//! The parser (`lparser.c`): one pass over the tokens, generating code as it goes.

use std::collections::HashMap;
use std::rc::Rc;

use crate::opcode::{OpCode, LFIELDS_PER_FLUSH, MAXARG_BX};
use crate::proto::{LocalVar, Proto, UpvalueDesc, VarKind};

use super::code::{BinOpr, BlockCnt, ExpDesc, ExpKind, FuncState, KValue, UnOpr, NO_JUMP};
use super::expr::exp_info;
use super::lexer::{token_to_str, LexError, Lexer, Token};

/// Parser result.
pub type PResult<T> = Result<T, LexError>;

/// Most local variables per function.
const MAXVARS: usize = 200;
/// Most upvalues per function.
const MAXUPVAL: usize = 255;
/// Deepest nesting of syntactic constructs (C Lua's `LUAI_MAXCCALLS`).
const MAXLEVEL: u32 = 200;

/// An active local variable (`Vardesc`).
#[derive(Clone, Debug)]
pub struct VarDesc {
    /// Its kind.
    pub kind: VarKind,
    /// Register holding it.
    pub ridx: u32,
    /// Index in the prototype's debug variables.
    pub pidx: i32,
    /// Name (pool id).
    pub name: u32,
    /// Value, for compile-time constants.
    pub k: Option<KValue>,
}

#[derive(Clone, Debug)]
struct LabelDesc {
    name: u32,
    pc: u32,
    line: u32,
    nactvar: u32,
    close: bool,
}

/// The parser state.
pub struct Parser<'a> {
    /// The lexer.
    pub lex: Lexer<'a>,
    /// The function being compiled.
    pub fs: FuncState,
    /// Enclosing functions, outermost first.
    fs_stack: Vec<FuncState>,
    /// Active variables of all open functions (only the first `nact` are live; entries past
    /// it keep their last values, which `reglevel` may still read, as in C Lua).
    pub actvar: Vec<VarDesc>,
    nact: usize,
    gotos: Vec<LabelDesc>,
    labels: Vec<LabelDesc>,
    /// Interned strings (names and string literals).
    pub pool: Vec<Rc<[u8]>>,
    pool_map: HashMap<Vec<u8>, u32>,
    level: u32,
    source: Rc<[u8]>,
    env_name: u32,
    break_name: u32,
}

fn binopr(t: &Token) -> Option<BinOpr> {
    Some(match t {
        Token::Char(b'+') => BinOpr::Add,
        Token::Char(b'-') => BinOpr::Sub,
        Token::Char(b'*') => BinOpr::Mul,
        Token::Char(b'%') => BinOpr::Mod,
        Token::Char(b'^') => BinOpr::Pow,
        Token::Char(b'/') => BinOpr::Div,
        Token::IDiv => BinOpr::IDiv,
        Token::Char(b'&') => BinOpr::BAnd,
        Token::Char(b'|') => BinOpr::BOr,
        Token::Char(b'~') => BinOpr::BXor,
        Token::Shl => BinOpr::Shl,
        Token::Shr => BinOpr::Shr,
        Token::Concat => BinOpr::Concat,
        Token::Ne => BinOpr::Ne,
        Token::Eq => BinOpr::Eq,
        Token::Char(b'<') => BinOpr::Lt,
        Token::Le => BinOpr::Le,
        Token::Char(b'>') => BinOpr::Gt,
        Token::Ge => BinOpr::Ge,
        Token::And => BinOpr::And,
        Token::Or => BinOpr::Or,
        _ => return None,
    })
}

fn priority(op: BinOpr) -> (u32, u32) {
    use BinOpr::*;
    match op {
        Add | Sub => (10, 10),
        Mul | Mod => (11, 11),
        Pow => (14, 13),
        Div | IDiv => (11, 11),
        BAnd => (6, 6),
        BOr => (4, 4),
        BXor => (5, 5),
        Shl | Shr => (7, 7),
        Concat => (9, 8),
        Eq | Lt | Le | Ne | Gt | Ge => (3, 3),
        And => (2, 2),
        Or => (1, 1),
    }
}

const UNARY_PRIORITY: u32 = 12;

fn has_multret(k: ExpKind) -> bool {
    matches!(k, ExpKind::Call(_) | ExpKind::VarArg(_))
}

impl<'a> Parser<'a> {
    /// A parser over `src`.
    pub fn new(src: &'a [u8], chunk_name: &[u8]) -> Parser<'a> {
        let source: Rc<[u8]> = Rc::from(chunk_name);
        let mut p = Parser {
            lex: Lexer::new(src, chunk_name),
            fs: FuncState::new(source.clone(), 0, 0, 0),
            fs_stack: Vec::new(),
            actvar: Vec::new(),
            nact: 0,
            gotos: Vec::new(),
            labels: Vec::new(),
            pool: Vec::new(),
            pool_map: HashMap::new(),
            level: 0,
            source,
            env_name: 0,
            break_name: 0,
        };
        p.fs.last_line = 1;
        p.env_name = p.intern(b"_ENV");
        p.break_name = p.intern(b"break");
        p
    }

    /// Interns a string in the pool.
    pub fn intern(&mut self, s: &[u8]) -> u32 {
        if let Some(&i) = self.pool_map.get(s) {
            return i;
        }
        let i = self.pool.len() as u32;
        self.pool.push(Rc::from(s));
        self.pool_map.insert(s.to_vec(), i);
        i
    }

    // ----- errors and tokens -----

    /// A syntax error at the current token.
    pub fn err(&self, msg: &str) -> LexError {
        self.lex.syntax_error(msg)
    }

    /// A semantic error (no "near" part).
    fn sem_err(&self, msg: &str) -> LexError {
        self.lex.error_plain(msg)
    }

    /// Converts a code generator error message.
    pub fn cg(&self, r: Result<(), &'static str>) -> PResult<()> {
        r.map_err(|m| self.err(m))
    }

    fn next(&mut self) -> PResult<()> {
        self.lex.next()?;
        self.fs.last_line = self.lex.last_line;
        Ok(())
    }

    fn check(&self, t: &Token) -> PResult<()> {
        if &self.lex.token != t {
            return Err(self.err(&format!("{} expected", token_to_str(t))));
        }
        Ok(())
    }

    fn check_next(&mut self, t: &Token) -> PResult<()> {
        self.check(t)?;
        self.next()
    }

    fn test_next(&mut self, t: &Token) -> PResult<bool> {
        if &self.lex.token == t {
            self.next()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn check_match(&mut self, what: &Token, who: &Token, line: u32) -> PResult<()> {
        if !self.test_next(what)? {
            if line == self.lex.line {
                return Err(self.err(&format!("{} expected", token_to_str(what))));
            }
            return Err(self.err(&format!(
                "{} expected (to close {} at line {})",
                token_to_str(what),
                token_to_str(who),
                line
            )));
        }
        Ok(())
    }

    fn str_check_name(&mut self) -> PResult<u32> {
        let Token::Name(n) = &self.lex.token else {
            return Err(self.err("<name> expected"));
        };
        let n = n.clone();
        let id = self.intern(&n);
        self.next()?;
        Ok(id)
    }

    /// Starts counting syntactic levels at `c_calls` (the C-call count of the code that
    /// compiles: C Lua's parser counts its levels on the same counter).
    pub fn start_level(&mut self, c_calls: u32) {
        self.level = c_calls;
    }

    fn enter_level(&mut self) -> PResult<()> {
        self.level += 1;
        if self.level >= MAXLEVEL || !crate::native_stack::has_room() {
            return Err(self.err_limit_c());
        }
        Ok(())
    }

    /// C Lua's `luaE_checkcstack` at the limit: a plain runtime error, no position.
    fn err_limit_c(&self) -> LexError {
        LexError {
            message: b"C stack overflow".to_vec(),
            at_eof: false,
        }
    }

    fn leave_level(&mut self) {
        self.level -= 1;
    }

    fn error_limit(&self, limit: usize, what: &str) -> LexError {
        let line = self.fs.f.line_defined;
        let whr = if line == 0 {
            "main function".to_string()
        } else {
            format!("function at line {}", line)
        };
        self.err(&format!(
            "too many {} (limit is {}) in {}",
            what, limit, whr
        ))
    }

    // ----- registers (delegating to the function state) -----

    /// Reserves registers.
    pub fn reserve(&mut self, n: u32) -> PResult<()> {
        let r = self.fs.reserve_regs(n);
        self.cg(r)
    }

    /// Frees a register.
    pub fn free_reg(&mut self, r: u32) {
        if r >= self.fs.nvarstack {
            self.fs.freereg -= 1;
        }
    }

    /// Frees two registers in stack order.
    pub fn free_regs(&mut self, r1: u32, r2: u32) {
        if r1 > r2 {
            self.free_reg(r1);
            self.free_reg(r2);
        } else {
            self.free_reg(r2);
            self.free_reg(r1);
        }
    }

    /// `freeexp`
    pub fn fs_free_exp(&mut self, e: &ExpDesc) {
        self.fs.free_exp(e);
    }

    /// `freeexps`
    pub fn fs_free_exps(&mut self, e1: &ExpDesc, e2: &ExpDesc) {
        self.fs.free_exps(e1, e2);
    }

    /// `luaK_concat` with error conversion.
    pub fn jconcat(&mut self, l1: &mut i32, l2: i32) -> PResult<()> {
        let r = self.fs.concat(l1, l2);
        self.cg(r)
    }

    /// `luaK_patchtohere`
    pub fn patch_to_here(&mut self, list: i32) -> PResult<()> {
        let r = self.fs.patch_to_here(list);
        self.cg(r)
    }

    /// `patchlistaux`
    pub fn patch_list_aux(&mut self, list: i32, vt: u32, reg: u32, dt: u32) -> PResult<()> {
        let r = self.fs.patch_list_aux(list, vt, reg, dt);
        self.cg(r)
    }

    fn patch_list(&mut self, list: i32, target: u32) -> PResult<()> {
        let r = self.fs.patch_list(list, target);
        self.cg(r)
    }

    // ----- variables -----

    fn var_desc(&self, fs_firstlocal: usize, vidx: u32) -> &VarDesc {
        &self.actvar[fs_firstlocal + vidx as usize]
    }

    /// `reglevel`: registers used by the first `nvar` active variables.
    fn reg_level(&self, nvar: u32) -> u32 {
        let mut n = nvar;
        while n > 0 {
            n -= 1;
            let vd = self.var_desc(self.fs.firstlocal, n);
            if vd.kind != VarKind::CompileTimeConst {
                return vd.ridx + 1;
            }
        }
        0
    }

    fn update_nvarstack(&mut self) {
        self.fs.nvarstack = self.reg_level(self.fs.nactvar);
    }

    fn new_localvar(&mut self, name: u32) -> PResult<u32> {
        if self.nact + 1 - self.fs.firstlocal > MAXVARS {
            return Err(self.error_limit(MAXVARS, "local variables"));
        }
        let vd = VarDesc {
            kind: VarKind::Regular,
            ridx: 0,
            pidx: -1,
            name,
            k: None,
        };
        if self.nact < self.actvar.len() {
            self.actvar[self.nact] = vd;
        } else {
            self.actvar.push(vd);
        }
        self.nact += 1;
        Ok((self.nact - 1 - self.fs.firstlocal) as u32)
    }

    fn new_localvar_literal(&mut self, name: &[u8]) -> PResult<u32> {
        let id = self.intern(name);
        self.new_localvar(id)
    }

    fn adjust_localvars(&mut self, nvars: u32) {
        let first_reg = self.fs.nvarstack;
        for reglevel in first_reg..first_reg + nvars {
            let vidx = self.fs.nactvar;
            self.fs.nactvar += 1;
            let name = self.var_desc(self.fs.firstlocal, vidx).name;
            let pidx = self.fs.f.local_vars.len() as i32;
            self.fs.f.local_vars.push(LocalVar {
                name: self.pool[name as usize].to_vec().into_boxed_slice(),
                start_pc: self.fs.pc(),
                end_pc: 0,
            });
            let fl = self.fs.firstlocal;
            let vd = &mut self.actvar[fl + vidx as usize];
            vd.ridx = reglevel;
            vd.pidx = pidx;
        }
        self.update_nvarstack();
    }

    fn remove_vars(&mut self, tolevel: u32) {
        let n = (self.fs.nactvar - tolevel) as usize;
        self.nact -= n;
        while self.fs.nactvar > tolevel {
            self.fs.nactvar -= 1;
            let vd = &self.actvar[self.fs.firstlocal + self.fs.nactvar as usize];
            if vd.kind != VarKind::CompileTimeConst && vd.pidx >= 0 {
                let pc = self.fs.pc();
                self.fs.f.local_vars[vd.pidx as usize].end_pc = pc;
            }
        }
        self.update_nvarstack();
    }

    /// The function state at `level` (0 = current, 1 = enclosing, ...).
    fn fs_at(&self, level: usize) -> &FuncState {
        if level == 0 {
            &self.fs
        } else {
            &self.fs_stack[self.fs_stack.len() - level]
        }
    }

    fn fs_at_mut(&mut self, level: usize) -> &mut FuncState {
        if level == 0 {
            &mut self.fs
        } else {
            let n = self.fs_stack.len();
            &mut self.fs_stack[n - level]
        }
    }

    fn search_upvalue(&self, level: usize, name: u32) -> Option<u32> {
        let nm = &self.pool[name as usize];
        self.fs_at(level)
            .f
            .upvalues
            .iter()
            .position(|u| u.name.as_deref() == Some(&nm[..]))
            .map(|i| i as u32)
    }

    fn new_upvalue(&mut self, level: usize, name: u32, v: &ExpDesc) -> PResult<u32> {
        if self.fs_at(level).f.upvalues.len() + 1 > MAXUPVAL {
            let line = self.fs_at(level).f.line_defined;
            let whr = if line == 0 {
                "main function".to_string()
            } else {
                format!("function at line {}", line)
            };
            return Err(self.err(&format!(
                "too many upvalues (limit is {}) in {}",
                MAXUPVAL, whr
            )));
        }
        let (in_stack, index, kind) = match v.k {
            ExpKind::Local { ridx, vidx } => {
                let fl = self.fs_at(level + 1).firstlocal;
                (true, ridx as u8, self.var_desc(fl, vidx).kind)
            }
            ExpKind::Upval(i) => (
                false,
                i as u8,
                self.fs_at(level + 1).f.upvalues[i as usize].kind,
            ),
            _ => (false, 0, VarKind::Regular),
        };
        let nm = self.pool[name as usize].to_vec().into_boxed_slice();
        let f = self.fs_at_mut(level);
        f.f.upvalues.push(UpvalueDesc {
            name: Some(nm),
            in_stack,
            index,
            kind,
        });
        Ok((f.f.upvalues.len() - 1) as u32)
    }

    fn search_var(&self, level: usize, name: u32) -> Option<ExpKind> {
        let fs = self.fs_at(level);
        for i in (0..fs.nactvar).rev() {
            let vd = self.var_desc(fs.firstlocal, i);
            if vd.name == name {
                return Some(if vd.kind == VarKind::CompileTimeConst {
                    ExpKind::Const(fs.firstlocal as u32 + i)
                } else {
                    ExpKind::Local {
                        ridx: vd.ridx,
                        vidx: i,
                    }
                });
            }
        }
        None
    }

    fn mark_upval(&mut self, level: usize, vidx: u32) {
        let fs = self.fs_at_mut(level);
        let mut bi = fs.blocks.len() - 1;
        while fs.blocks[bi].nactvar > vidx {
            bi -= 1;
        }
        fs.blocks[bi].upval = true;
        fs.needclose = true;
    }

    fn mark_to_be_closed(&mut self) {
        let bl = self.fs.blocks.last_mut().unwrap();
        bl.upval = true;
        bl.inside_tbc = true;
        self.fs.needclose = true;
    }

    fn single_var_aux(&mut self, level: usize, name: u32, base: bool) -> PResult<ExpDesc> {
        if level > self.fs_stack.len() {
            return Ok(ExpDesc::new(ExpKind::Void));
        }
        if let Some(k) = self.search_var(level, name) {
            if let ExpKind::Local { vidx, .. } = k {
                if !base {
                    self.mark_upval(level, vidx);
                }
            }
            return Ok(ExpDesc::new(k));
        }
        let idx = match self.search_upvalue(level, name) {
            Some(i) => i,
            None => {
                let v = self.single_var_aux(level + 1, name, false)?;
                if matches!(v.k, ExpKind::Local { .. } | ExpKind::Upval(_)) {
                    self.new_upvalue(level, name, &v)?
                } else {
                    return Ok(v);
                }
            }
        };
        Ok(ExpDesc::new(ExpKind::Upval(idx)))
    }

    fn single_var(&mut self) -> PResult<ExpDesc> {
        let name = self.str_check_name()?;
        let mut var = self.single_var_aux(0, name, true)?;
        if var.k == ExpKind::Void {
            var = self.single_var_aux(0, self.env_name, true)?;
            self.exp2anyregup(&mut var)?;
            let mut key = ExpDesc::new(ExpKind::KStr(name));
            self.indexed(&mut var, &mut key)?;
        }
        Ok(var)
    }

    fn check_readonly(&self, e: &ExpDesc) -> PResult<()> {
        let name = match e.k {
            ExpKind::Const(i) => Some(self.actvar[i as usize].name),
            ExpKind::Local { vidx, .. } => {
                let vd = self.var_desc(self.fs.firstlocal, vidx);
                if vd.kind != VarKind::Regular {
                    Some(vd.name)
                } else {
                    None
                }
            }
            ExpKind::Upval(i) => {
                let u = &self.fs.f.upvalues[i as usize];
                if u.kind != VarKind::Regular {
                    let n = u.name.clone().unwrap_or_default();
                    return Err(self.sem_err(&format!(
                        "attempt to assign to const variable '{}'",
                        String::from_utf8_lossy(&n)
                    )));
                }
                None
            }
            _ => None,
        };
        if let Some(n) = name {
            return Err(self.sem_err(&format!(
                "attempt to assign to const variable '{}'",
                String::from_utf8_lossy(&self.pool[n as usize])
            )));
        }
        Ok(())
    }

    fn adjust_assign(&mut self, nvars: i32, nexps: i32, e: &mut ExpDesc) -> PResult<()> {
        let needed = nvars - nexps;
        if has_multret(e.k) {
            let extra = (needed + 1).max(0);
            self.set_returns(e, extra)?;
        } else {
            if e.k != ExpKind::Void {
                self.exp2nextreg(e)?;
            }
            if needed > 0 {
                let fr = self.fs.freereg;
                self.fs.nil(fr, needed as u32);
            }
        }
        if needed > 0 {
            self.reserve(needed as u32)?;
        } else {
            self.fs.freereg = (self.fs.freereg as i32 + needed) as u32;
        }
        Ok(())
    }

    // ----- blocks, labels, gotos -----

    fn enter_block(&mut self, is_loop: bool) {
        let inside_tbc = self.fs.blocks.last().is_some_and(|b| b.inside_tbc);
        self.fs.blocks.push(BlockCnt {
            first_label: self.labels.len(),
            first_goto: self.gotos.len(),
            nactvar: self.fs.nactvar,
            upval: false,
            is_loop,
            inside_tbc,
        });
    }

    fn new_label_entry(&mut self, is_goto: bool, name: u32, line: u32, pc: u32) -> usize {
        let l = LabelDesc {
            name,
            pc,
            line,
            nactvar: self.fs.nactvar,
            close: false,
        };
        if is_goto {
            self.gotos.push(l);
            self.gotos.len() - 1
        } else {
            self.labels.push(l);
            self.labels.len() - 1
        }
    }

    fn jump_scope_error(&self, gt: &LabelDesc) -> LexError {
        let vd = self.var_desc(self.fs.firstlocal, gt.nactvar);
        self.sem_err(&format!(
            "<goto {}> at line {} jumps into the scope of local '{}'",
            String::from_utf8_lossy(&self.pool[gt.name as usize]),
            gt.line,
            String::from_utf8_lossy(&self.pool[vd.name as usize])
        ))
    }

    fn solve_goto(&mut self, g: usize, lb: &LabelDesc) -> PResult<()> {
        let gt = self.gotos[g].clone();
        if gt.nactvar < lb.nactvar {
            return Err(self.jump_scope_error(&gt));
        }
        self.patch_list(gt.pc as i32, lb.pc)?;
        self.gotos.remove(g);
        Ok(())
    }

    fn solve_gotos(&mut self, lb: &LabelDesc) -> PResult<bool> {
        let mut i = self.fs.blocks.last().map_or(0, |b| b.first_goto);
        let mut needs_close = false;
        while i < self.gotos.len() {
            if self.gotos[i].name == lb.name {
                needs_close |= self.gotos[i].close;
                self.solve_goto(i, lb)?;
            } else {
                i += 1;
            }
        }
        Ok(needs_close)
    }

    fn create_label(&mut self, name: u32, line: u32, last: bool) -> PResult<bool> {
        let pc = self.fs.get_label();
        let l = self.new_label_entry(false, name, line, pc);
        if last {
            self.labels[l].nactvar = self.fs.blocks.last().unwrap().nactvar;
        }
        let lb = self.labels[l].clone();
        if self.solve_gotos(&lb)? {
            let lvl = self.fs.nvarstack;
            self.fs.code_abc(OpCode::Close, lvl, 0, 0);
            return Ok(true);
        }
        Ok(false)
    }

    fn move_gotos_out(&mut self, bl: &BlockCnt) {
        for i in bl.first_goto..self.gotos.len() {
            let gnact = self.gotos[i].nactvar;
            if self.reg_level(gnact) > self.reg_level(bl.nactvar) {
                self.gotos[i].close |= bl.upval;
            }
            self.gotos[i].nactvar = bl.nactvar;
        }
    }

    fn undef_goto(&self, gt: &LabelDesc) -> LexError {
        if gt.name == self.break_name {
            self.sem_err(&format!("break outside loop at line {}", gt.line))
        } else {
            self.sem_err(&format!(
                "no visible label '{}' for <goto> at line {}",
                String::from_utf8_lossy(&self.pool[gt.name as usize]),
                gt.line
            ))
        }
    }

    fn leave_block(&mut self) -> PResult<()> {
        let bl = self.fs.blocks.last().unwrap().clone();
        let stklevel = self.reg_level(bl.nactvar);
        self.remove_vars(bl.nactvar);
        let mut has_close = false;
        if bl.is_loop {
            has_close = self.create_label(self.break_name, 0, false)?;
        }
        let has_previous = self.fs.blocks.len() > 1;
        if !has_close && has_previous && bl.upval {
            self.fs.code_abc(OpCode::Close, stklevel, 0, 0);
        }
        self.fs.freereg = stklevel;
        self.labels.truncate(bl.first_label);
        self.fs.blocks.pop();
        if has_previous {
            self.move_gotos_out(&bl);
        } else if bl.first_goto < self.gotos.len() {
            return Err(self.undef_goto(&self.gotos[bl.first_goto].clone()));
        }
        Ok(())
    }

    // ----- functions -----

    fn open_func(&mut self, line: u32) {
        let mut fs = FuncState::new(self.source.clone(), line, self.nact, self.labels.len());
        fs.last_line = self.lex.last_line;
        fs.set_kcache(self.fs.take_kcache());
        let parent = std::mem::replace(&mut self.fs, fs);
        self.fs_stack.push(parent);
        self.enter_block(false);
    }

    fn close_func(&mut self) -> PResult<Proto> {
        let first = self.fs.nvarstack;
        self.fs.ret(first, 0);
        self.leave_block()?;
        let r = self.fs.finish();
        self.cg(r)?;
        let parent = self.fs_stack.pop().expect("enclosing function");
        let mut done = std::mem::replace(&mut self.fs, parent);
        self.fs.set_kcache(done.take_kcache());
        self.fs.last_line = self.lex.last_line;
        Ok(done.f)
    }

    fn set_vararg(&mut self, nparams: u32) {
        self.fs.f.is_vararg = true;
        self.fs.code_abc(OpCode::VarArgPrep, nparams, 0, 0);
    }

    fn parlist(&mut self) -> PResult<()> {
        let mut nparams = 0;
        let mut is_vararg = false;
        if self.lex.token != Token::Char(b')') {
            loop {
                match &self.lex.token {
                    Token::Name(_) => {
                        let n = self.str_check_name()?;
                        self.new_localvar(n)?;
                        nparams += 1;
                    }
                    Token::Dots => {
                        self.next()?;
                        is_vararg = true;
                    }
                    _ => return Err(self.err("<name> or '...' expected")),
                }
                if is_vararg || !self.test_next(&Token::Char(b','))? {
                    break;
                }
            }
        }
        self.adjust_localvars(nparams);
        self.fs.f.num_params = self.fs.nactvar as u8;
        if is_vararg {
            let np = self.fs.f.num_params as u32;
            self.set_vararg(np);
        }
        let n = self.fs.nactvar;
        self.reserve(n)
    }

    fn body(&mut self, is_method: bool, line: u32) -> PResult<ExpDesc> {
        self.open_func(line);
        if is_method {
            self.new_localvar_literal(b"self")?;
            self.adjust_localvars(1);
        }
        self.check_next(&Token::Char(b'('))?;
        self.parlist()?;
        self.check_next(&Token::Char(b')'))?;
        self.stat_list()?;
        self.fs.f.last_line_defined = self.lex.line;
        self.check_match(&Token::End, &Token::Function, line)?;
        let proto = self.close_func()?;
        self.fs.f.protos.push(Rc::new(proto));
        let np = self.fs.f.protos.len() as u32 - 1;
        if np > MAXARG_BX {
            return Err(self.error_limit(MAXARG_BX as usize, "functions"));
        }
        let pc = self.fs.code_abx(OpCode::Closure, 0, np);
        let mut e = ExpDesc::new(ExpKind::Reloc(pc));
        self.exp2nextreg(&mut e)?;
        Ok(e)
    }

    // ----- expressions -----

    fn explist(&mut self, v: &mut ExpDesc) -> PResult<i32> {
        let mut n = 1;
        self.expr(v)?;
        while self.test_next(&Token::Char(b','))? {
            self.exp2nextreg(v)?;
            self.expr(v)?;
            n += 1;
        }
        Ok(n)
    }

    fn funcargs(&mut self, f: &mut ExpDesc, line: u32) -> PResult<()> {
        let mut args = ExpDesc::new(ExpKind::Void);
        match &self.lex.token {
            Token::Char(b'(') => {
                self.next()?;
                if self.lex.token != Token::Char(b')') {
                    self.explist(&mut args)?;
                    if has_multret(args.k) {
                        self.set_returns(&mut args, -1)?;
                    }
                }
                self.check_match(&Token::Char(b')'), &Token::Char(b'('), line)?;
            }
            Token::Char(b'{') => args = self.constructor()?,
            Token::Str(s) => {
                let id = self.intern(&s.clone());
                args = ExpDesc::new(ExpKind::KStr(id));
                self.next()?;
            }
            _ => return Err(self.err("function arguments expected")),
        }
        let base = exp_info(f);
        let nparams = if has_multret(args.k) {
            -1
        } else {
            if args.k != ExpKind::Void {
                self.exp2nextreg(&mut args)?;
            }
            self.fs.freereg as i32 - (base as i32 + 1)
        };
        let pc = self
            .fs
            .code_abc(OpCode::Call, base, (nparams + 1) as u32, 2);
        f.k = ExpKind::Call(pc);
        f.t = NO_JUMP;
        f.f = NO_JUMP;
        self.fs.fix_line(line);
        self.fs.freereg = base + 1;
        Ok(())
    }

    fn primary_exp(&mut self) -> PResult<ExpDesc> {
        match &self.lex.token {
            Token::Char(b'(') => {
                let line = self.lex.line;
                self.next()?;
                let mut v = ExpDesc::new(ExpKind::Void);
                self.expr(&mut v)?;
                self.check_match(&Token::Char(b')'), &Token::Char(b'('), line)?;
                self.discharge_vars(&mut v);
                Ok(v)
            }
            Token::Name(_) => self.single_var(),
            _ => Err(self.err("unexpected symbol")),
        }
    }

    fn code_name(&mut self) -> PResult<ExpDesc> {
        let n = self.str_check_name()?;
        Ok(ExpDesc::new(ExpKind::KStr(n)))
    }

    fn field_sel(&mut self, v: &mut ExpDesc) -> PResult<()> {
        self.exp2anyregup(v)?;
        self.next()?;
        let mut key = self.code_name()?;
        self.indexed(v, &mut key)
    }

    fn yindex(&mut self) -> PResult<ExpDesc> {
        self.next()?;
        let mut v = ExpDesc::new(ExpKind::Void);
        self.expr(&mut v)?;
        self.exp2val(&mut v)?;
        self.check_next(&Token::Char(b']'))?;
        Ok(v)
    }

    fn suffixed_exp(&mut self) -> PResult<ExpDesc> {
        let mut v = self.primary_exp()?;
        loop {
            match &self.lex.token {
                Token::Char(b'.') => self.field_sel(&mut v)?,
                Token::Char(b'[') => {
                    self.exp2anyregup(&mut v)?;
                    let mut key = self.yindex()?;
                    self.indexed(&mut v, &mut key)?;
                }
                Token::Char(b':') => {
                    self.next()?;
                    let mut key = self.code_name()?;
                    self.code_self(&mut v, &mut key)?;
                    // A call's line is the line of its arguments (5.4.8 `funcargs`).
                    let line = self.lex.line;
                    self.funcargs(&mut v, line)?;
                }
                Token::Char(b'(') | Token::Str(_) | Token::Char(b'{') => {
                    self.exp2nextreg(&mut v)?;
                    let line = self.lex.line;
                    self.funcargs(&mut v, line)?;
                }
                _ => return Ok(v),
            }
        }
    }

    fn simple_exp(&mut self) -> PResult<ExpDesc> {
        let v = match self.lex.token.clone() {
            Token::Flt(f) => ExpDesc::new(ExpKind::KFlt(f)),
            Token::Int(i) => ExpDesc::new(ExpKind::KInt(i)),
            Token::Str(s) => {
                let id = self.intern(&s);
                ExpDesc::new(ExpKind::KStr(id))
            }
            Token::Nil => ExpDesc::new(ExpKind::Nil),
            Token::True => ExpDesc::new(ExpKind::True),
            Token::False => ExpDesc::new(ExpKind::False),
            Token::Dots => {
                if !self.fs.f.is_vararg {
                    return Err(self.err("cannot use '...' outside a vararg function"));
                }
                let pc = self.fs.code_abc(OpCode::VarArg, 0, 0, 1);
                ExpDesc::new(ExpKind::VarArg(pc))
            }
            Token::Char(b'{') => return self.constructor(),
            Token::Function => {
                self.next()?;
                let line = self.lex.line;
                return self.body(false, line);
            }
            _ => return self.suffixed_exp(),
        };
        self.next()?;
        Ok(v)
    }

    fn subexpr(&mut self, v: &mut ExpDesc, limit: u32) -> PResult<Option<BinOpr>> {
        self.enter_level()?;
        let uop = match self.lex.token {
            Token::Not => Some(UnOpr::Not),
            Token::Char(b'-') => Some(UnOpr::Minus),
            Token::Char(b'~') => Some(UnOpr::BNot),
            Token::Char(b'#') => Some(UnOpr::Len),
            _ => None,
        };
        if let Some(uop) = uop {
            let line = self.lex.line;
            self.next()?;
            self.subexpr(v, UNARY_PRIORITY)?;
            self.prefix(uop, v, line)?;
        } else {
            *v = self.simple_exp()?;
        }
        let mut op = binopr(&self.lex.token);
        while let Some(o) = op {
            if priority(o).0 <= limit {
                break;
            }
            let line = self.lex.line;
            self.next()?;
            self.infix(o, v)?;
            let mut v2 = ExpDesc::new(ExpKind::Void);
            let nextop = self.subexpr(&mut v2, priority(o).1)?;
            self.posfix(o, v, &mut v2, line)?;
            op = nextop;
        }
        self.leave_level();
        Ok(op)
    }

    /// `expr`
    pub fn expr(&mut self, v: &mut ExpDesc) -> PResult<()> {
        self.subexpr(v, 0).map(|_| ())
    }

    // ----- table constructors -----

    fn constructor(&mut self) -> PResult<ExpDesc> {
        let line = self.lex.line;
        let pc = self.fs.code_abc(OpCode::NewTable, 0, 0, 0);
        self.fs.code(crate::opcode::Instruction(0));
        let treg = self.fs.freereg;
        let t = ExpDesc::new(ExpKind::NonReloc(treg));
        self.reserve(1)?;
        let mut v = ExpDesc::new(ExpKind::Void);
        let (mut na, mut nh, mut tostore) = (0u32, 0u32, 0u32);
        self.check_next(&Token::Char(b'{'))?;
        loop {
            if self.lex.token == Token::Char(b'}') {
                break;
            }
            // closelistfield
            if v.k != ExpKind::Void {
                self.exp2nextreg(&mut v)?;
                v.k = ExpKind::Void;
                if tostore == LFIELDS_PER_FLUSH {
                    self.set_list(treg, na, tostore as i32);
                    na += tostore;
                    tostore = 0;
                }
            }
            // field
            let is_rec = match &self.lex.token {
                Token::Name(_) => self.lex.lookahead()? == &Token::Char(b'='),
                Token::Char(b'[') => true,
                _ => false,
            };
            if is_rec {
                let reg = self.fs.freereg;
                let mut key = if let Token::Name(_) = self.lex.token {
                    self.code_name()?
                } else {
                    self.yindex()?
                };
                nh += 1;
                self.check_next(&Token::Char(b'='))?;
                let mut tab = t;
                self.indexed(&mut tab, &mut key)?;
                let mut val = ExpDesc::new(ExpKind::Void);
                self.expr(&mut val)?;
                self.store_var(&tab, &mut val)?;
                self.fs.freereg = reg;
            } else {
                self.expr(&mut v)?;
                tostore += 1;
            }
            if !(self.test_next(&Token::Char(b','))? || self.test_next(&Token::Char(b';'))?) {
                break;
            }
        }
        self.check_match(&Token::Char(b'}'), &Token::Char(b'{'), line)?;
        // lastlistfield
        if tostore > 0 {
            if has_multret(v.k) {
                self.set_returns(&mut v, -1)?;
                self.set_list(treg, na, -1);
                // The last expression is not counted (unknown number of elements); `tostore`
                // (>= 1) is added back below, so this never goes below zero in the end.
                na = na.wrapping_sub(1);
            } else {
                if v.k != ExpKind::Void {
                    self.exp2nextreg(&mut v)?;
                }
                self.set_list(treg, na, tostore as i32);
            }
            na = na.wrapping_add(tostore);
        }
        self.set_table_size(pc, treg, na, nh);
        Ok(t)
    }

    // ----- statements -----

    fn block_follow(&self, with_until: bool) -> bool {
        match self.lex.token {
            Token::Else | Token::Elseif | Token::End | Token::Eos => true,
            Token::Until => with_until,
            _ => false,
        }
    }

    fn stat_list(&mut self) -> PResult<()> {
        while !self.block_follow(true) {
            if self.lex.token == Token::Return {
                return self.statement();
            }
            self.statement()?;
        }
        Ok(())
    }

    fn block(&mut self) -> PResult<()> {
        self.enter_block(false);
        self.stat_list()?;
        self.leave_block()
    }

    fn check_conflict(&mut self, lhs: &mut [ExpDesc], v: &ExpDesc) -> PResult<()> {
        let extra = self.fs.freereg;
        let mut conflict = false;
        for lh in lhs.iter_mut() {
            match lh.k {
                ExpKind::IndexUp { t, idx } if v.k == ExpKind::Upval(t) => {
                    conflict = true;
                    lh.k = ExpKind::IndexStr { t: extra, idx };
                }
                ExpKind::Indexed { t, idx }
                | ExpKind::IndexI { t, idx }
                | ExpKind::IndexStr { t, idx } => {
                    let mut nt = t;
                    let mut nidx = idx;
                    if let ExpKind::Local { ridx, .. } = v.k {
                        if t == ridx {
                            conflict = true;
                            nt = extra;
                        }
                        if matches!(lh.k, ExpKind::Indexed { .. }) && idx == ridx {
                            conflict = true;
                            nidx = extra;
                        }
                    }
                    lh.k = match lh.k {
                        ExpKind::Indexed { .. } => ExpKind::Indexed { t: nt, idx: nidx },
                        ExpKind::IndexI { .. } => ExpKind::IndexI { t: nt, idx: nidx },
                        _ => ExpKind::IndexStr { t: nt, idx: nidx },
                    };
                }
                _ => {}
            }
        }
        if conflict {
            match v.k {
                ExpKind::Local { ridx, .. } => {
                    self.fs.code_abc(OpCode::Move, extra, ridx, 0);
                }
                ExpKind::Upval(u) => {
                    self.fs.code_abc(OpCode::GetUpval, extra, u, 0);
                }
                _ => {}
            }
            self.reserve(1)?;
        }
        Ok(())
    }

    fn rest_assign(&mut self, lhs: &mut Vec<ExpDesc>, nvars: i32) -> PResult<()> {
        let last = *lhs.last().unwrap();
        let is_var = matches!(
            last.k,
            ExpKind::Local { .. }
                | ExpKind::Upval(_)
                | ExpKind::Const(_)
                | ExpKind::Indexed { .. }
                | ExpKind::IndexUp { .. }
                | ExpKind::IndexI { .. }
                | ExpKind::IndexStr { .. }
        );
        if !is_var {
            return Err(self.err("syntax error"));
        }
        self.check_readonly(&last)?;
        if self.test_next(&Token::Char(b','))? {
            let nv = self.suffixed_exp()?;
            if !matches!(
                nv.k,
                ExpKind::Indexed { .. }
                    | ExpKind::IndexUp { .. }
                    | ExpKind::IndexI { .. }
                    | ExpKind::IndexStr { .. }
            ) {
                self.check_conflict(lhs, &nv)?;
            }
            lhs.push(nv);
            self.enter_level()?;
            self.rest_assign(lhs, nvars + 1)?;
            self.leave_level();
        } else {
            self.check_next(&Token::Char(b'='))?;
            let mut e = ExpDesc::new(ExpKind::Void);
            let nexps = self.explist(&mut e)?;
            if nexps != nvars {
                self.adjust_assign(nvars, nexps, &mut e)?;
            } else {
                self.set_one_ret(&mut e);
                let var = lhs.pop().unwrap();
                return self.store_var(&var, &mut e);
            }
        }
        let var = lhs.pop().unwrap();
        let mut e = ExpDesc::new(ExpKind::NonReloc(self.fs.freereg - 1));
        self.store_var(&var, &mut e)
    }

    fn cond(&mut self) -> PResult<i32> {
        let mut v = ExpDesc::new(ExpKind::Void);
        self.expr(&mut v)?;
        if v.k == ExpKind::Nil {
            v.k = ExpKind::False;
        }
        self.go_if_true(&mut v)?;
        Ok(v.f)
    }

    fn find_label(&self, name: u32) -> Option<LabelDesc> {
        self.labels[self.fs.firstlabel..]
            .iter()
            .find(|l| l.name == name)
            .cloned()
    }

    fn goto_stat(&mut self, line: u32) -> PResult<()> {
        let name = self.str_check_name()?;
        match self.find_label(name) {
            None => {
                let j = self.fs.jump();
                self.new_label_entry(true, name, line, j);
            }
            Some(lb) => {
                let lblevel = self.reg_level(lb.nactvar);
                if self.fs.nvarstack > lblevel {
                    self.fs.code_abc(OpCode::Close, lblevel, 0, 0);
                }
                let j = self.fs.jump();
                self.patch_list(j as i32, lb.pc)?;
            }
        }
        Ok(())
    }

    fn label_stat(&mut self, name: u32, line: u32) -> PResult<()> {
        self.check_next(&Token::DbColon)?;
        while self.lex.token == Token::Char(b';') || self.lex.token == Token::DbColon {
            self.statement()?;
        }
        if let Some(lb) = self.find_label(name) {
            return Err(self.sem_err(&format!(
                "label '{}' already defined on line {}",
                String::from_utf8_lossy(&self.pool[name as usize]),
                lb.line
            )));
        }
        let last = self.block_follow(false);
        self.create_label(name, line, last)?;
        Ok(())
    }

    fn while_stat(&mut self, line: u32) -> PResult<()> {
        self.next()?;
        let whileinit = self.fs.get_label();
        let condexit = self.cond()?;
        self.enter_block(true);
        self.check_next(&Token::Do)?;
        self.block()?;
        let j = self.fs.jump();
        self.patch_list(j as i32, whileinit)?;
        self.check_match(&Token::End, &Token::While, line)?;
        self.leave_block()?;
        self.patch_to_here(condexit)
    }

    fn repeat_stat(&mut self, line: u32) -> PResult<()> {
        let repeat_init = self.fs.get_label();
        self.enter_block(true);
        self.enter_block(false);
        self.next()?;
        self.stat_list()?;
        self.check_match(&Token::Until, &Token::Repeat, line)?;
        let mut condexit = self.cond()?;
        let bl2 = self.fs.blocks.last().unwrap().clone();
        self.leave_block()?;
        if bl2.upval {
            let exit = self.fs.jump();
            self.patch_to_here(condexit)?;
            let lvl = self.reg_level(bl2.nactvar);
            self.fs.code_abc(OpCode::Close, lvl, 0, 0);
            condexit = self.fs.jump() as i32;
            self.patch_to_here(exit as i32)?;
        }
        self.patch_list(condexit, repeat_init)?;
        self.leave_block()
    }

    fn exp1(&mut self) -> PResult<()> {
        let mut e = ExpDesc::new(ExpKind::Void);
        self.expr(&mut e)?;
        self.exp2nextreg(&mut e)
    }

    fn fix_for_jump(&mut self, pc: u32, dest: u32, back: bool) -> PResult<()> {
        let mut off = dest as i64 - (pc as i64 + 1);
        if back {
            off = -off;
        }
        if off > MAXARG_BX as i64 {
            return Err(self.err("control structure too long"));
        }
        let i = self.fs.f.code[pc as usize];
        self.fs.f.code[pc as usize] = i.with_bx(off as u32);
        Ok(())
    }

    fn for_body(&mut self, base: u32, line: u32, nvars: u32, is_gen: bool) -> PResult<()> {
        self.check_next(&Token::Do)?;
        let prep = self.fs.code_abx(
            if is_gen {
                OpCode::TForPrep
            } else {
                OpCode::ForPrep
            },
            base,
            0,
        );
        self.enter_block(false);
        self.adjust_localvars(nvars);
        self.reserve(nvars)?;
        self.block()?;
        self.leave_block()?;
        let here = self.fs.get_label();
        self.fix_for_jump(prep, here, false)?;
        if is_gen {
            self.fs.code_abc(OpCode::TForCall, base, 0, nvars);
            self.fs.fix_line(line);
        }
        let endfor = self.fs.code_abx(
            if is_gen {
                OpCode::TForLoop
            } else {
                OpCode::ForLoop
            },
            base,
            0,
        );
        self.fix_for_jump(endfor, prep + 1, true)?;
        self.fs.fix_line(line);
        Ok(())
    }

    fn for_num(&mut self, varname: u32, line: u32) -> PResult<()> {
        let base = self.fs.freereg;
        self.new_localvar_literal(b"(for state)")?;
        self.new_localvar_literal(b"(for state)")?;
        self.new_localvar_literal(b"(for state)")?;
        self.new_localvar(varname)?;
        self.check_next(&Token::Char(b'='))?;
        self.exp1()?;
        self.check_next(&Token::Char(b','))?;
        self.exp1()?;
        if self.test_next(&Token::Char(b','))? {
            self.exp1()?;
        } else {
            let fr = self.fs.freereg;
            self.fs.int(fr, 1);
            self.reserve(1)?;
        }
        self.adjust_localvars(3);
        self.for_body(base, line, 1, false)
    }

    fn for_list(&mut self, indexname: u32) -> PResult<()> {
        let mut nvars = 5;
        let base = self.fs.freereg;
        for _ in 0..4 {
            self.new_localvar_literal(b"(for state)")?;
        }
        self.new_localvar(indexname)?;
        while self.test_next(&Token::Char(b','))? {
            let n = self.str_check_name()?;
            self.new_localvar(n)?;
            nvars += 1;
        }
        self.check_next(&Token::In)?;
        let line = self.lex.line;
        let mut e = ExpDesc::new(ExpKind::Void);
        let n = self.explist(&mut e)?;
        self.adjust_assign(4, n, &mut e)?;
        self.adjust_localvars(4);
        self.mark_to_be_closed();
        let r = self.fs.check_stack(3);
        self.cg(r)?;
        self.for_body(base, line, nvars - 4, true)
    }

    fn for_stat(&mut self, line: u32) -> PResult<()> {
        self.enter_block(true);
        self.next()?;
        let varname = self.str_check_name()?;
        match self.lex.token {
            Token::Char(b'=') => self.for_num(varname, line)?,
            Token::Char(b',') | Token::In => self.for_list(varname)?,
            _ => return Err(self.err("'=' or 'in' expected")),
        }
        self.check_match(&Token::End, &Token::For, line)?;
        self.leave_block()
    }

    fn test_then_block(&mut self, escapelist: &mut i32) -> PResult<()> {
        self.next()?;
        let mut v = ExpDesc::new(ExpKind::Void);
        self.expr(&mut v)?;
        self.check_next(&Token::Then)?;
        let jf = if self.lex.token == Token::Break {
            let line = self.lex.line;
            self.go_if_false(&mut v)?;
            self.next()?;
            self.enter_block(false);
            let bn = self.break_name;
            self.new_label_entry(true, bn, line, v.t as u32);
            while self.test_next(&Token::Char(b';'))? {}
            if self.block_follow(false) {
                return self.leave_block();
            }
            self.fs.jump() as i32
        } else {
            self.go_if_true(&mut v)?;
            self.enter_block(false);
            v.f
        };
        self.stat_list()?;
        self.leave_block()?;
        if self.lex.token == Token::Else || self.lex.token == Token::Elseif {
            let j = self.fs.jump();
            self.jconcat(escapelist, j as i32)?;
        }
        self.patch_to_here(jf)
    }

    fn if_stat(&mut self, line: u32) -> PResult<()> {
        let mut escapelist = NO_JUMP;
        self.test_then_block(&mut escapelist)?;
        while self.lex.token == Token::Elseif {
            self.test_then_block(&mut escapelist)?;
        }
        if self.test_next(&Token::Else)? {
            self.block()?;
        }
        self.check_match(&Token::End, &Token::If, line)?;
        self.patch_to_here(escapelist)
    }

    fn local_func(&mut self) -> PResult<()> {
        let fvar = self.fs.nactvar;
        let n = self.str_check_name()?;
        self.new_localvar(n)?;
        self.adjust_localvars(1);
        let line = self.lex.line;
        self.body(false, line)?;
        let pidx = self.var_desc(self.fs.firstlocal, fvar).pidx;
        let pc = self.fs.pc();
        self.fs.f.local_vars[pidx as usize].start_pc = pc;
        Ok(())
    }

    fn local_attribute(&mut self) -> PResult<VarKind> {
        if self.test_next(&Token::Char(b'<'))? {
            let a = self.str_check_name()?;
            self.check_next(&Token::Char(b'>'))?;
            return match &self.pool[a as usize][..] {
                b"const" => Ok(VarKind::Const),
                b"close" => Ok(VarKind::ToClose),
                other => Err(self.sem_err(&format!(
                    "unknown attribute '{}'",
                    String::from_utf8_lossy(other)
                ))),
            };
        }
        Ok(VarKind::Regular)
    }

    fn local_stat(&mut self) -> PResult<()> {
        let mut toclose: i64 = -1;
        let mut nvars = 0;
        let mut vidx;
        loop {
            let n = self.str_check_name()?;
            vidx = self.new_localvar(n)?;
            let kind = self.local_attribute()?;
            let fl = self.fs.firstlocal;
            self.actvar[fl + vidx as usize].kind = kind;
            if kind == VarKind::ToClose {
                if toclose != -1 {
                    return Err(self.sem_err("multiple to-be-closed variables in local list"));
                }
                toclose = (self.fs.nactvar + nvars) as i64;
            }
            nvars += 1;
            if !self.test_next(&Token::Char(b','))? {
                break;
            }
        }
        let mut e = ExpDesc::new(ExpKind::Void);
        let nexps = if self.test_next(&Token::Char(b'='))? {
            self.explist(&mut e)?
        } else {
            0
        };
        let fl = self.fs.firstlocal;
        let last_kind = self.actvar[fl + vidx as usize].kind;
        let kval = if nvars as i32 == nexps && last_kind == VarKind::Const {
            self.exp2const(&e)
        } else {
            None
        };
        if let Some(k) = kval {
            let vd = &mut self.actvar[fl + vidx as usize];
            vd.kind = VarKind::CompileTimeConst;
            vd.k = Some(k);
            self.adjust_localvars(nvars - 1);
            self.fs.nactvar += 1;
            self.update_nvarstack();
        } else {
            self.adjust_assign(nvars as i32, nexps, &mut e)?;
            self.adjust_localvars(nvars);
        }
        if toclose != -1 {
            self.mark_to_be_closed();
            let lvl = self.reg_level(toclose as u32);
            self.fs.code_abc(OpCode::Tbc, lvl, 0, 0);
        }
        Ok(())
    }

    fn func_stat(&mut self, line: u32) -> PResult<()> {
        self.next()?;
        let mut v = self.single_var()?;
        let mut is_method = false;
        while self.lex.token == Token::Char(b'.') {
            self.field_sel(&mut v)?;
        }
        if self.lex.token == Token::Char(b':') {
            is_method = true;
            self.field_sel(&mut v)?;
        }
        let mut b = self.body(is_method, line)?;
        self.check_readonly(&v)?;
        self.store_var(&v, &mut b)?;
        self.fs.fix_line(line);
        Ok(())
    }

    fn expr_stat(&mut self) -> PResult<()> {
        let v = self.suffixed_exp()?;
        if self.lex.token == Token::Char(b'=') || self.lex.token == Token::Char(b',') {
            let mut lhs = vec![v];
            self.rest_assign(&mut lhs, 1)
        } else {
            let ExpKind::Call(pc) = v.k else {
                return Err(self.err("syntax error"));
            };
            let i = self.fs.f.code[pc as usize];
            self.fs.f.code[pc as usize] = i.with_c(1);
            Ok(())
        }
    }

    fn ret_stat(&mut self) -> PResult<()> {
        let mut first = self.fs.nvarstack;
        let mut nret;
        if self.block_follow(true) || self.lex.token == Token::Char(b';') {
            nret = 0;
        } else {
            let mut e = ExpDesc::new(ExpKind::Void);
            nret = self.explist(&mut e)?;
            if has_multret(e.k) {
                self.set_returns(&mut e, -1)?;
                if let ExpKind::Call(pc) = e.k {
                    if nret == 1 && !self.fs.blocks.last().unwrap().inside_tbc {
                        let i = self.fs.f.code[pc as usize];
                        self.fs.f.code[pc as usize] = crate::opcode::Instruction::abc(
                            OpCode::TailCall,
                            i.a(),
                            i.b(),
                            i.c(),
                            i.k(),
                        );
                    }
                }
                nret = -1;
            } else if nret == 1 {
                first = self.exp2anyreg(&mut e)?;
            } else {
                self.exp2nextreg(&mut e)?;
                first = self.fs.nvarstack;
            }
        }
        self.fs.ret(first, nret);
        self.test_next(&Token::Char(b';'))?;
        Ok(())
    }

    fn statement(&mut self) -> PResult<()> {
        let line = self.lex.line;
        self.enter_level()?;
        match self.lex.token {
            Token::Char(b';') => self.next()?,
            Token::If => self.if_stat(line)?,
            Token::While => self.while_stat(line)?,
            Token::Do => {
                self.next()?;
                self.block()?;
                self.check_match(&Token::End, &Token::Do, line)?;
            }
            Token::For => self.for_stat(line)?,
            Token::Repeat => self.repeat_stat(line)?,
            Token::Function => self.func_stat(line)?,
            Token::Local => {
                self.next()?;
                if self.test_next(&Token::Function)? {
                    self.local_func()?;
                } else {
                    self.local_stat()?;
                }
            }
            Token::DbColon => {
                self.next()?;
                let n = self.str_check_name()?;
                self.label_stat(n, line)?;
            }
            Token::Return => {
                self.next()?;
                self.ret_stat()?;
            }
            Token::Break => {
                let l = self.lex.line;
                self.next()?;
                let j = self.fs.jump();
                let bn = self.break_name;
                self.new_label_entry(true, bn, l, j);
            }
            Token::Goto => {
                self.next()?;
                self.goto_stat(line)?;
            }
            _ => self.expr_stat()?,
        }
        self.fs.freereg = self.fs.nvarstack;
        self.leave_level();
        Ok(())
    }

    /// Parses the main chunk.
    pub fn main_func(mut self) -> PResult<Proto> {
        self.enter_block(false);
        self.set_vararg(0);
        self.fs.f.upvalues.push(UpvalueDesc {
            name: Some(b"_ENV".to_vec().into_boxed_slice()),
            in_stack: true,
            index: 0,
            kind: VarKind::Regular,
        });
        self.next()?;
        self.stat_list()?;
        self.check(&Token::Eos)?;
        let first = self.fs.nvarstack;
        self.fs.ret(first, 0);
        self.leave_block()?;
        let r = self.fs.finish();
        self.cg(r)?;
        Ok(self.fs.f)
    }
}
