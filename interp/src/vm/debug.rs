//! Debug information for error messages and tracebacks: current lines, variable names found
//! by symbolic execution of the bytecode (as `ldebug.c` does), and `luaL_traceback`.

use crate::compiler::chunk_id;
use crate::opcode::OpCode;
use crate::proto::Proto;
use crate::runtime::Context;
use crate::thread::{Frame, ThreadState};
use crate::value::Value;

use super::meta::{tm_of, Metamethod};
use super::ops::IndexedBy;
use super::{Error, NativeCall};

/// Information about a function activation, for `debug.getinfo` and tracebacks.
#[derive(Clone, Debug, Default)]
pub struct FunctionInfo {
    /// `source` as given to load.
    pub source: Vec<u8>,
    /// `short_src`.
    pub short_src: Vec<u8>,
    /// "Lua", "C" or "main".
    pub what: &'static str,
    /// Current line, or -1.
    pub current_line: i64,
    /// Line where the function was defined.
    pub line_defined: i64,
    /// Last line of the definition.
    pub last_line_defined: i64,
    /// How the caller named the function (`namewhat`: "global", "local", "method",
    /// "field", "upvalue", "for iterator", "metamethod"), and the name; `None` if unknown.
    pub name: Option<(&'static str, Vec<u8>)>,
    /// True if the frame was entered by a tail call.
    pub is_tail_call: bool,
}

impl FunctionInfo {
    /// The description of a native function (no frame).
    pub fn native() -> FunctionInfo {
        FunctionInfo {
            source: b"=[C]".to_vec(),
            short_src: b"[C]".to_vec(),
            what: "C",
            current_line: -1,
            line_defined: -1,
            last_line_defined: -1,
            name: None,
            is_tail_call: false,
        }
    }
}

fn current_line(p: &Proto, pc: usize) -> i64 {
    if pc == 0 {
        return p.line_info.first().map_or(-1, |&l| l as i64);
    }
    p.line_info.get(pc - 1).map_or(-1, |&l| l as i64)
}

/// `chunk:line: ` for the frame `level` frames from the top (1 = the innermost), or empty for
/// a non-Lua frame or one without line information (`luaL_where`).
pub fn where_<'gc>(_ctx: Context<'gc>, st: &ThreadState<'gc>, level: usize) -> Vec<u8> {
    match position(st, level) {
        Some((src, line)) if line > 0 => {
            let mut m = src;
            m.extend_from_slice(format!(":{line}: ").as_bytes());
            m
        }
        _ => Vec::new(),
    }
}

/// The index in `frames` of stack level `level` (1 = the innermost frame).
pub(crate) fn frame_index(st: &ThreadState<'_>, level: usize) -> Option<usize> {
    (level >= 1 && level <= st.frames.len()).then(|| st.frames.len() - level)
}

/// The number of stack levels.
pub fn stack_levels(st: &ThreadState<'_>) -> usize {
    st.frames.len()
}

/// The chunk id and current line of the frame `level` frames from the top, if a Lua frame.
fn position(st: &ThreadState<'_>, level: usize) -> Option<(Vec<u8>, i64)> {
    let f = &st.frames[frame_index(st, level)?];
    let p = &f.closure?.proto().raw;
    Some((chunk_id(&p.source), current_line(p, f.pc)))
}

/// `chunk:line: ` for the innermost frame if it is a Lua frame, even without line information
/// (`?:-1: `, as `luaG_runerror` gives for stripped code).
pub(crate) fn run_where(st: &ThreadState<'_>) -> Vec<u8> {
    match position(st, 1) {
        Some((src, line)) => {
            let mut m = src;
            m.extend_from_slice(format!(":{line}: ").as_bytes());
            m
        }
        None => Vec::new(),
    }
}

/// A runtime error with the current position prepended (`luaG_runerror`).
#[cold]
pub(crate) fn runtime_error<'gc>(
    ctx: Context<'gc>,
    st: &ThreadState<'gc>,
    msg: impl AsRef<[u8]>,
) -> Error<'gc> {
    let mut m = run_where(st);
    m.extend_from_slice(msg.as_ref());
    Error::new(Value::String(ctx.intern(&m)))
}

