//! Functions: loaded prototypes, Lua closures with their upvalues, and native functions.

use std::collections::HashMap;
use std::rc::Rc;

use gc_arena::{
    lock::{Lock, RefLock},
    Collect, Gc, Mutation,
};

use crate::native_call::NativeFn;
use crate::opcode::Instruction;
use crate::proto::{Constant, Proto};
use crate::thread::Thread;
use crate::value::{LuaString, Value};

/// A function prototype loaded into the arena: bytecode plus constants as Lua values.
#[derive(Collect)]
#[collect(no_drop)]
pub struct FunctionProto<'gc> {
    /// The instructions.
    #[collect(require_static)]
    pub(crate) code: Box<[Instruction]>,
    /// Constants as Lua values (strings interned).
    pub(crate) constants: Box<[Value<'gc>]>,
    /// Nested prototypes.
    pub(crate) protos: Box<[Gc<'gc, FunctionProto<'gc>>]>,
    /// The compiler's prototype, for debug information (lines, names, upvalue descriptions).
    #[collect(require_static)]
    pub(crate) raw: Rc<Proto>,
    /// Registers needed.
    pub(crate) max_stack: usize,
    /// Fixed parameters.
    pub(crate) num_params: usize,
    /// Variadic?
    pub(crate) is_vararg: bool,
    /// The memory this prototype (and its share of the compiler's) is charged for (held
    /// for its drop, which gives it back).
    #[collect(require_static)]
    #[allow(dead_code)]
    pub(crate) mem: crate::memory::Charge,
}

impl<'gc> FunctionProto<'gc> {
    /// The compiled prototype, for debug information (lines, names, upvalue descriptions)
    /// and `string.dump`.
    pub fn raw(&self) -> &Proto {
        &self.raw
    }

    /// The number of fixed parameters.
    pub fn num_params(&self) -> usize {
        self.num_params
    }

    /// Whether the function is variadic.
    pub fn is_vararg(&self) -> bool {
        self.is_vararg
    }

    /// Loads a verified prototype into the arena; `intern` makes its string constants.
    pub(crate) fn load(
        mc: &Mutation<'gc>,
        proto: &crate::proto::VerifiedProto,
        intern: &mut dyn FnMut(&[u8]) -> LuaString<'gc>,
    ) -> Gc<'gc, FunctionProto<'gc>> {
        Self::load_with(mc, proto.rc(), intern, &mut HashMap::new())
    }

    /// Loads `proto`, sharing equal long string constants of one chunk (as C Lua's lexer
    /// does) through `strings`.
    fn load_with(
        mc: &Mutation<'gc>,
        proto: &Rc<Proto>,
        intern: &mut dyn FnMut(&[u8]) -> LuaString<'gc>,
        strings: &mut HashMap<Box<[u8]>, LuaString<'gc>>,
    ) -> Gc<'gc, FunctionProto<'gc>> {
        let constants = proto
            .constants
            .iter()
            .map(|c| match c {
                Constant::Nil => Value::Nil,
                Constant::Boolean(b) => Value::Boolean(*b),
                Constant::Integer(i) => Value::Integer(*i),
                Constant::Float(f) => Value::Number(*f),
                Constant::String(s) if s.len() <= crate::value::SHORT_STRING_MAX => {
                    Value::String(intern(s))
                }
                Constant::String(s) => {
                    Value::String(*strings.entry(s.clone()).or_insert_with(|| intern(s)))
                }
            })
            .collect();
        let protos = proto
            .protos
            .iter()
            .map(|p| FunctionProto::load_with(mc, p, intern, strings))
            .collect();
        Gc::new(
            mc,
            FunctionProto {
                code: proto
                    .code
                    .iter()
                    .map(|&i| {
                        if i.is_valid() {
                            i
                        } else {
                            Instruction::ax_(crate::opcode::OpCode::ExtraArg, 0)
                        }
                    })
                    .collect(),
                constants,
                protos,
                raw: proto.clone(),
                max_stack: proto.max_stack_size as usize,
                num_params: proto.num_params as usize,
                is_vararg: proto.is_vararg,
                mem: crate::memory::Charge::new(proto_size(proto)),
            },
        )
    }
}

/// Bytes a loaded prototype holds: its code and constants in the arena, and the compiler's
/// prototype with its debug information (shared by every load of the same chunk, but
/// counted for each: loading a chunk over and over is a way to use memory).
fn proto_size(p: &Proto) -> usize {
    std::mem::size_of::<FunctionProto<'_>>()
        + std::mem::size_of::<Proto>()
        + 2 * crate::memory::GC_HEADER
        + p.code.len() * 4
        + p.code.capacity() * 4
        + p.line_info.capacity() * 4
        + p.constants.len() * 16
        + p.constants.capacity() * std::mem::size_of::<Constant>()
        + p.protos.len() * 8
        + p.protos.capacity() * 8
        + p.upvalues.capacity() * std::mem::size_of::<crate::proto::UpvalueDesc>()
        + p.local_vars.capacity() * std::mem::size_of::<crate::proto::LocalVar>()
        // The chunk name (for `load(s)`, the source itself), shared by the chunk's prototypes.
        + p.source.len() / Rc::strong_count(&p.source).max(1)
}

