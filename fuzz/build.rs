//! The fuzz targets run the libpython polyplug-python was built against
//! (an rpath to its directory), not whichever CPython 3.11 the system
//! finds first.

fn main() {
    polyplug_build_support::python_rpath();
}