fn is_env(p: &Proto, pc: usize, i: crate::opcode::Instruction, is_upvalue: bool) -> bool {
    let t = i.b() as usize;
    let name = if is_upvalue {
        p.upvalues
            .get(t)
            .and_then(|u| u.name.as_deref())
            .map(|n| n.to_vec())
    } else {
        // Only a local variable or an upvalue can be the variable `_ENV`.
        let mut pc = Some(pc);
        match basic_obj_name(p, &mut pc, t) {
            Some(("local" | "upvalue", n)) => Some(n),
            _ => None,
        }
    };
    name.as_deref() == Some(b"_ENV")
}

fn local_name(p: &Proto, reg: usize, pc: usize) -> Option<Vec<u8>> {
    let mut n = reg + 1;
    for v in &p.local_vars {
        if v.start_pc as usize > pc {
            break;
        }
        if pc < v.end_pc as usize {
            n -= 1;
            if n == 0 {
                return Some(v.name.to_vec());
            }
        }
    }
    None
}

fn sets_a(op: OpCode) -> bool {
    use OpCode::*;
    !matches!(
        op,
        SetUpval
            | SetTabUp
            | SetTable
            | SetI
            | SetField
            | MmBin
            | MmBinI
            | MmBinK
            | Close
            | Tbc
            | Jmp
            | Eq
            | Lt
            | Le
            | EqK
            | EqI
            | LtI
            | LeI
            | GtI
            | GeI
            | Test
            | Return
            | Return0
            | Return1
            | TForPrep
            | TForCall
            | SetList
            | ExtraArg
    )
}

fn find_set_reg(p: &Proto, lastpc: usize, reg: usize) -> Option<usize> {
    let mut setreg = None;
    let mut jmptarget = 0usize;
    let lastpc = if p.code.get(lastpc).is_some_and(|i| {
        i.opcode() == OpCode::MmBin || i.opcode() == OpCode::MmBinI || i.opcode() == OpCode::MmBinK
    }) {
        lastpc.saturating_sub(1)
    } else {
        lastpc
    };
    for pc in 0..lastpc.min(p.code.len()) {
        let i = p.code[pc];
        let a = i.a() as usize;
        let change = match i.opcode() {
            OpCode::LoadNil => a <= reg && reg <= a + i.b() as usize,
            OpCode::TForCall => reg >= a + 2,
            OpCode::Call | OpCode::TailCall => reg >= a,
            OpCode::Jmp => {
                let dest = (pc as isize + 1 + i.sj() as isize) as usize;
                if dest <= lastpc && dest > jmptarget {
                    jmptarget = dest;
                }
                false
            }
            op => sets_a(op) && reg == a,
        };
        if change {
            setreg = if pc < jmptarget { None } else { Some(pc) };
        }
    }
    setreg
}

fn kname(p: &Proto, idx: usize) -> Vec<u8> {
    match p.constants.get(idx) {
        Some(crate::proto::Constant::String(s)) => s.to_vec(),
        _ => b"?".to_vec(),
    }
}

fn rname(p: &Proto, pc: usize, c: usize) -> Vec<u8> {
    let mut pc = Some(pc);
    match basic_obj_name(p, &mut pc, c) {
        Some(("constant", n)) => n,
        _ => b"?".to_vec(),
    }
}

/// A string constant's name (`kname` of ldebug.c).
fn kconst(p: &Proto, idx: usize) -> Option<(&'static str, Vec<u8>)> {
    match p.constants.get(idx) {
        Some(crate::proto::Constant::String(s)) => Some(("constant", s.to_vec())),
        _ => None,
    }
}

/// Names from locals, upvalues, constants and moves only (`basicgetobjname`); `pc` becomes
/// the instruction that set the register (None when not found).
fn basic_obj_name(
    p: &Proto,
    pc: &mut Option<usize>,
    reg: usize,
) -> Option<(&'static str, Vec<u8>)> {
    if let Some(n) = local_name(p, reg, (*pc)?) {
        return Some(("local", n));
    }
    *pc = find_set_reg(p, (*pc)?, reg);
    let i = p.code[(*pc)?];
    match i.opcode() {
        OpCode::Move if (i.b() as usize) < i.a() as usize => basic_obj_name(p, pc, i.b() as usize),
        OpCode::GetUpval => {
            let n = p
                .upvalues
                .get(i.b() as usize)
                .and_then(|u| u.name.as_deref())
                .unwrap_or(b"?");
            Some(("upvalue", n.to_vec()))
        }
        OpCode::LoadK => kconst(p, i.bx() as usize),
        OpCode::LoadKX => kconst(p, p.code.get((*pc)? + 1)?.ax() as usize),
        _ => None,
    }
}

