/*
 * Written by `polyplug gen counter.toml --lang wasm-c` from contract demo.counter 1.0.0.
 * A stub to fill in: every function returns zero until it is written.
 * Compile it without libc, and name the module in a bundle's [library]
 * with `loader = "wasm"`, declaring the contract under [[provides]]:
 *
 *     clang --target=wasm32-unknown-unknown -O2 -nostdlib -Wl,--no-entry \
 *         -o demo_counter.wasm demo_counter_wasm.c
 *
 * A counter: each plugin version steps by its own amount.
 */
#include <stdint.h>

/* Exports a function under the wasm export name `name`. */
#define PP_WASM_EXPORT(name) __attribute__((export_name(name)))

/* The host's log import: `len` bytes of this module's memory at `ptr`, at
 * `level` (0 trace, 1 debug, 2 info, 3 warn, 4 error). */
__attribute__((import_module("polyplug"), import_name("log")))
void polyplug_log(uint32_t level, const char *ptr, uint32_t len);

/*
 * The plugin's version number: 1 or 2.
 */
PP_WASM_EXPORT("demo.counter@1.0.0/version:u32()")
uint32_t demo_counter_version(void) {
    return 0;
}

/*
 * `x` plus the plugin's version; 0 when that overflows.
 */
PP_WASM_EXPORT("demo.counter@1.0.0/step:u32(u32)")
uint32_t demo_counter_step(uint32_t x) {
    (void)x;
    return 0;
}
