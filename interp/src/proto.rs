//! Function prototypes as the compiler produces them: plain Rust data, no GC pointers.
//!
//! The compiler (`compiler/`) turns source text into a [`Proto`]; the VM turns a `Proto` into a
//! garbage-collected function prototype (interning its string constants) when it is loaded.
//! Keeping this type GC-free lets the compiler, `string.dump` and binary-chunk loading work
//! without an arena.

use std::rc::Rc;

use crate::opcode::Instruction;

/// A constant in a prototype's constant table.
#[derive(Clone, Debug, PartialEq)]
pub enum Constant {
    /// `nil`
    Nil,
    /// `true` / `false`
    Boolean(bool),
    /// An integer.
    Integer(i64),
    /// A float.
    Float(f64),
    /// A byte string.
    String(Box<[u8]>),
}

/// How an upvalue of a function is found when its closure is created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpvalueDesc {
    /// The upvalue's name, for error messages and `debug.getupvalue` (`None` when stripped).
    pub name: Option<Box<[u8]>>,
    /// True: the upvalue is a register (local) of the enclosing function; false: it is an
    /// upvalue of the enclosing function.
    pub in_stack: bool,
    /// The register or upvalue index in the enclosing function.
    pub index: u8,
    /// The kind of the variable it refers to.
    pub kind: VarKind,
}

/// The kind of a local variable (Lua 5.4's `VDKREG`, `RDKCONST`, `RDKTOCLOSE`, `RDKCTC`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarKind {
    /// A regular variable.
    Regular,
    /// A `<const>` variable.
    Const,
    /// A `<close>` variable.
    ToClose,
    /// A compile-time constant (no register).
    CompileTimeConst,
}

/// Debug information about a local variable: its name and the pc range where it is active.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalVar {
    /// The variable's name.
    pub name: Box<[u8]>,
    /// First instruction where the variable is active.
    pub start_pc: u32,
    /// First instruction where the variable is dead.
    pub end_pc: u32,
}

/// A compiled function: bytecode, constants, nested prototypes and debug information.
#[derive(Clone, Debug, PartialEq)]
pub struct Proto {
    /// The chunk name as given to `load` (e.g. `@script.lua`, `=stdin`, or the source itself).
    pub source: Rc<[u8]>,
    /// Line where the function's definition starts (0 for a main chunk).
    pub line_defined: u32,
    /// Line where the function's definition ends (0 for a main chunk).
    pub last_line_defined: u32,
    /// Number of fixed parameters.
    pub num_params: u8,
    /// True if the function is variadic (main chunks always are).
    pub is_vararg: bool,
    /// Number of registers the function needs.
    pub max_stack_size: u8,
    /// The instructions.
    pub code: Vec<Instruction>,
    /// The source line of each instruction (same length as `code`).
    pub line_info: Vec<u32>,
    /// The constant table.
    pub constants: Vec<Constant>,
    /// Upvalue descriptions (a main chunk has exactly one: `_ENV`, in stack, index 0).
    pub upvalues: Vec<UpvalueDesc>,
    /// Nested function prototypes (OP_CLOSURE's Bx indexes them).
    pub protos: Vec<Rc<Proto>>,
    /// Local variables, for debug information and error messages.
    pub local_vars: Vec<LocalVar>,
}

/// A prototype that keeps the VM's invariants (those [`crate::chunk::verify`] checks): the
/// only kind [`crate::Context::load_proto`] runs. Made by the compiler
/// ([`crate::compiler::compile`]), by the chunk loader ([`crate::chunk::undump`], which
/// verifies) or by [`VerifiedProto::verify`] from a prototype built by hand; it derefs to
/// the (immutable) [`Proto`].
///
/// A hand-built prototype cannot run unchecked:
/// ```compile_fail,E0308
/// let mut p = interp::compiler::compile(b"return 1", b"=x").unwrap().to_proto();
/// p.code[0] = interp::opcode::Instruction::abx(interp::opcode::OpCode::LoadK, 200, 99);
/// let lua = interp::Lua::new();
/// lua.enter(|ctx| { ctx.load_proto(&std::rc::Rc::new(p), None); });
/// ```
/// and [`VerifiedProto::verify`] refuses it:
/// ```
/// let mut p = interp::compiler::compile(b"return 1", b"=x").unwrap().to_proto();
/// p.code[0] = interp::opcode::Instruction::abx(interp::opcode::OpCode::LoadK, 200, 99);
/// assert!(interp::proto::VerifiedProto::verify(p).is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedProto(Rc<Proto>);

impl VerifiedProto {
    /// Checks `p` and its nested functions (always, in every build).
    pub fn verify(p: Proto) -> Result<VerifiedProto, String> {
        crate::chunk::verify(&p)?;
        Ok(VerifiedProto(Rc::new(p)))
    }

    /// Our compiler's output, which keeps the invariants by construction (checked in debug
    /// builds).
    pub(crate) fn from_compiler(p: Proto) -> VerifiedProto {
        if cfg!(debug_assertions) {
            if let Err(e) = crate::chunk::verify(&p) {
                panic!("the compiler made invalid bytecode: {e}");
            }
        }
        VerifiedProto(Rc::new(p))
    }

    /// A prototype [`crate::chunk::verify`] accepted just now.
    pub(crate) fn verified(p: Proto) -> VerifiedProto {
        VerifiedProto(Rc::new(p))
    }

    /// A copy of the prototype, to change (and verify again before it runs).
    pub fn to_proto(&self) -> Proto {
        (*self.0).clone()
    }

    /// The shared prototype (for the loader: nested prototypes are loaded from it).
    pub(crate) fn rc(&self) -> &Rc<Proto> {
        &self.0
    }
}

impl std::ops::Deref for VerifiedProto {
    type Target = Proto;
    fn deref(&self) -> &Proto {
        &self.0
    }
}