fn env_kind(p: &Proto, pc: usize, i: crate::opcode::Instruction, up: bool) -> &'static str {
    if is_env(p, pc, i, up) {
        "global"
    } else {
        "field"
    }
}

/// The kind and name of the value in register `reg` at instruction `lastpc`
/// (`getobjname`).
fn get_obj_name(p: &Proto, lastpc: usize, reg: usize) -> Option<(&'static str, Vec<u8>)> {
    let mut pc = Some(lastpc);
    if let Some(r) = basic_obj_name(p, &mut pc, reg) {
        return Some(r);
    }
    let pc = pc?;
    let i = p.code[pc];
    match i.opcode() {
        OpCode::GetTabUp => Some((env_kind(p, pc, i, true), kname(p, i.c() as usize))),
        OpCode::GetTable => Some((env_kind(p, pc, i, false), rname(p, pc, i.c() as usize))),
        OpCode::GetI => Some(("field", b"integer index".to_vec())),
        OpCode::GetField => Some((env_kind(p, pc, i, false), kname(p, i.c() as usize))),
        OpCode::Self_ => {
            let k = if i.k() {
                kname(p, i.c() as usize)
            } else {
                rname(p, pc, i.c() as usize)
            };
            Some(("method", k))
        }
        _ => None,
    }
}

fn top_lua<'a, 'gc>(st: &'a ThreadState<'gc>) -> Option<(&'a Frame<'gc>, &'gc Proto)> {
    let f = st.frames.last()?;
    let c = f.closure?;
    Some((f, Gc_raw(c)))
}

#[allow(non_snake_case)]
fn Gc_raw<'gc>(c: crate::closure::Closure<'gc>) -> &'gc Proto {
    &gc_arena::Gc::as_ref(c.0).proto.as_ref().raw
}

/// `" (kind 'name')"`, the name as C's `%s` prints it: raw bytes, up to a zero byte.
fn info_text(kind: &str, name: &[u8]) -> Vec<u8> {
    let name = name.split(|&c| c == 0).next().unwrap_or_default();
    let mut v = format!(" ({kind} '").into_bytes();
    v.extend_from_slice(name);
    v.extend_from_slice(b"')");
    v
}

/// `msg` with `info` appended, the error's text.
fn with_info(msg: String, info: &[u8]) -> Vec<u8> {
    let mut m = msg.into_bytes();
    m.extend_from_slice(info);
    m
}

/// " (local 'x')" etc. for the value at absolute stack index `idx` in the top Lua frame.
fn varinfo_reg(st: &ThreadState<'_>, idx: usize) -> Vec<u8> {
    let Some((f, p)) = top_lua(st) else {
        return Vec::new();
    };
    if idx < f.base {
        return Vec::new();
    }
    let reg = idx - f.base;
    match get_obj_name(p, f.pc.saturating_sub(1), reg) {
        Some((kind, name)) => info_text(kind, &name),
        None => Vec::new(),
    }
}

/// Finds which register of the top frame holds a value equal to `v` among the operands of
/// the current instruction (for arithmetic errors, which only know the values).
fn varinfo_value<'gc>(st: &ThreadState<'gc>, v: Value<'gc>) -> Vec<u8> {
    let Some((f, p)) = top_lua(st) else {
        return Vec::new();
    };
    let pc = f.pc.saturating_sub(1);
    let Some(i) = p.code.get(pc) else {
        return Vec::new();
    };
    let mut i = *i;
    let mut pc = pc;
    if matches!(i.opcode(), OpCode::MmBin | OpCode::MmBinI | OpCode::MmBinK) && pc > 0 {
        pc -= 1;
        i = p.code[pc];
    }
    let candidates: &[u32] = match i.opcode() {
        OpCode::Unm | OpCode::BNot | OpCode::Len => &[i.b()][..],
        OpCode::Concat => &[][..],
        op if (op as u8) >= OpCode::AddI as u8 && (op as u8) <= OpCode::ShlI as u8 => &[i.b()][..],
        op if (op as u8) >= OpCode::Add as u8 && (op as u8) <= OpCode::Shr as u8 => {
            &[i.b(), i.c()][..]
        }
        _ => &[][..],
    };
    for &r in candidates {
        let idx = f.base + r as usize;
        let same = match (st.stack.get(idx).copied(), v) {
            // Bit for bit, so that a NaN operand is found too.
            (Some(Value::Number(a)), Value::Number(b)) => a.to_bits() == b.to_bits(),
            (Some(a), b) => a.raw_equals(b) && a.type_of() == b.type_of(),
            (None, _) => false,
        };
        if same {
            if let Some((kind, name)) = get_obj_name(p, pc, r as usize) {
                return info_text(kind, &name);
            }
            return Vec::new();
        }
    }
    // A string constant operand.
    if let Value::String(s) = v {
        if matches!(
            i.opcode(),
            OpCode::AddK
                | OpCode::SubK
                | OpCode::MulK
                | OpCode::ModK
                | OpCode::PowK
                | OpCode::DivK
                | OpCode::IDivK
                | OpCode::BAndK
                | OpCode::BOrK
                | OpCode::BXorK
        ) {
            return info_text("constant", s.as_bytes());
        }
    }
    Vec::new()
}

