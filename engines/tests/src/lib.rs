//! Tests that cross every loader at once. The crate has no code of its
//! own: its integration tests load a chain of bundles, one per engine and
//! one native, and call through all of them, as a host would.
