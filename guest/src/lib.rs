//! The Rust SDK for polyplug plugins.