/// Where an upvalue's value lives.
#[derive(Collect, Clone, Copy)]
#[collect(no_drop)]
pub(crate) enum UpvalueState<'gc> {
    /// Still a register of a live frame of `thread`, at stack index `index`.
    Open {
        /// The thread whose stack holds the value.
        thread: Thread<'gc>,
        /// The stack index.
        index: usize,
    },
    /// Closed over: the value itself.
    Closed(Value<'gc>),
}

/// An upvalue cell, shared by the closures that capture the same variable.
pub(crate) type Upvalue<'gc> = Gc<'gc, Lock<UpvalueState<'gc>>>;

/// The heap object behind a [`Closure`].
#[derive(Collect)]
#[collect(no_drop)]
pub(crate) struct ClosureState<'gc> {
    /// The prototype.
    pub(crate) proto: Gc<'gc, FunctionProto<'gc>>,
    /// The upvalues (replaced only by `debug.upvaluejoin`).
    pub(crate) upvalues: Box<[Lock<Upvalue<'gc>>]>,
    /// The memory this closure and its upvalues are charged for.
    #[collect(require_static)]
    #[allow(dead_code)] // held for its drop, which gives the memory back
    pub(crate) mem: crate::memory::Charge,
}

/// Bytes charged per closure: the object and, per upvalue, its cell and an upvalue object
/// (shared upvalues are counted once per closure).
fn closure_charge(upvalues: usize) -> crate::memory::Charge {
    crate::memory::Charge::new(
        std::mem::size_of::<ClosureState<'_>>()
            + crate::memory::GC_HEADER
            + upvalues * (8 + 24 + crate::memory::GC_HEADER),
    )
}

/// A Lua function: a pointer-sized `Copy` handle.
#[derive(Clone, Copy, Collect)]
#[collect(no_drop)]
pub struct Closure<'gc>(pub(crate) Gc<'gc, ClosureState<'gc>>);

impl<'gc> Closure<'gc> {
    /// A closure over `proto` with the given upvalues (as many as `proto` has).
    pub(crate) fn new(
        mc: &Mutation<'gc>,
        proto: Gc<'gc, FunctionProto<'gc>>,
        upvalues: &[Upvalue<'gc>],
    ) -> Closure<'gc> {
        let upvalues = upvalues.iter().map(|&u| Lock::new(u)).collect();
        Self::from_cells(mc, proto, upvalues)
    }

    /// A closure from ready-made upvalue cells (as many as `proto` has).
    pub(crate) fn from_cells(
        mc: &Mutation<'gc>,
        proto: Gc<'gc, FunctionProto<'gc>>,
        upvalues: Box<[Lock<Upvalue<'gc>>]>,
    ) -> Closure<'gc> {
        let mem = closure_charge(upvalues.len());
        Closure(Gc::new(
            mc,
            ClosureState {
                proto,
                upvalues,
                mem,
            },
        ))
    }

    /// The prototype.
    #[inline(always)]
    pub fn proto(self) -> Gc<'gc, FunctionProto<'gc>> {
        self.0.proto
    }

    /// The compiled prototype (debug information, `string.dump`).
    pub fn raw_proto(self) -> &'gc Proto {
        &Gc::as_ref(self.0).proto.as_ref().raw
    }

    /// Upvalue cell `i`.
    #[inline(always)]
    pub(crate) fn upvalue(self, i: usize) -> Upvalue<'gc> {
        self.0.upvalues[i].get()
    }

    /// Number of upvalues.
    pub fn num_upvalues(self) -> usize {
        self.0.upvalues.len()
    }

    /// The identity of upvalue `i` (`lua_upvalueid`): equal for closures that share the
    /// variable. `i` must be below [`Closure::num_upvalues`].
    pub fn upvalue_id(self, i: usize) -> usize {
        Gc::as_ptr(self.upvalue(i)) as usize
    }

    /// Makes upvalue `i` of this closure refer to upvalue `j` of `other`
    /// (`lua_upvaluejoin`); both below their closure's [`Closure::num_upvalues`].
    pub fn join_upvalue(self, mc: &Mutation<'gc>, i: usize, other: Closure<'gc>, j: usize) {
        self.set_upvalue_cell(mc, i, other.upvalue(j));
    }

    /// Replaces upvalue cell `i`.
    pub(crate) fn set_upvalue_cell(self, mc: &Mutation<'gc>, i: usize, uv: Upvalue<'gc>) {
        let w = Gc::write(mc, self.0);
        gc_arena::barrier::field!(w, ClosureState, upvalues).as_deref()[i]
            .unlock()
            .set(uv);
    }
}