pub(crate) fn type_name_for_msg<'gc>(ctx: Context<'gc>, v: Value<'gc>) -> String {
    if let Some(mt) = ctx.metatable(v) {
        if let Value::String(s) = mt.get_str(ctx.tm_name(Metamethod::Name)) {
            return s.to_str_lossy().into_owned();
        }
    }
    v.type_name().to_string()
}

/// "attempt to OP a TYPE value (kind 'name')" for the value at stack index `idx`.
#[cold]
pub(crate) fn typed_error<'gc>(
    ctx: Context<'gc>,
    st: &ThreadState<'gc>,
    op: &str,
    v: Value<'gc>,
    idx: Option<usize>,
) -> Error<'gc> {
    let info = match idx {
        Some(i) => varinfo_reg(st, i),
        None => Vec::new(),
    };
    let info = if op == "call" && info.is_empty() {
        call_info(st, idx)
    } else {
        info
    };
    let msg = format!("attempt to {} a {} value", op, type_name_for_msg(ctx, v));
    runtime_error(ctx, st, with_info(msg, &info))
}

/// For call errors outside a Lua CALL (metamethod calls, iterators): describes the call site.
fn call_info(st: &ThreadState<'_>, _idx: Option<usize>) -> Vec<u8> {
    let Some((f, p)) = top_lua(st) else {
        return Vec::new();
    };
    let pc = f.pc.saturating_sub(1);
    match p.code.get(pc).map(|i| i.opcode()) {
        Some(OpCode::Call | OpCode::TailCall) | None => Vec::new(),
        Some(_) => match call_site_name(p, pc) {
            Some((kind, name)) => info_text(kind, &name),
            None => Vec::new(),
        },
    }
}

/// Error for indexing a non-indexable value.
#[cold]
pub(crate) fn index_error<'gc>(
    ctx: Context<'gc>,
    st: &ThreadState<'gc>,
    t: Value<'gc>,
    key: Value<'gc>,
    by: Option<IndexedBy>,
) -> Error<'gc> {
    let info = match by {
        Some(IndexedBy::Register(r)) => st
            .frames
            .last()
            .map_or(Vec::new(), |f| varinfo_reg(st, f.base + r as usize)),
        Some(IndexedBy::Upvalue(u)) => top_lua(st)
            .and_then(|(_, p)| {
                p.upvalues
                    .get(u as usize)
                    .map(|d| d.name.as_deref().unwrap_or(b"?"))
                    .map(|n| info_text("upvalue", n))
            })
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let _ = key;
    let msg = format!("attempt to index a {} value", type_name_for_msg(ctx, t));
    runtime_error(ctx, st, with_info(msg, &info))
}

/// Errors about an operand of arithmetic or bitwise operations.
#[cold]
pub(crate) fn operand_error<'gc>(
    ctx: Context<'gc>,
    st: &ThreadState<'gc>,
    what: &str,
    v: Value<'gc>,
) -> Error<'gc> {
    let info = varinfo_value(st, v);
    let msg = format!("{} a {} value", what, type_name_for_msg(ctx, v));
    runtime_error(ctx, st, with_info(msg, &info))
}

