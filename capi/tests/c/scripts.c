/*
 * A C host loading script plugins: a Lua bundle (argv[1], capi.lua), a
 * JavaScript bundle (argv[2], capi.js) and a Python bundle (argv[4],
 * capi.python) beside a native one (argv[3], test-add). Each script contract is found like any other, its typed
 * functions are called packed with polyplug_fn_call (numbers, a string
 * view in, an owned string out), a raised error is a typed error naming
 * the contract, and an unloaded contract goes stale: the language does
 * not show.
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

/* Loads `dir`, which provides `contract`, and calls it as any host would. */
static void exercise(polyplug_runtime *runtime, polyplug_reader *reader, const char *dir,
                     const char *contract) {
    uint64_t id;
    CHECK(polyplug_load_bundle(runtime, dir, &id));

    polyplug_guard guard;
    polyplug_contract found;
    CHECK(polyplug_pin(reader, &guard));
    CHECK(polyplug_find(guard, contract, V1_0, &found));

    /* A script function has no C pointer: a clear status. */
    PpVoidFn f = NULL;
    EXPECT_STATUS(polyplug_typed(guard, found, "add", "u32(u32,u32)", &f),
                  POLYPLUG_ERR_NOT_NATIVE);
    EXPECT(f == NULL);
    /* The signature is checked against the registration. */
    polyplug_fn *wrong = NULL;
    EXPECT_STATUS(polyplug_fn_new(guard, found, "add", "u64(u64)", &wrong),
                  POLYPLUG_ERR_SIGNATURE_MISMATCH);

    polyplug_fn *add, *upper, *fail;
    CHECK(polyplug_fn_new(guard, found, "add", "u32(u32,u32)", &add));
    CHECK(polyplug_fn_new(guard, found, "upper", "string(str)", &upper));
    CHECK(polyplug_fn_new(guard, found, "fail", "u32(u32)", &fail));

    AddArgs args = {2, 3};
    uint32_t sum = 0;
    CHECK(polyplug_fn_call(guard, add, &args, &sum));
    EXPECT(sum == 5);
    /* Pin, call and unpin in one call: the same function, the same answer. */
    sum = 0;
    CHECK(polyplug_fn_call_pinned(reader, add, &args, &sum));
    EXPECT(sum == 5);
    args.a = UINT32_MAX;
    args.b = 1;
    CHECK(polyplug_fn_call(guard, add, &args, &sum));
    EXPECT(sum == 0);

    PpStrView text = {(const uint8_t *)"hello", 5};
    PpOwnedBuf out = {NULL, 0};
    CHECK(polyplug_fn_call(guard, upper, &text, &out));
    EXPECT(out.len == 5 && memcmp(out.ptr, "HELLO", 5) == 0);
    CHECK(polyplug_buf_free(out));

    /* A raised error is a typed error: the call status, the trap code, a
       message naming the contract, the function and the script's words;
       the same thread's next call is served. */
    uint32_t x = 7, result = 99;
    EXPECT_STATUS(polyplug_fn_call(guard, fail, &x, &result), POLYPLUG_ERR_CALL);
    EXPECT(polyplug_last_error_code() == PP_ERR_TRAP);
    const char *message = polyplug_last_error_message(NULL);
    printf("%s raised: %s\n", contract, message);
    EXPECT(strstr(message, contract) != NULL);
    EXPECT(strstr(message, "fail") != NULL);
    EXPECT(strstr(message, "refused 7") != NULL);
    args.a = 40;
    args.b = 2;
    CHECK(polyplug_fn_call(guard, add, &args, &sum));
    EXPECT(sum == 42);
    CHECK(polyplug_unpin(guard));

    /* Reloaded from the same directory: the function follows the new load. */
    CHECK(polyplug_reload_bundle(runtime, id, NULL));
    sum = 0;
    CHECK(polyplug_fn_call_pinned(reader, add, &args, &sum));
    EXPECT(sum == 42);
    CHECK(polyplug_pin(reader, &guard));
    CHECK(polyplug_fn_call(guard, add, &args, &sum));
    EXPECT(sum == 42);
    CHECK(polyplug_unpin(guard));

    /* Unloaded: the function goes stale like a native one. */
    CHECK(polyplug_unload_bundle(runtime, id));
    CHECK(polyplug_pin(reader, &guard));
    EXPECT_STATUS(polyplug_fn_call(guard, add, &args, &sum), POLYPLUG_ERR_STALE_CONTRACT);
    CHECK(polyplug_unpin(guard));
    EXPECT_STATUS(polyplug_fn_call_pinned(reader, add, &args, &sum), POLYPLUG_ERR_STALE_CONTRACT);

    CHECK(polyplug_fn_destroy(add));
    CHECK(polyplug_fn_destroy(upper));
    CHECK(polyplug_fn_destroy(fail));
}

int main(int argc, char **argv) {
    EXPECT(argc == 5);
    const char *lua = argv[1], *js = argv[2], *native = argv[3], *python = argv[4];

    /* Without the loaders, script bundles are refused by kind. */
    polyplug_runtime *plain;
    CHECK(polyplug_runtime_new(&plain));
    EXPECT_STATUS(polyplug_load_bundle(plain, lua, NULL), POLYPLUG_ERR_UNSUPPORTED_LOADER);
    EXPECT_STATUS(polyplug_load_bundle(plain, js, NULL), POLYPLUG_ERR_UNSUPPORTED_LOADER);
    EXPECT_STATUS(polyplug_load_bundle(plain, python, NULL), POLYPLUG_ERR_UNSUPPORTED_LOADER);
    CHECK(polyplug_runtime_destroy(plain));

    polyplug_options options = {POLYPLUG_LOADER_LUA | POLYPLUG_LOADER_JS | POLYPLUG_LOADER_PYTHON};
    polyplug_runtime *runtime;
    CHECK(polyplug_runtime_new_with(&options, &runtime));
    CHECK(polyplug_load_bundle(runtime, native, NULL));
    polyplug_reader *reader;
    CHECK(polyplug_reader_new(runtime, &reader));

    exercise(runtime, reader, lua, "capi.lua");
    exercise(runtime, reader, js, "capi.js");
    exercise(runtime, reader, python, "capi.python");

    CHECK(polyplug_reader_destroy(reader));
    CHECK(polyplug_runtime_destroy(runtime));
    printf("ok\n");
    return 0;
}