/// The heap object behind a [`NativeFunction`].
#[derive(Collect)]
#[collect(no_drop)]
pub(crate) struct NativeState<'gc> {
    /// The Rust function.
    #[collect(require_static)]
    pub(crate) func: NativeFn,
    /// Its name, for error messages (`bad argument #1 to 'insert'`).
    #[collect(require_static)]
    pub(crate) name: &'static str,
    /// Values the function closes over (like a C closure's upvalues).
    pub(crate) upvalues: RefLock<Box<[Value<'gc>]>>,
    /// A number the host gave the function (see [`NativeFunction::tag`]).
    #[collect(require_static)]
    pub(crate) tag: i64,
    /// The memory this function is charged for.
    #[collect(require_static)]
    #[allow(dead_code)] // held for its drop, which gives the memory back
    pub(crate) mem: crate::memory::Charge,
}

/// The tag of a native function made without one (see [`NativeFunction::tag`]).
pub const NO_TAG: i64 = i64::MIN;

/// A function written in Rust: a pointer-sized `Copy` handle.
#[derive(Clone, Copy, Collect)]
#[collect(no_drop)]
pub struct NativeFunction<'gc>(pub(crate) Gc<'gc, NativeState<'gc>>);

impl<'gc> NativeFunction<'gc> {
    /// A native function with no upvalues.
    pub fn new(mc: &Mutation<'gc>, name: &'static str, func: NativeFn) -> NativeFunction<'gc> {
        Self::with_upvalues(mc, name, func, Box::new([]))
    }

    /// A native function closing over `upvalues`.
    pub fn with_upvalues(
        mc: &Mutation<'gc>,
        name: &'static str,
        func: NativeFn,
        upvalues: Box<[Value<'gc>]>,
    ) -> NativeFunction<'gc> {
        Self::with_tag(mc, name, func, NO_TAG, upvalues)
    }

    /// A native function closing over `upvalues`, carrying `tag` (see
    /// [`NativeFunction::tag`]).
    pub fn with_tag(
        mc: &Mutation<'gc>,
        name: &'static str,
        func: NativeFn,
        tag: i64,
        upvalues: Box<[Value<'gc>]>,
    ) -> NativeFunction<'gc> {
        let mem = crate::memory::Charge::new(
            std::mem::size_of::<NativeState<'_>>() + crate::memory::GC_HEADER + upvalues.len() * 16,
        );
        NativeFunction(Gc::new(
            mc,
            NativeState {
                func,
                name,
                upvalues: RefLock::new(upvalues),
                tag,
                mem,
            },
        ))
    }

    /// Identity: the same object. (C Lua's light functions, equal when their function
    /// pointers are, are the objects [`crate::Context::native`] makes: one per function.)
    #[inline]
    pub fn same(self, other: NativeFunction<'gc>) -> bool {
        Gc::ptr_eq(self.0, other.0)
    }

    /// The number the host gave the function when it made it ([`NativeFunction::with_tag`];
    /// [`NO_TAG`] otherwise): unlike upvalues, Lua code can neither see nor change it, so a
    /// host can tell its functions by it.
    pub fn tag(self) -> i64 {
        self.0.tag
    }

    /// The function's name.
    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// Upvalue `i`.
    pub fn upvalue(self, i: usize) -> Value<'gc> {
        self.0.upvalues.borrow().get(i).copied().unwrap_or_default()
    }

    /// The number of upvalues.
    pub fn num_upvalues(self) -> usize {
        self.0.upvalues.borrow().len()
    }

    /// Sets upvalue `i` to `v` (`lua_setupvalue` on a C closure); false if there is no
    /// upvalue `i`. The function must expect any value there: Lua code can set it through
    /// `debug.setupvalue`.
    pub fn set_upvalue(self, mc: &Mutation<'gc>, i: usize, v: Value<'gc>) -> bool {
        let upvalues = gc_arena::barrier::unlock!(Gc::write(mc, self.0), NativeState, upvalues);
        match upvalues.borrow_mut().get_mut(i) {
            Some(slot) => {
                *slot = v;
                true
            }
            None => false,
        }
    }

    /// The Rust function.
    pub fn func(self) -> NativeFn {
        self.0.func
    }

    /// The address of the function object (an identity, as for `lua_topointer`).
    pub fn as_ptr(self) -> *const () {
        Gc::as_ptr(self.0).cast()
    }
}
