//! Bytes across the wasm boundary, outside host imports: `str`/`bytes`
//! arguments and a handover state go in through the module's
//! `polyplug_alloc`, `string`/`buf` results and a saved state come out as
//! one `i64` `ptr | (len << 32)`; `polyplug_free`, when exported, gets
//! back what the host is done with (`docs/wasm-plugins.md`).

use polyplug_abi::{ERR_INVALID, ERR_TRAP, ERR_UNSUPPORTED};

use crate::backend::{Failure, Running, WasmValue};
use crate::guest::{ALLOC_EXPORT, FREE_EXPORT};
use crate::imports::Memory;

/// A module's allocator exports, by call index.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Allocator {
    pub(crate) alloc: Option<usize>,
    pub(crate) free: Option<usize>,
}

/// Bytes the host copied into guest memory: `(ptr, len)`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Given {
    pub(crate) ptr: i32,
    pub(crate) len: i32,
}

fn memory_failure(error: Memory, what: &str) -> Failure {
    match error {
        Memory::Missing => Failure {
            code: ERR_UNSUPPORTED,
            what: format!("{what}: the module exports no memory"),
        },
        Memory::OutOfBounds => Failure {
            code: ERR_TRAP,
            what: format!("{what}: out of the module's memory"),
        },
    }
}

fn offset(ptr: i32) -> usize {
    usize::try_from(ptr.cast_unsigned()).unwrap_or(usize::MAX)
}

impl Allocator {
    /// Copies `bytes` into memory from `polyplug_alloc(len, 1)`; no bytes
    /// are `(0, 0)`, with no allocation.
    pub(crate) fn give(
        &self,
        running: &mut dyn Running,
        bytes: &[u8],
        what: &str,
    ) -> Result<Given, Failure> {
        if bytes.is_empty() {
            return Ok(Given { ptr: 0, len: 0 });
        }
        let len = i32::try_from(bytes.len()).map_err(|_| Failure {
            code: ERR_INVALID,
            what: format!("{what}: {} bytes do not fit a wasm32 memory", bytes.len()),
        })?;
        let Some(alloc) = self.alloc else {
            return Err(Failure {
                code: ERR_UNSUPPORTED,
                what: format!("{what}: the module exports no {ALLOC_EXPORT}"),
            });
        };
        let ptr = match running.call(alloc, &[WasmValue::I32(len), WasmValue::I32(1)]) {
            Ok(Some(WasmValue::I32(ptr))) => ptr,
            Ok(other) => {
                return Err(Failure {
                    code: ERR_INVALID,
                    what: format!("{what}: {ALLOC_EXPORT} returned {other:?}, not an i32"),
                });
            }
            Err(failure) => {
                return Err(Failure {
                    code: failure.code,
                    what: format!("{what}: {ALLOC_EXPORT}: {}", failure.what),
                });
            }
        };
        running.write(offset(ptr), bytes).map_err(|e| {
            memory_failure(
                e,
                &format!("{what}: {ALLOC_EXPORT} returned {ptr:#x} for {len} bytes"),
            )
        })?;
        Ok(Given { ptr, len })
    }

    /// Gives `given` back to `polyplug_free(ptr, len, 1)`, when the module
    /// exports it and there were bytes.
    pub(crate) fn release(
        &self,
        running: &mut dyn Running,
        given: Given,
        what: &str,
    ) -> Result<(), Failure> {
        let Some(free) = self.free else {
            return Ok(());
        };
        if given.len == 0 {
            return Ok(());
        }
        running
            .call(
                free,
                &[
                    WasmValue::I32(given.ptr),
                    WasmValue::I32(given.len),
                    WasmValue::I32(1),
                ],
            )
            .map(|_| ())
            .map_err(|failure| Failure {
                code: failure.code,
                what: format!("{what}: {FREE_EXPORT}: {}", failure.what),
            })
    }

    /// Copies out the bytes an export returned as `ptr | (len << 32)`,
    /// bounds checked, then releases them; a zero length is no bytes,
    /// whatever the pointer, and nothing to release.
    pub(crate) fn take(
        &self,
        running: &mut dyn Running,
        result: Option<WasmValue>,
        what: &str,
    ) -> Result<Vec<u8>, Failure> {
        let Some(WasmValue::I64(packed)) = result else {
            return Err(Failure {
                code: ERR_INVALID,
                what: format!("{what}: returned {result:?}, not an i64"),
            });
        };
        let packed = packed.cast_unsigned();
        let ptr = u32::try_from(packed & 0xffff_ffff).unwrap_or_default();
        let len = u32::try_from(packed >> 32).unwrap_or_default();
        if len == 0 {
            return Ok(Vec::new());
        }
        let given = Given {
            ptr: ptr.cast_signed(),
            len: len.cast_signed(),
        };
        let bytes = running
            .read(
                offset(given.ptr),
                usize::try_from(len).unwrap_or(usize::MAX),
            )
            .map_err(|e| memory_failure(e, &format!("{what}: returned {len} bytes at {ptr:#x}")))?;
        self.release(running, given, what)?;
        Ok(bytes)
    }
}