/// "number (local 'x') has no integer representation" (`luaG_tointerror`: the variable
/// information goes in the middle).
pub(crate) fn no_integer_rep_error<'gc>(
    ctx: Context<'gc>,
    st: &ThreadState<'gc>,
    v: Value<'gc>,
) -> Error<'gc> {
    let mut m = with_info("number".to_string(), &varinfo_value(st, v));
    m.extend_from_slice(b" has no integer representation");
    runtime_error(ctx, st, m)
}

/// "attempt to compare two T values" / "attempt to compare T1 with T2".
pub(crate) fn compare_error_message<'gc>(
    ctx: Context<'gc>,
    a: Value<'gc>,
    b: Value<'gc>,
) -> String {
    let (t1, t2) = (type_name_for_msg(ctx, a), type_name_for_msg(ctx, b));
    if t1 == t2 {
        format!("attempt to compare two {} values", t1)
    } else {
        format!("attempt to compare {} with {}", t1, t2)
    }
}

/// Comparison error raised by the VM.
#[cold]
pub(crate) fn compare_error<'gc>(
    ctx: Context<'gc>,
    st: &ThreadState<'gc>,
    a: Value<'gc>,
    b: Value<'gc>,
) -> Error<'gc> {
    runtime_error(ctx, st, compare_error_message(ctx, a, b))
}

/// Comparison error text for native callers (they add the position themselves).
pub(crate) fn compare_error_text<'gc>(
    call: &NativeCall<'gc, '_>,
    a: Value<'gc>,
    b: Value<'gc>,
) -> String {
    compare_error_message(call.ctx, a, b)
}

/// "variable 'x' got a non-closable value".
#[cold]
pub(crate) fn tbc_error<'gc>(ctx: Context<'gc>, st: &ThreadState<'gc>, reg: u32) -> Error<'gc> {
    let name = top_lua(st)
        .and_then(|(f, p)| local_name(p, reg as usize, f.pc))
        .map(|n: Vec<u8>| String::from_utf8_lossy(&n).into_owned())
        .unwrap_or_else(|| "(temporary)".into()); // a register without a name (`luaG_findlocal`)
    let _ = tm_of;
    runtime_error(
        ctx,
        st,
        format!("variable '{}' got a non-closable value", name),
    )
}

/// Describes the function running in frame `fi` by how its caller called it.
fn function_name(st: &ThreadState<'_>, fi: usize) -> Option<(&'static str, Vec<u8>)> {
    if fi == 0 || st.frames[fi].tail {
        return None;
    }
    if st.hook.hooked_frame() == Some(fi - 1) {
        return Some(("hook", b"?".to_vec()));
    }
    if st.frames[fi].closure.is_some() && st.frames[fi].func == st.native_call_slot {
        // Called by a native function: only a finalizer has a name.
        return st.finalizing.then(|| ("metamethod", b"__gc".to_vec()));
    }
    let caller = &st.frames[fi - 1];
    let p = Gc_raw(caller.closure?);
    call_site_name(p, caller.pc.checked_sub(1)?)
}

/// How the instruction at `pc` names the function it calls (`funcnamefromcode`).
pub(crate) fn call_site_name(p: &Proto, pc: usize) -> Option<(&'static str, Vec<u8>)> {
    let i = *p.code.get(pc)?;
    let mm = |n: &str| Some(("metamethod", n.as_bytes().to_vec()));
    match i.opcode() {
        OpCode::Call | OpCode::TailCall => get_obj_name(p, pc, i.a() as usize),
        OpCode::TForCall => Some(("for iterator", b"for iterator".to_vec())),
        OpCode::GetTabUp | OpCode::GetTable | OpCode::GetI | OpCode::GetField | OpCode::Self_ => {
            mm("index")
        }
        OpCode::SetTabUp | OpCode::SetTable | OpCode::SetI | OpCode::SetField => mm("newindex"),
        OpCode::MmBin | OpCode::MmBinI | OpCode::MmBinK => mm(Metamethod::from_u32(i.c())?.name()),
        OpCode::Unm => mm("unm"),
        OpCode::BNot => mm("bnot"),
        OpCode::Len => mm("len"),
        OpCode::Concat => mm("concat"),
        OpCode::Eq => mm("eq"),
        OpCode::Lt | OpCode::LtI | OpCode::GtI => mm("lt"),
        OpCode::Le | OpCode::LeI | OpCode::GeI => mm("le"),
        OpCode::Close | OpCode::Return => mm("close"),
        _ => None,
    }
}

