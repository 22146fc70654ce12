//! Full userdata: host data (any `'static` Rust value) with a metatable and a user value.

use std::any::Any;
use std::cell::RefCell;

use gc_arena::{lock::Lock, Collect, Gc, Mutation};

use crate::value::{Table, Value};

/// The heap object behind a [`UserData`].
#[derive(Collect)]
#[collect(no_drop)]
pub(crate) struct UserDataState<'gc> {
    /// The host's data.
    #[collect(require_static)]
    pub(crate) data: RefCell<Box<dyn Any>>,
    /// The metatable.
    pub(crate) metatable: Lock<Option<Table<'gc>>>,
    /// The user value (`debug.getuservalue`).
    pub(crate) user_value: Lock<Value<'gc>>,
    /// Whether it has a user value (C Lua's `nuvalue`, 0 or 1 here).
    #[collect(require_static)]
    pub(crate) has_user_value: bool,
    /// The memory this userdata is charged for.
    #[collect(require_static)]
    #[allow(dead_code)] // held for its drop, which gives the memory back
    pub(crate) mem: crate::memory::Charge,
}

/// A full userdata: a pointer-sized `Copy` handle.
#[derive(Clone, Copy, Collect)]
#[collect(no_drop)]
pub struct UserData<'gc>(pub(crate) Gc<'gc, UserDataState<'gc>>);

impl<'gc> UserData<'gc> {
    /// Wraps host data (with one user value, as `lua_newuserdata`).
    pub fn new(mc: &Mutation<'gc>, data: Box<dyn Any>) -> UserData<'gc> {
        Self::with_user_values(mc, data, true)
    }

    /// Wraps host data, with or without a user value (`lua_newuserdatauv` with 1 or 0).
    pub fn with_user_values(mc: &Mutation<'gc>, data: Box<dyn Any>, uv: bool) -> UserData<'gc> {
        UserData(Gc::new(
            mc,
            UserDataState {
                data: RefCell::new(data),
                metatable: Lock::new(None),
                user_value: Lock::new(Value::Nil),
                has_user_value: uv,
                mem: crate::memory::Charge::new(
                    std::mem::size_of::<UserDataState<'_>>() + crate::memory::GC_HEADER + 16,
                ),
            },
        ))
    }

    /// The host's data.
    pub fn data(self) -> &'gc RefCell<Box<dyn Any>> {
        &Gc::as_ref(self.0).data
    }

    /// The user value (`lua_getiuservalue` 1), if the userdata has one.
    pub fn user_value(self) -> Option<Value<'gc>> {
        self.0.has_user_value.then(|| self.0.user_value.get())
    }

    /// Sets the user value (`lua_setiuservalue` 1); false if the userdata has none.
    pub fn set_user_value(self, mc: &Mutation<'gc>, v: Value<'gc>) -> bool {
        if self.0.has_user_value {
            gc_arena::barrier::unlock!(Gc::write(mc, self.0), UserDataState, user_value).set(v);
        }
        self.0.has_user_value
    }

    /// The address of the userdata object (an identity, as for `lua_topointer`).
    pub fn as_ptr(self) -> *const () {
        Gc::as_ptr(self.0).cast()
    }

    /// The metatable.
    pub fn metatable(self) -> Option<Table<'gc>> {
        self.0.metatable.get()
    }

    /// Sets the metatable.
    pub fn set_metatable(self, mc: &Mutation<'gc>, mt: Option<Table<'gc>>) {
        gc_arena::barrier::unlock!(Gc::write(mc, self.0), UserDataState, metatable).set(mt);
    }
}
