//! The polyplug runtime.