/// `luaL_traceback`-style text for the frames of `st`, innermost first, starting at `level`.
pub fn traceback_string<'gc>(ctx: Context<'gc>, st: &ThreadState<'gc>, level: usize) -> String {
    traceback_lines(ctx, st, level, Vec::new())
}

/// The name of the native call a suspended coroutine waits in, if any: a host function's
/// own, else "?" (its traceback line then names it as C Lua does, by where it is in
/// `package.loaded`: `coroutine.yield`).
fn pending_name(st: &ThreadState<'_>) -> Option<&'static str> {
    use crate::thread::PendingKind;
    st.pending.map(|p| match p.kind {
        PendingKind::Yield | PendingKind::Resume | PendingKind::Wrap => "?",
        PendingKind::Host => match st.stack.get(p.func) {
            Some(Value::Native(f)) => f.name(),
            _ => "?",
        },
    })
}

/// `debug.traceback` of another coroutine: level 0 is the native call it waits in (a yield
/// or resume), level 1 its innermost Lua frame.
pub fn coroutine_traceback<'gc>(ctx: Context<'gc>, st: &ThreadState<'gc>, level: usize) -> String {
    if let Some(tb) = &st.dead_traceback {
        let mut lines = tb.split_inclusive('\n');
        let mut out: String = lines.next().unwrap_or_default().to_string();
        out.extend(lines.skip(level));
        return out.trim_end_matches('\n').to_string();
    }
    let mut first = Vec::new();
    if let Some(name) = pending_name(st).filter(|_| level == 0) {
        let func = st.pending.and_then(|p| st.stack.get(p.func).copied());
        first.push(named_native_line(ctx, st, st.frames.len(), name, func));
    }
    traceback_lines(ctx, st, level.max(1), first)
}

/// Information about level `level` of another coroutine (levels as `coroutine_traceback`
/// counts them), and the function running there.
pub fn coroutine_frame_info<'gc>(
    st: &ThreadState<'gc>,
    level: usize,
) -> Option<(FunctionInfo, Option<Value<'gc>>)> {
    if level == 0 {
        return pending_name(st).map(|_| (FunctionInfo::native(), None));
    }
    Some((frame_info(st, level)?, frame_function(st, level)))
}

/// The traceback of an error escaping to the host from a thread, or killing a coroutine,
/// raised by native `raised_by` (if any): that native first, then the frames.
pub(crate) fn error_traceback<'gc>(
    ctx: Context<'gc>,
    st: &ThreadState<'gc>,
    raised_by: Option<&str>,
) -> String {
    let first = raised_by
        .map(|name| vec![native_line(st, st.frames.len(), name)])
        .unwrap_or_default();
    traceback_lines(ctx, st, 1, first)
}

/// The traceback line of a native function, frame `fi` (or `frames.len()` for one that has
/// no frame, above the innermost): by its global name, else by how it was called
/// (`pushfuncname`: `[C]: in local 'f'`), else `?`.
fn native_line(st: &ThreadState<'_>, fi: usize, name: &str) -> String {
    if name != "?" {
        return format!("\n\t[C]: in function '{name}'");
    }
    match call_name_at(st, fi) {
        Some((kind, n)) => format!("\n\t[C]: in {kind} '{}'", String::from_utf8_lossy(&n)),
        None => "\n\t[C]: in ?".to_string(),
    }
}

/// How the code in frame `fi - 1` named the function it called (frame `fi`, or a native
/// running above the innermost frame when `fi == frames.len()`).
fn call_name_at(st: &ThreadState<'_>, fi: usize) -> Option<(&'static str, Vec<u8>)> {
    if fi < st.frames.len() {
        return function_name(st, fi);
    }
    let caller = st.frames.last()?;
    call_site_name(Gc_raw(caller.closure?), caller.pc.checked_sub(1)?)
}

/// Levels shown before and after the gap of a long traceback (`LEVELS1`, `LEVELS2`).
const LEVELS1: usize = 10;
const LEVELS2: usize = 11;

