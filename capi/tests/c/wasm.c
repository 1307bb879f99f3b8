/*
 * A C host loading a WebAssembly plugin (argv[1], the capi.calc bundle)
 * beside a native one (argv[2], test-add): a runtime made with the
 * WebAssembly loader, its contract found like any other, its typed
 * functions called packed with polyplug_fn_call, a trap reported as a
 * typed error. The host's own contract, capi.host, reaches the guest
 * through polyplug_host_contract_typed_packed: the guest calls it by name,
 * as it would call a plugin's, and the host calls it packed; a function
 * registered without its packed form is refused by name.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"

static const PpVersion V1_0 = {1, 0, 0};

typedef struct {
    uint32_t a, b;
} AddArgs;

/* Stops the program unless `call` returns `status`. */
#define EXPECT_STATUS(call, status)                                                         \
    do {                                                                                    \
        polyplug_status got_ = (call);                                                      \
        if (got_ != (status)) {                                                             \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s: %s\n", __FILE__, __LINE__, \
                    #call, polyplug_status_name(got_), #status,                             \
                    polyplug_last_error_message(NULL));                                     \
            exit(1);                                                                        \
        }                                                                                   \
    } while (0)

static uint32_t twice(uint32_t x) { return 2 * x; }
static uint32_t plus_one(uint32_t x) { return x + 1; }

/* The packed form of a u32(u32): `ctx` is its typed entry. */
static uint32_t packed_u32_u32(void *ctx, void *instance, const void *args, void *out,
                               PpAbiError *err) {
    const PpTypedEntry *entry = (const PpTypedEntry *)ctx;
    uint32_t (*func)(uint32_t) = (uint32_t(*)(uint32_t))entry->func;
    uint32_t x, y;
    (void)instance;
    (void)err;
    memcpy(&x, args, sizeof x);
    y = func(x);
    memcpy(out, &y, sizeof y);
    return PP_OK;
}

/* The reader a polyplug_fn_call_pinned runs on, and what destroying it
   from inside that call returned. */
static polyplug_reader *calling_reader;
static polyplug_status destroyed_inside = POLYPLUG_OK;

/* packed_u32_u32, after trying to destroy the reader the call is pinned on. */
static uint32_t packed_destroying(void *ctx, void *instance, const void *args, void *out,
                                  PpAbiError *err) {
    destroyed_inside = polyplug_reader_destroy(calling_reader);
    return packed_u32_u32(ctx, instance, args, out, err);
}

int main(int argc, char **argv) {
    EXPECT(argc == 3);
    const char *calc_dir = argv[1], *test_add = argv[2];

    /* Without the loader, a wasm bundle is refused by kind. */
    polyplug_runtime *plain;
    CHECK(polyplug_runtime_new(&plain));
    EXPECT_STATUS(polyplug_load_bundle(plain, calc_dir, NULL), POLYPLUG_ERR_UNSUPPORTED_LOADER);
    CHECK(polyplug_runtime_destroy(plain));

    polyplug_options options = {0};
    polyplug_runtime *runtime;
    options.loaders = 0x80;
    EXPECT_STATUS(polyplug_runtime_new_with(&options, &runtime), POLYPLUG_ERR_UNSUPPORTED_LOADER);
    options.loaders = POLYPLUG_LOADER_WASM;
    CHECK(polyplug_runtime_new_with(&options, &runtime));
    uint64_t calc_id;
    CHECK(polyplug_load_bundle(runtime, calc_dir, &calc_id));
    CHECK(polyplug_load_bundle(runtime, test_add, NULL));

    polyplug_reader *reader;
    polyplug_guard guard;
    polyplug_contract calc, native;
    CHECK(polyplug_reader_new(runtime, &reader));
    CHECK(polyplug_pin(reader, &guard));
    CHECK(polyplug_find(guard, "capi.calc", V1_0, &calc));
    CHECK(polyplug_find(guard, "test.add", V1_0, &native));

    /* An engine-run function has no C pointer: a clear status. */
    PpVoidFn f = NULL;
    EXPECT_STATUS(polyplug_typed(guard, calc, "add", "u32(u32,u32)", &f), POLYPLUG_ERR_NOT_NATIVE);
    EXPECT(f == NULL);
    polyplug_fn *add, *fail, *native_add;
    CHECK(polyplug_fn_new(guard, calc, "add", "u32(u32,u32)", &add));
    CHECK(polyplug_fn_new(guard, calc, "fail", "u32(u32)", &fail));
    CHECK(polyplug_fn_new(guard, native, "add", "u32(u32,u32)", &native_add));
    EXPECT_STATUS(polyplug_fn_get(guard, add, &f), POLYPLUG_ERR_NOT_NATIVE);
    EXPECT(strstr(polyplug_last_error_message(NULL), "polyplug_fn_call") != NULL);

    /* Packed calls: the WebAssembly function, and a native one alike. */
    AddArgs args = {2, 3};
    uint32_t sum = 0;
    CHECK(polyplug_fn_call(guard, add, &args, &sum));
    EXPECT(sum == 5);
    args.a = UINT32_MAX;
    args.b = 1;
    CHECK(polyplug_fn_call(guard, add, &args, &sum));
    EXPECT(sum == 0); /* wraps, as i32.add does */
    args.a = 40;
    args.b = 2;
    CHECK(polyplug_fn_call(guard, native_add, &args, &sum));
    EXPECT(sum == 42);
    CHECK(polyplug_fn_get(guard, native_add, &f));
    EXPECT(((uint32_t (*)(uint32_t, uint32_t))f)(20, 22) == 42);

    /* A trap is a typed error: the call status, the trap code, a message
       naming the contract and the function; the runtime serves on. */
    uint32_t x = 7, out = 99;
    EXPECT_STATUS(polyplug_fn_call(guard, fail, &x, &out), POLYPLUG_ERR_CALL);
    EXPECT(polyplug_last_error_code() == PP_ERR_TRAP);
    const char *message = polyplug_last_error_message(NULL);
    printf("trap: %s\n", message);
    EXPECT(strstr(message, "capi.calc") != NULL);
    EXPECT(strstr(message, "fail") != NULL);
    CHECK(polyplug_fn_call(guard, add, &args, &sum));
    EXPECT(sum == 42);

    /* A contract of the host's own, with and without packed forms. */
    polyplug_host_contract *host;
    CHECK(polyplug_host_contract_new("capi.host", V1_0, &host));
    EXPECT_STATUS(polyplug_host_contract_typed_packed(host, "twice", "u32(u32)",
                                                      (PpVoidFn)twice, NULL),
                  POLYPLUG_ERR_NULL);
    EXPECT(strstr(polyplug_last_error_message(NULL), "packed") != NULL);
    CHECK(polyplug_host_contract_typed_packed(host, "twice", "u32(u32)", (PpVoidFn)twice,
                                              packed_u32_u32));
    CHECK(polyplug_host_contract_typed(host, "plain", "u32(u32)", (PpVoidFn)plus_one));
    CHECK(polyplug_host_contract_typed_packed(host, "stay", "u32(u32)", (PpVoidFn)plus_one,
                                              packed_destroying));
    polyplug_contract host_handle;
    CHECK(polyplug_register_host_contract(runtime, host, &host_handle));

    /* The guest calls the host's function by name, through its packed form;
       one without a packed form is refused with PP_ERR_UNSUPPORTED. */
    polyplug_fn *via_host, *via_plain;
    CHECK(polyplug_fn_new(guard, calc, "via_host", "u32(u32)", &via_host));
    CHECK(polyplug_fn_new(guard, calc, "via_plain", "u32(u32)", &via_plain));
    x = 21;
    CHECK(polyplug_fn_call(guard, via_host, &x, &out));
    EXPECT(out == 42);
    CHECK(polyplug_fn_call(guard, via_plain, &x, &out));
    EXPECT(out == (0xE0000000u | PP_ERR_UNSUPPORTED));

    /* The host calls its own functions packed, as a C plugin's: the one with
       a packed form is served, the other refused by name. */
    polyplug_fn *host_twice, *host_plain, *host_stay;
    CHECK(polyplug_fn_new(guard, host_handle, "twice", "u32(u32)", &host_twice));
    CHECK(polyplug_fn_new(guard, host_handle, "plain", "u32(u32)", &host_plain));
    CHECK(polyplug_fn_new(guard, host_handle, "stay", "u32(u32)", &host_stay));
    CHECK(polyplug_unpin(guard));
    x = 50;
    CHECK(polyplug_fn_call_pinned(reader, host_twice, &x, &out));
    EXPECT(out == 100);
    EXPECT_STATUS(polyplug_fn_call_pinned(reader, host_plain, &x, &out), POLYPLUG_ERR_CALL);
    EXPECT(polyplug_last_error_code() == PP_ERR_UNSUPPORTED);
    EXPECT(strstr(polyplug_last_error_message(NULL), "plain") != NULL);
    /* A reader cannot be destroyed under the call pinned on it: the
       function, run inside that call, is told the reader is busy, and
       finishes. */
    calling_reader = reader;
    CHECK(polyplug_fn_call_pinned(reader, host_stay, &x, &out));
    EXPECT(out == 51);
    EXPECT(destroyed_inside == POLYPLUG_ERR_BUSY);
    CHECK(polyplug_fn_destroy(via_host));
    CHECK(polyplug_fn_destroy(via_plain));
    CHECK(polyplug_fn_destroy(host_twice));
    CHECK(polyplug_fn_destroy(host_plain));
    CHECK(polyplug_fn_destroy(host_stay));
    CHECK(polyplug_pin(reader, &guard));

    /* Unloaded: the function goes stale like a native one. */
    CHECK(polyplug_unpin(guard));
    CHECK(polyplug_unload_bundle(runtime, calc_id));
    CHECK(polyplug_pin(reader, &guard));
    EXPECT_STATUS(polyplug_fn_call(guard, add, &args, &sum), POLYPLUG_ERR_STALE_CONTRACT);
    CHECK(polyplug_unpin(guard));

    CHECK(polyplug_fn_destroy(add));
    CHECK(polyplug_fn_destroy(fail));
    CHECK(polyplug_fn_destroy(native_add));
    CHECK(polyplug_reader_destroy(reader));
    CHECK(polyplug_runtime_destroy(runtime));
    printf("ok\n");
    return 0;
}
