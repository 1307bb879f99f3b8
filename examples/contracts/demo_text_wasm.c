/*
 * Written by `polyplug gen text.toml --lang wasm-c` from contract demo.text 1.0.0.
 * A stub to fill in: every function returns zero until it is written.
 * Compile it without libc, and name the module in a bundle's [library]
 * with `loader = "wasm"`, declaring the contract under [[provides]]:
 *
 *     clang --target=wasm32-unknown-unknown -O2 -nostdlib -Wl,--no-entry \
 *         -o demo_text.wasm demo_text_wasm.c
 *
 * Text and bytes in, borrowed for the call; an owned string or a number out.
 */
#include <stdint.h>

/* Exports a function under the wasm export name `name`. */
#define PP_WASM_EXPORT(name) __attribute__((export_name(name)))

/* The host's log import: `len` bytes of this module's memory at `ptr`, at
 * `level` (0 trace, 1 debug, 2 info, 3 warn, 4 error). */
__attribute__((import_module("polyplug"), import_name("log")))
void polyplug_log(uint32_t level, const char *ptr, uint32_t len);

/*
 * The bytes the host copies str and bytes arguments into, through
 * polyplug_alloc, and gives back through polyplug_free after the call. The
 * arena hands out its bytes in order and starts over once all of them are
 * given back; an allocation that does not fit traps (raise
 * PP_ARENA_SIZE for larger arguments).
 */
#ifndef PP_ARENA_SIZE
#define PP_ARENA_SIZE 65536u
#endif
static unsigned char pp_arena[PP_ARENA_SIZE] __attribute__((aligned(16)));
static uint32_t pp_arena_used;
static uint32_t pp_arena_live;

PP_WASM_EXPORT("polyplug_alloc")
void *polyplug_alloc(uint32_t size, uint32_t align) {
    uint32_t mask = align > 1u ? align - 1u : 0u;
    uint32_t start = (pp_arena_used + mask) & ~mask;
    if (start > PP_ARENA_SIZE || size > PP_ARENA_SIZE - start) {
        __builtin_trap();
    }
    pp_arena_used = start + size;
    pp_arena_live += 1u;
    return pp_arena + start;
}

PP_WASM_EXPORT("polyplug_free")
void polyplug_free(void *ptr, uint32_t size, uint32_t align) {
    (void)size;
    (void)align;
    unsigned char *bytes = ptr;
    if (bytes < pp_arena || bytes >= pp_arena + PP_ARENA_SIZE || pp_arena_live == 0u) {
        return;
    }
    pp_arena_live -= 1u;
    if (pp_arena_live == 0u) {
        pp_arena_used = 0u;
    }
}

/* A string or buf result: `len` bytes at `ptr` as one i64, ptr | len << 32. */
__attribute__((unused)) static inline uint64_t pp_result(const void *ptr, uint32_t len) {
    return (uint64_t)(uintptr_t)ptr | (uint64_t)len << 32;
}

/*
 * `text` upper-cased: all of Unicode in Rust, ASCII a-z only in C.
 *
 * Returns pp_result(ptr, len): bytes in this module's memory, which the
 * host copies out at once and then gives to polyplug_free(ptr, len, 1);
 * 0 is no bytes.
 */
PP_WASM_EXPORT("demo.text@1.0.0/upper:string(str)")
uint64_t demo_text_upper(const char *text, uint32_t text_len) {
    (void)text;
    (void)text_len;
    return 0;
}

/*
 * The wrapping sum of the bytes as u64.
 */
PP_WASM_EXPORT("demo.text@1.0.0/checksum:u64(bytes)")
uint64_t demo_text_checksum(const uint8_t *bytes, uint32_t bytes_len) {
    (void)bytes;
    (void)bytes_len;
    return 0;
}