/// The name C Lua's tracebacks give a function found in a loaded module
/// (`pushglobalfuncname`): `module.field` for a field of a table in `package.loaded` (without
/// the `_G.` of a global), or the module's name for a module that is the function itself.
fn global_name<'gc>(ctx: Context<'gc>, f: Value<'gc>) -> Option<Vec<u8>> {
    let Value::Table(loaded) = ctx.registry().get_str(ctx.intern_static(b"_LOADED")) else {
        return None;
    };
    let mut key = Value::Nil;
    while let Ok(Some((k, v))) = loaded.next(key) {
        key = k;
        let Value::String(module) = k else { continue };
        let name = if v.raw_equals(f) {
            Some(module.as_bytes().to_vec())
        } else if let Value::Table(t) = v {
            let mut key = Value::Nil;
            let mut found = None;
            while let Ok(Some((k, v))) = t.next(key) {
                key = k;
                if let (Value::String(field), true) = (k, v.raw_equals(f)) {
                    let mut n = module.as_bytes().to_vec();
                    n.push(b'.');
                    n.extend_from_slice(field.as_bytes());
                    found = Some(n);
                    break;
                }
            }
            found
        } else {
            None
        };
        if let Some(name) = name {
            return Some(match name.strip_prefix(b"_G.") {
                Some(global) => global.to_vec(),
                None => name,
            });
        }
    }
    None
}

/// What a traceback line stands for.
enum Entry {
    /// A line already made.
    Text(String),
    /// The frame at this index.
    Frame(usize),
    /// The note that tail calls went before the frame above.
    TailCalls,
}

/// `native_line` for a native whose value `func` may be known: one without a name of its
/// own ("?") is looked for in the loaded modules first.
fn named_native_line<'gc>(
    ctx: Context<'gc>,
    st: &ThreadState<'gc>,
    fi: usize,
    name: &str,
    func: Option<Value<'gc>>,
) -> String {
    if name == "?" {
        let global = func
            .filter(|v| v.is_function())
            .and_then(|v| global_name(ctx, v));
        if let Some(g) = global {
            return format!("\n\t[C]: in function '{}'", String::from_utf8_lossy(&g));
        }
    }
    native_line(st, fi, name)
}

/// The traceback line of frame `fi`, as `luaL_traceback` describes a level: a function by its
/// global name, else by how its caller named it, else as the main chunk, else by where it
/// was defined (`[C]: in ?` for a native).
fn frame_line<'gc>(ctx: Context<'gc>, st: &ThreadState<'gc>, fi: usize) -> String {
    let f = &st.frames[fi];
    let Some(c) = f.closure else {
        return named_native_line(ctx, st, fi, native_name(f), st.stack.get(f.func).copied());
    };
    let p = Gc_raw(c);
    let src = String::from_utf8_lossy(&chunk_id(&p.source)).into_owned();
    let what = match global_name(ctx, Value::Closure(c)) {
        Some(g) => format!("function '{}'", String::from_utf8_lossy(&g)),
        None => match function_name(st, fi) {
            Some((kind, name)) => format!("{} '{}'", kind, String::from_utf8_lossy(&name)),
            None if p.line_defined == 0 => "main chunk".to_string(),
            None => format!("function <{}:{}>", src, p.line_defined),
        },
    };
    match current_line(p, f.pc) {
        line if line > 0 => format!("\n\t{src}:{line}: in {what}"),
        _ => format!("\n\t{src}: in {what}"),
    }
}

/// The traceback text: `first` lines, then the frames from `level` down (the host's entry,
/// like C's `lua_pcall` from C, adds no line). A long one keeps the first 10 and the last 11 levels with
/// C Lua's note between, which counts one level fewer than it leaves out (only the lines
/// kept are made).
fn traceback_lines<'gc>(
    ctx: Context<'gc>,
    st: &ThreadState<'gc>,
    level: usize,
    first: Vec<String>,
) -> String {
    let n = st.frames.len();
    let top = match level {
        0 | 1 => n,
        _ => frame_index(st, level - 1).unwrap_or(0),
    };
    let mut entries: Vec<Entry> = first.into_iter().map(Entry::Text).collect();
    for fi in (0..top).rev() {
        entries.push(Entry::Frame(fi));
        if st.frames[fi].tail {
            entries.push(Entry::TailCalls);
        }
    }
    let total = entries.len();
    let skip = if total > LEVELS1 + LEVELS2 + 1 {
        LEVELS1..total - LEVELS2
    } else {
        0..0
    };
    let mut out = String::from("stack traceback:");
    for (i, e) in entries.into_iter().enumerate() {
        if skip.contains(&i) {
            if i == skip.start {
                out.push_str(&format!("\n\t...\t(skipping {} levels)", skip.len() - 1));
            }
            continue;
        }
        match e {
            Entry::Text(t) => out.push_str(&t),
            Entry::Frame(fi) => out.push_str(&frame_line(ctx, st, fi)),
            Entry::TailCalls => out.push_str("\n\t(...tail calls...)"),
        }
    }
    out
}

