/*
 * polyplug_buf_free from C, with the c-text fixture (argv[1]): freeing
 * {NULL, 0} and an empty result is a no-op; a second free, a wrong length
 * and a pointer the library never handed out are refused and free
 * nothing; a result outlives the runtime that made it and is freed on
 * another thread. Run under AddressSanitizer too: a refused free that
 * freed anyway would be a double free it reports.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "check.h"

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

static void *free_elsewhere(void *arg) {
    PpOwnedBuf *buf = (PpOwnedBuf *)arg;
    return (void *)(uintptr_t)polyplug_buf_free(*buf);
}

int main(int argc, char **argv) {
    EXPECT(argc == 2);
    static const PpVersion V1_0 = {1, 0, 0};

    /* Nothing to free. */
    PpOwnedBuf none = {NULL, 0};
    CHECK(polyplug_buf_free(none));
    CHECK(polyplug_buf_free(none));

    polyplug_runtime *runtime;
    polyplug_reader *reader;
    polyplug_guard guard;
    polyplug_contract text;
    polyplug_fn *upper;
    CHECK(polyplug_runtime_new(&runtime));
    CHECK(polyplug_load_bundle(runtime, argv[1], NULL));
    CHECK(polyplug_reader_new(runtime, &reader));
    CHECK(polyplug_pin(reader, &guard));
    CHECK(polyplug_find(guard, "test.text", V1_0, &text));
    CHECK(polyplug_fn_new(guard, text, "upper", "string(str)", &upper));

    PpStrView arg = PP_STR("hello");
    PpOwnedBuf out = {NULL, 0};
    CHECK(polyplug_fn_call(guard, upper, &arg, &out));
    EXPECT(out.len == 5 && memcmp(out.ptr, "HELLO", 5) == 0);
    CHECK(polyplug_buf_free(out));
    /* A second free of the same value: refused, nothing freed. */
    EXPECT_STATUS(polyplug_buf_free(out), POLYPLUG_ERR_INVALID_HANDLE);
    EXPECT(strstr(polyplug_last_error_message(NULL), "freed already") != NULL);

    /* An empty result is {NULL, 0}. */
    PpStrView empty = {NULL, 0};
    CHECK(polyplug_fn_call(guard, upper, &empty, &out));
    EXPECT(out.ptr == NULL && out.len == 0);
    CHECK(polyplug_buf_free(out));

    /* A wrong length: refused; the right one then frees. */
    CHECK(polyplug_fn_call(guard, upper, &arg, &out));
    PpOwnedBuf wrong = out;
    wrong.len = 2;
    EXPECT_STATUS(polyplug_buf_free(wrong), POLYPLUG_ERR_INVALID_HANDLE);
    CHECK(polyplug_buf_free(out));

    /* Memory the library never handed out. */
    uint8_t local[4] = {1, 2, 3, 4};
    PpOwnedBuf foreign = {local, sizeof local};
    EXPECT_STATUS(polyplug_buf_free(foreign), POLYPLUG_ERR_INVALID_HANDLE);
    uint8_t *heap = (uint8_t *)malloc(8);
    PpOwnedBuf from_malloc = {heap, 8};
    EXPECT_STATUS(polyplug_buf_free(from_malloc), POLYPLUG_ERR_INVALID_HANDLE);
    free(heap);

    /* A result outlives its runtime, and is freed on another thread. */
    PpOwnedBuf kept = {NULL, 0};
    CHECK(polyplug_fn_call(guard, upper, &arg, &kept));
    CHECK(polyplug_unpin(guard));
    CHECK(polyplug_fn_destroy(upper));
    CHECK(polyplug_reader_destroy(reader));
    CHECK(polyplug_runtime_destroy(runtime));
    EXPECT(memcmp(kept.ptr, "HELLO", 5) == 0);
    pthread_t thread;
    void *status = NULL;
    EXPECT(pthread_create(&thread, NULL, free_elsewhere, &kept) == 0);
    EXPECT(pthread_join(thread, &status) == 0);
    EXPECT((polyplug_status)(uintptr_t)status == POLYPLUG_OK);
    EXPECT_STATUS(polyplug_buf_free(kept), POLYPLUG_ERR_INVALID_HANDLE);

    printf("ok\n");
    return 0;
}
