/*
 * A C host loading a WebAssembly plugin (argv[1], the capi.calc bundle)
 * beside a native one (argv[2], test-add): a runtime made with the
 * WebAssembly loader, its contract found like any other, its typed
 * functions called packed with polyplug_fn_call, a trap reported as a
 * typed error.
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
