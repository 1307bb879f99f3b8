//! Links the tests, examples and benches of this crate to the libpython
//! pyo3 found, by an rpath to its directory: the machine may have more
//! than one CPython 3.11 (a pyenv one and the system's), and the loader
//! must run the one it was built against.

fn main() {
    let config = pyo3_build_config::get();
    if let Some(dir) = config.lib_dir() {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        // For crates that embed this one: their build scripts read
        // DEP_POLYPLUG_PYTHON_LIB_DIR to add the same rpath.
        println!("cargo:lib_dir={dir}");
    }
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
}
