//! The `polyplug` binary and its tests run the libpython polyplug-python
//! was built against (an rpath to its directory), not whichever CPython
//! 3.11 the system finds first.

fn main() {
    if let Ok(dir) = std::env::var("DEP_POLYPLUG_PYTHON_LIB_DIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
    println!("cargo:rerun-if-env-changed=DEP_POLYPLUG_PYTHON_LIB_DIR");
}
