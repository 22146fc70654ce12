//! Gives the bridge pyo3's configuration cfgs (`Py_LIMITED_API` for an abi3 build, `Py_3_10`,
//! `Py_3_12`, ...: the oldest Python the build runs on), which `src/capi.rs` reads.

fn main() {
    pyo3_build_config::use_pyo3_cfgs();
}
