//! Bundle manifests and native plugin libraries.