/// The name of the native function a frame without a closure stands for.
fn native_name(f: &Frame<'_>) -> &'static str {
    f.native.unwrap_or("?")
}

/// A traceback of the running thread for native functions (`debug.traceback`).
pub fn traceback<'gc>(call: &mut NativeCall<'gc, '_>, level: usize) -> String {
    // Level 0 is the native function asking (`debug.traceback` itself).
    let mut first = Vec::new();
    if level == 0 {
        if let Value::Native(f) = call.func_value() {
            let st = call.thread_state();
            first.push(native_line(st, st.frames.len(), f.name()));
        }
    }
    // A host's entry is a frame of its own, if it has one (`Action::HostProtectedCall`).
    let ctx = call.ctx;
    traceback_lines(ctx, call.thread_state(), level.max(1), first)
}

/// Information about the frame `level` levels up (1 = the innermost Lua frame).
pub fn frame_info<'gc>(st: &ThreadState<'gc>, level: usize) -> Option<FunctionInfo> {
    let fi = frame_index(st, level)?;
    let f = &st.frames[fi];
    Some(match f.closure {
        Some(c) => {
            let p = Gc_raw(c);
            FunctionInfo {
                source: p.source.to_vec(),
                short_src: chunk_id(&p.source),
                what: if p.line_defined == 0 { "main" } else { "Lua" },
                current_line: current_line(p, f.pc),
                line_defined: p.line_defined as i64,
                last_line_defined: p.last_line_defined as i64,
                name: function_name(st, fi),
                is_tail_call: f.tail,
            }
        }
        None => FunctionInfo {
            name: function_name(st, fi).or_else(|| {
                let name = native_name(f);
                (name != "?").then(|| ("global", name.as_bytes().to_vec()))
            }),
            ..FunctionInfo::native()
        },
    })
}

/// The function running at frame `level` levels up (as `frame_info` counts), if any.
pub fn frame_function<'gc>(st: &ThreadState<'gc>, level: usize) -> Option<Value<'gc>> {
    let f = &st.frames[frame_index(st, level)?];
    match (f.closure, f.native) {
        (Some(c), _) => Some(Value::Closure(c)),
        // A native function's stand-in frame (a hook event of its call or return).
        (None, Some(_)) => st.stack.get(f.func).copied().filter(|v| v.is_function()),
        (None, None) => None,
    }
}

/// Local `n` of the frame `level` levels up (as `frame_info` counts): its name and stack
/// slot (`lua_getlocal`). Active locals come first, then `(temporary)` slots up to the next
/// frame (or `top` for the innermost one); negative `n` names the varargs.
pub fn frame_local(
    st: &ThreadState<'_>,
    level: usize,
    n: i64,
    top: usize,
) -> Option<(Vec<u8>, usize)> {
    if n == 0 {
        return None;
    }
    let fi = frame_index(st, level)?;
    let f = &st.frames[fi];
    let limit = match st.frames.get(fi + 1) {
        Some(next) => next.func,
        None => top,
    };
    let temporary = |what: &[u8]| {
        let n = n as usize;
        (limit >= f.base && limit - f.base >= n).then(|| (what.to_vec(), f.base + n - 1))
    };
    let Some(c) = f.closure else {
        return if n > 0 {
            temporary(b"(C temporary)")
        } else {
            None
        };
    };
    let p = Gc_raw(c);
    if n < 0 {
        let j = (-n) as usize;
        return (p.is_vararg && j <= f.nextra)
            .then(|| (b"(vararg)".to_vec(), f.base - 1 - f.nextra + j - 1));
    }
    match local_name(p, n as usize - 1, f.pc.saturating_sub(1)) {
        Some(name) => Some((name, f.base + n as usize - 1)),
        None => temporary(b"(temporary)"),
    }
}

/// `(ftransfer, ntransfer)` of the frame `level` levels up: the values its running call or
/// return hook sees (zeros otherwise).
pub fn frame_transfer(st: &ThreadState<'_>, level: usize) -> (usize, usize) {
    match frame_index(st, level) {
        Some(fi) => st.hook.transfer_of(fi),
        None => (0, 0),
    }
}
