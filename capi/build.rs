//! libpolyplug runs the libpython polyplug-python was built against: an
//! rpath to its directory in the shared library (so a C host that links
//! `-lpolyplug` finds that CPython, not another 3.11 on the machine) and
//! in this crate's tests and benches.

fn main() {
    if let Ok(dir) = std::env::var("DEP_POLYPLUG_PYTHON_LIB_DIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
    println!("cargo:rerun-if-env-changed=DEP_POLYPLUG_PYTHON_LIB_DIR");
}
