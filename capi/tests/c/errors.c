/*
 * Every error path of the C API, from C: a NULL in each pointer argument, a
 * stale or forged handle, a destroyed object, a wrong signature, the wrong
 * thread, a busy object, bad bundles and failing plugins. Each call must
 * return its status, and the thread's last error must name the thing.
 *
 * Usage: errors <test-add> <c-add> <reload-v1> <reload-v2> <consumer>
 *               <bad-abi> <bad-init-error> <bad-lacks-contract> <missing dir>
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "check.h"

typedef struct AddArgs {
    uint32_t a, b;
} AddArgs;

static int checked;
static int failed;

/* `call` must return `want`, and the last error must contain `text`. */
#define EXPECT_ERR(call, want, text) expect_err((call), (want), (text), #call, __LINE__)

static void expect_err(polyplug_status got, polyplug_status want, const char *text,
                       const char *what, int line) {
    size_t len = 0;
    const char *message = polyplug_last_error_message(&len);
    checked++;
    if (got != want) {
        fprintf(stderr, "errors.c:%d: %s returned %s, expected %s (message: %s)\n", line, what,
                polyplug_status_name(got), polyplug_status_name(want),
                got == POLYPLUG_OK ? "-" : message);
        failed++;
    } else if (polyplug_last_error_status() != want) {
        fprintf(stderr, "errors.c:%d: %s: last status %s, expected %s\n", line, what,
                polyplug_status_name(polyplug_last_error_status()), polyplug_status_name(want));
        failed++;
    } else if (strstr(message, text) == NULL || strlen(message) != len) {
        fprintf(stderr, "errors.c:%d: %s: message \"%s\" does not name \"%s\"\n", line, what,
                message, text);
        failed++;
    }
}

static const PpVersion V1_0 = {1, 0, 0};

/* Shared with the other threads of the test. */
static polyplug_reader *main_reader;
static polyplug_guard main_guard;
static polyplug_fn *main_fn;
static polyplug_runtime *runtime;

static void *other_thread(void *unused) {
    (void)unused;
    polyplug_contract c;
    PpVoidFn f;
    polyplug_guard g;
    EXPECT_ERR(polyplug_find(main_guard, "test.add", V1_0, &c), POLYPLUG_ERR_WRONG_THREAD,
               "thread other than");
    EXPECT_ERR(polyplug_pin(main_reader, &g), POLYPLUG_ERR_WRONG_THREAD, "thread other than");
    EXPECT_ERR(polyplug_unpin(main_guard), POLYPLUG_ERR_WRONG_THREAD, "thread other than");
    EXPECT_ERR(polyplug_reader_destroy(main_reader), POLYPLUG_ERR_WRONG_THREAD, "thread other than");
    EXPECT_ERR(polyplug_fn_destroy(main_fn), POLYPLUG_ERR_WRONG_THREAD, "thread other than");
    uint32_t x = 1, y = 0;
    EXPECT_ERR(polyplug_fn_call_pinned(main_reader, main_fn, &x, &y), POLYPLUG_ERR_WRONG_THREAD,
               "thread other than");
    /* A guard of this thread, a function of the main thread. */
    polyplug_reader *mine;
    CHECK(polyplug_reader_new(runtime, &mine));
    EXPECT_ERR(polyplug_fn_call_pinned(mine, main_fn, &x, &y), POLYPLUG_ERR_WRONG_THREAD,
               "thread other than");
    EXPECT(y == 0);
    CHECK(polyplug_pin(mine, &g));
    EXPECT_ERR(polyplug_fn_get(g, main_fn, &f), POLYPLUG_ERR_WRONG_THREAD, "thread other than");
    CHECK(polyplug_unpin(g));
    CHECK(polyplug_reader_destroy(mine));
    /* The main thread's last error is its own. */
    return NULL;
}

/* A host contract function, called natively under `main_guard`, that tries
 * to unpin that very guard. */
static polyplug_status unpin_status;

static uint32_t unpin_caller(void *instance, const void *args, void *out, PpAbiError *err) {
    (void)instance;
    (void)args;
    (void)err;
    unpin_status = polyplug_unpin(main_guard);
    *(uint32_t *)out = 0;
    return PP_OK;
}

/* A listener that tries to destroy itself from its callback. NOT_YET until
   the callback has stored what its destroy returned. */
#define NOT_YET UINT32_MAX
static polyplug_listener *listener;
static atomic_uint self_destroy = NOT_YET;
static atomic_int callbacks;

static void on_event(void *user_data, const polyplug_event *event) {
    (void)user_data;
    (void)event;
    if (atomic_fetch_add(&callbacks, 1) == 0) atomic_store(&self_destroy, polyplug_listener_destroy(listener));
}

int main(int argc, char **argv) {
    EXPECT(argc == 10);
    const char *test_add = argv[1], *c_add = argv[2], *reload_v1 = argv[3],
               *reload_v2 = argv[4], *consumer = argv[5], *bad_abi = argv[6],
               *bad_init = argv[7], *bad_lacks = argv[8], *missing = argv[9];
    const char not_utf8[] = {'t', (char)0xff, 0};
    uint64_t id;
    size_t count;
    uint64_t ids[4];

    /* ---- runtime ---- */
    EXPECT_ERR(polyplug_runtime_new(NULL), POLYPLUG_ERR_NULL, "out is NULL");
    EXPECT_ERR(polyplug_runtime_destroy(NULL), POLYPLUG_ERR_NULL, "runtime is NULL");
    CHECK(polyplug_runtime_new(&runtime));
    EXPECT_ERR(polyplug_load_bundle(NULL, test_add, &id), POLYPLUG_ERR_NULL, "runtime is NULL");
    EXPECT_ERR(polyplug_load_bundle(runtime, NULL, &id), POLYPLUG_ERR_NULL, "dir is NULL");
    EXPECT_ERR(polyplug_load_bundle(runtime, missing, &id), POLYPLUG_ERR_BUNDLE, missing);
    EXPECT_ERR(polyplug_load_bundle(runtime, bad_abi, &id), POLYPLUG_ERR_LIBRARY, "polyplug_abi_version");
    EXPECT_ERR(polyplug_load_bundle(runtime, bad_init, &id), POLYPLUG_ERR_INIT_FAILED,
               "refused on purpose");
    EXPECT(polyplug_last_error_code() == 1007);
    EXPECT_ERR(polyplug_load_bundle(runtime, consumer, &id), POLYPLUG_ERR_MISSING_PROVIDER,
               "test.add");
    uint64_t add_id, reload_id;
    CHECK(polyplug_load_bundle(runtime, test_add, &add_id));
    EXPECT_ERR(polyplug_load_bundle(runtime, test_add, &id), POLYPLUG_ERR_ALREADY_LOADED,
               "test-add");
    CHECK(polyplug_load_bundle(runtime, consumer, NULL));
    CHECK(polyplug_load_bundle(runtime, reload_v1, &reload_id));
    EXPECT_ERR(polyplug_load_dir(runtime, NULL, ids, 4, &count), POLYPLUG_ERR_NULL, "dir is NULL");
    EXPECT_ERR(polyplug_load_dir(runtime, missing, ids, 4, &count), POLYPLUG_ERR_READ_DIR,
               missing);
    /* A bundle id names its runtime (high 32 bits): 12345 names runtime 0,
       which never exists; add_id + 1000 names this runtime, no bundle. */
    EXPECT_ERR(polyplug_reload_bundle(runtime, 12345, NULL), POLYPLUG_ERR_FOREIGN_BUNDLE, "#12345");
    EXPECT_ERR(polyplug_reload_bundle(runtime, add_id + 1000, NULL), POLYPLUG_ERR_UNKNOWN_BUNDLE, "#");
    {
        polyplug_runtime *other;
        uint64_t other_id;
        CHECK(polyplug_runtime_new(&other));
        CHECK(polyplug_load_bundle(other, test_add, &other_id));
        EXPECT((other_id >> 32) != (add_id >> 32));
        EXPECT_ERR(polyplug_unload_bundle(runtime, other_id), POLYPLUG_ERR_FOREIGN_BUNDLE,
                   "issued by another runtime");
        EXPECT_ERR(polyplug_unload_bundle(other, add_id), POLYPLUG_ERR_FOREIGN_BUNDLE,
                   "issued by another runtime");
        CHECK(polyplug_runtime_destroy(other));
    }
    EXPECT_ERR(polyplug_reload_bundle(runtime, reload_id, test_add), POLYPLUG_ERR_NAME_MISMATCH,
               "test-add");
    EXPECT_ERR(polyplug_reload_bundle(runtime, reload_id, bad_lacks),
               POLYPLUG_ERR_RELOAD_LACKS_CONTRACT, "reload.test");
    EXPECT_ERR(polyplug_reload_bundle(runtime, reload_id, bad_abi), POLYPLUG_ERR_LIBRARY, "polyplug_abi_version");
    EXPECT_ERR(polyplug_unload_bundle(runtime, 12345), POLYPLUG_ERR_FOREIGN_BUNDLE, "#12345");
    EXPECT_ERR(polyplug_unload_bundle(runtime, add_id + 1000), POLYPLUG_ERR_UNKNOWN_BUNDLE, "#");
    EXPECT_ERR(polyplug_unload_bundle(runtime, add_id), POLYPLUG_ERR_HAS_DEPENDENTS, "consumer");
    /* Arguments are checked before a write changes anything. */
    EXPECT_ERR(polyplug_unload_cascade(runtime, add_id, NULL, 4, &count), POLYPLUG_ERR_NULL, "ids");
    CHECK(polyplug_bundle_id(runtime, "test-add", &id));
    CHECK(polyplug_bundle_id(runtime, "consumer", &id));
    EXPECT_ERR(polyplug_unload_cascade(runtime, 12345, ids, 4, &count),
               POLYPLUG_ERR_FOREIGN_BUNDLE, "#12345");
    EXPECT_ERR(polyplug_unload_cascade(runtime, add_id + 1000, ids, 4, &count),
               POLYPLUG_ERR_UNKNOWN_BUNDLE, "#");
    EXPECT_ERR(polyplug_reclaim(NULL, NULL), POLYPLUG_ERR_NULL, "runtime is NULL");
    EXPECT_ERR(polyplug_drain(NULL, 0), POLYPLUG_ERR_NULL, "runtime is NULL");
    EXPECT_ERR(polyplug_bundle_id(runtime, "nope", &id), POLYPLUG_ERR_UNKNOWN_BUNDLE, "nope");
    EXPECT_ERR(polyplug_bundle_id(runtime, NULL, &id), POLYPLUG_ERR_NULL, "name is NULL");
    EXPECT_ERR(polyplug_bundle_id(runtime, not_utf8, &id), POLYPLUG_ERR_UTF8, "name");
    EXPECT_ERR(polyplug_bundle_id(runtime, "test-add", NULL), POLYPLUG_ERR_NULL, "bundle is NULL");
    EXPECT_ERR(polyplug_revision(runtime, NULL), POLYPLUG_ERR_NULL, "revision is NULL");
    EXPECT_ERR(polyplug_library_stats_get(runtime, NULL), POLYPLUG_ERR_NULL, "stats is NULL");

    /* ---- bundle list ---- */
    polyplug_bundle_list *list;
    const polyplug_bundle_info *items;
    EXPECT_ERR(polyplug_bundles(runtime, NULL), POLYPLUG_ERR_NULL, "out is NULL");
    CHECK(polyplug_bundles(runtime, &list));
    EXPECT_ERR(polyplug_bundle_list_items(NULL, &items, &count), POLYPLUG_ERR_NULL, "list is NULL");
    EXPECT_ERR(polyplug_bundle_list_items(list, NULL, &count), POLYPLUG_ERR_NULL, "items is NULL");
    EXPECT_ERR(polyplug_bundle_list_items(list, &items, NULL), POLYPLUG_ERR_NULL, "count is NULL");
    EXPECT_ERR(polyplug_bundle_list_items((polyplug_bundle_list *)runtime, &items, &count),
               POLYPLUG_ERR_INVALID_HANDLE, "not a live polyplug_bundle_list");
    CHECK(polyplug_bundle_list_destroy(list));
    EXPECT_ERR(polyplug_bundle_list_destroy(list), POLYPLUG_ERR_INVALID_HANDLE,
               "not a live polyplug_bundle_list");

    /* ---- host contracts ---- */
    polyplug_host_contract *host;
    EXPECT_ERR(polyplug_host_contract_new(NULL, V1_0, &host), POLYPLUG_ERR_NULL, "name is NULL");
    EXPECT_ERR(polyplug_host_contract_new("host.x", V1_0, NULL), POLYPLUG_ERR_NULL, "out is NULL");
    CHECK(polyplug_host_contract_new("host.x", V1_0, &host));
    EXPECT_ERR(polyplug_host_contract_native(host, "f", NULL), POLYPLUG_ERR_NULL, "func is NULL");
    EXPECT_ERR(polyplug_host_contract_native(host, NULL, unpin_caller), POLYPLUG_ERR_NULL, "name is NULL");
    EXPECT_ERR(polyplug_host_contract_typed(host, "f", NULL, (PpVoidFn)unpin_caller),
               POLYPLUG_ERR_NULL, "signature is NULL");
    EXPECT_ERR(polyplug_host_contract_native(NULL, "f", unpin_caller), POLYPLUG_ERR_NULL,
               "contract is NULL");
    CHECK(polyplug_host_contract_typed(host, "f", "quux(u32)", (PpVoidFn)unpin_caller));
    EXPECT_ERR(polyplug_register_host_contract(NULL, host, NULL), POLYPLUG_ERR_NULL, "runtime is NULL");
    EXPECT_ERR(polyplug_register_host_contract(runtime, host, NULL), POLYPLUG_ERR_HOST_CONTRACT,
               "typed[0].signature");
    /* Consumed even though refused. */
    EXPECT_ERR(polyplug_host_contract_destroy(host), POLYPLUG_ERR_INVALID_HANDLE,
               "not a live polyplug_host_contract");
    CHECK(polyplug_host_contract_new("host.x", V1_0, &host));
    CHECK(polyplug_host_contract_native(host, "unpin_caller", unpin_caller));
    polyplug_contract host_handle;
    CHECK(polyplug_register_host_contract(runtime, host, &host_handle));

    /* ---- readers and guards ---- */
    polyplug_reader *reader;
    polyplug_guard guard = POLYPLUG_GUARD_NONE, guards[POLYPLUG_MAX_GUARDS + 1];
    EXPECT_ERR(polyplug_reader_new(NULL, &reader), POLYPLUG_ERR_NULL, "runtime is NULL");
    EXPECT_ERR(polyplug_reader_new(runtime, NULL), POLYPLUG_ERR_NULL, "out is NULL");
    EXPECT_ERR(polyplug_reader_new((polyplug_runtime *)&guard, &reader), POLYPLUG_ERR_INVALID_HANDLE,
               "not a live polyplug_runtime");
    CHECK(polyplug_reader_new(runtime, &reader));
    main_reader = reader;
    EXPECT_ERR(polyplug_runtime_destroy(runtime), POLYPLUG_ERR_BUSY, "1 live reader");
    EXPECT_ERR(polyplug_pin(NULL, &guard), POLYPLUG_ERR_NULL, "reader is NULL");
    EXPECT_ERR(polyplug_pin(reader, NULL), POLYPLUG_ERR_NULL, "out is NULL");
    EXPECT_ERR(polyplug_pin((polyplug_reader *)runtime, &guard), POLYPLUG_ERR_INVALID_HANDLE,
               "not a live polyplug_reader");
    polyplug_guard none = POLYPLUG_GUARD_NONE;
    polyplug_contract c;
    EXPECT_ERR(polyplug_find(none, "test.add", V1_0, &c), POLYPLUG_ERR_NULL, "guard.reader is NULL");
    for (unsigned i = 0; i < POLYPLUG_MAX_GUARDS; i++) CHECK(polyplug_pin(reader, &guards[i]));
    EXPECT_ERR(polyplug_pin(reader, &guards[POLYPLUG_MAX_GUARDS]), POLYPLUG_ERR_GUARD_LIMIT, "16");
    EXPECT_ERR(polyplug_reader_destroy(reader), POLYPLUG_ERR_BUSY, "16 pinned guard");
    for (unsigned i = 0; i < POLYPLUG_MAX_GUARDS; i++) CHECK(polyplug_unpin(guards[i]));
    EXPECT_ERR(polyplug_unpin(guards[0]), POLYPLUG_ERR_STALE_GUARD, "not pinned");
    EXPECT_ERR(polyplug_find(guards[1], "test.add", V1_0, &c), POLYPLUG_ERR_STALE_GUARD, "not pinned");
    EXPECT_ERR(polyplug_repin(guards[2]), POLYPLUG_ERR_STALE_GUARD, "not pinned");
    CHECK(polyplug_pin(reader, &guard));
    polyplug_guard forged = guard;
    forged.token += 1u << 8; /* the next generation of the same slot */
    EXPECT_ERR(polyplug_unpin(forged), POLYPLUG_ERR_STALE_GUARD, "not pinned");
    forged.token = guard.token | 0xff; /* a slot that does not exist */
    EXPECT_ERR(polyplug_unpin(forged), POLYPLUG_ERR_STALE_GUARD, "not pinned");
    EXPECT_ERR(polyplug_guard_revision(guard, NULL), POLYPLUG_ERR_NULL, "revision is NULL");

    /* ---- find ---- */
    EXPECT_ERR(polyplug_find(guard, NULL, V1_0, &c), POLYPLUG_ERR_NULL, "name is NULL");
    EXPECT_ERR(polyplug_find(guard, not_utf8, V1_0, &c), POLYPLUG_ERR_UTF8, "name is not UTF-8");
    EXPECT_ERR(polyplug_find(guard, "test.mul", V1_0, &c), POLYPLUG_ERR_NOT_FOUND, "test.mul");
    PpVersion v1_1 = {1, 1, 0};
    EXPECT_ERR(polyplug_find(guard, "test.add", v1_1, &c), POLYPLUG_ERR_NOT_FOUND, "1.1.0");
    EXPECT_ERR(polyplug_find(guard, "test.add", V1_0, NULL), POLYPLUG_ERR_NULL, "contract is NULL");
    EXPECT_ERR(polyplug_find_all(guard, "test.add", V1_0, NULL, 4, &count), POLYPLUG_ERR_NULL,
               "ids");
    polyplug_contract add, reload;
    CHECK(polyplug_find(guard, "test.add", V1_0, &add));
    CHECK(polyplug_find(guard, "reload.test", V1_0, &reload));
    polyplug_contract_info info;
    EXPECT_ERR(polyplug_contract_describe(guard, 0, &info), POLYPLUG_ERR_INVALID_HANDLE,
               "not a contract handle");
    EXPECT_ERR(polyplug_contract_describe(guard, add, NULL), POLYPLUG_ERR_NULL, "info is NULL");

    /* ---- typed functions ---- */
    PpVoidFn f;
    EXPECT_ERR(polyplug_typed(guard, add, "inc", "u64(u64)", &f), POLYPLUG_ERR_SIGNATURE_MISMATCH,
               "typed function inc is u32(u32), not u64(u64)");
    EXPECT_ERR(polyplug_typed(guard, add, "inc", "nonsense", &f), POLYPLUG_ERR_SIGNATURE_MISMATCH,
               "not nonsense");
    EXPECT_ERR(polyplug_typed(guard, add, "nope", "u32(u32)", &f), POLYPLUG_ERR_NO_FUNCTION,
               "typed function nope");
    EXPECT_ERR(polyplug_typed(guard, add, NULL, "u32(u32)", &f), POLYPLUG_ERR_NULL, "name is NULL");
    EXPECT_ERR(polyplug_typed(guard, add, "inc", NULL, &f), POLYPLUG_ERR_NULL, "signature is NULL");
    EXPECT_ERR(polyplug_typed(guard, add, "inc", "u32(u32)", NULL), POLYPLUG_ERR_NULL, "out is NULL");
    polyplug_fn *fn;
    EXPECT_ERR(polyplug_fn_new(guard, add, "add", "u32(u32)", &fn), POLYPLUG_ERR_SIGNATURE_MISMATCH,
               "u32(u32,u32)");
    EXPECT_ERR(polyplug_fn_new(guard, add, "inc", "u32(u32)", NULL), POLYPLUG_ERR_NULL, "out is NULL");
    CHECK(polyplug_fn_new(guard, add, "inc", "u32(u32)", &fn));
    main_fn = fn;
    EXPECT_ERR(polyplug_fn_get(guard, NULL, &f), POLYPLUG_ERR_NULL, "function is NULL");
    EXPECT_ERR(polyplug_fn_get(guard, fn, NULL), POLYPLUG_ERR_NULL, "out is NULL");
    EXPECT_ERR(polyplug_fn_get(guard, (polyplug_fn *)reader, &f), POLYPLUG_ERR_INVALID_HANDLE,
               "not a live polyplug_fn");
    uint32_t x = 41, y = 0;
    EXPECT_ERR(polyplug_fn_call_pinned(NULL, fn, &x, &y), POLYPLUG_ERR_NULL, "reader is NULL");
    EXPECT_ERR(polyplug_fn_call_pinned(reader, NULL, &x, &y), POLYPLUG_ERR_NULL, "function is NULL");
    EXPECT_ERR(polyplug_fn_call_pinned(reader, (polyplug_fn *)reader, &x, &y),
               POLYPLUG_ERR_INVALID_HANDLE, "not a live polyplug_fn");
    EXPECT_ERR(polyplug_fn_call_pinned((polyplug_reader *)fn, fn, &x, &y),
               POLYPLUG_ERR_INVALID_HANDLE, "not a live polyplug_reader");
    EXPECT(y == 0);

    /* ---- native calls ---- */
    AddArgs args = {1, 2};
    uint32_t out;
    EXPECT_ERR(polyplug_call_native(guard, add, "nope", &args, &out), POLYPLUG_ERR_NO_FUNCTION,
               "native function nope");
    EXPECT_ERR(polyplug_call_native(guard, add, "fail", &args, &out), POLYPLUG_ERR_CALL,
               "test.add failed on purpose");
    EXPECT(polyplug_last_error_code() == 1001);
    EXPECT_ERR(polyplug_call_native(guard, add, "panic", &args, &out), POLYPLUG_ERR_CALL, "panic");
    EXPECT(polyplug_last_error_code() == PP_ERR_PANIC);
    EXPECT_ERR(polyplug_call_native(guard, add, NULL, &args, &out), POLYPLUG_ERR_NULL, "name is NULL");
    /* A guard in use further up the stack cannot be unpinned from below. */
    main_guard = guard;
    CHECK(polyplug_call_native(guard, host_handle, "unpin_caller", NULL, &out));
    EXPECT(unpin_status == POLYPLUG_ERR_BUSY);

    /* ---- instances ---- */
    polyplug_instance *instance;
    EXPECT_ERR(polyplug_instance_new(guard, add, &instance), POLYPLUG_ERR_STATELESS, "test.add");
    EXPECT_ERR(polyplug_instance_new(guard, reload, NULL), POLYPLUG_ERR_NULL, "out is NULL");
    CHECK(polyplug_instance_new(guard, reload, &instance));
    EXPECT_ERR(polyplug_instance_call(instance, "nope", &args, &out), POLYPLUG_ERR_NO_FUNCTION, "nope");
    EXPECT_ERR(polyplug_instance_call(NULL, "bump", &args, &out), POLYPLUG_ERR_NULL, "instance is NULL");
    EXPECT_ERR(polyplug_instance_call(instance, NULL, &args, &out), POLYPLUG_ERR_NULL, "name is NULL");
    EXPECT_ERR(polyplug_instance_version(instance, NULL), POLYPLUG_ERR_NULL, "version is NULL");
    CHECK(polyplug_instance_destroy(instance));
    EXPECT_ERR(polyplug_instance_destroy(instance), POLYPLUG_ERR_INVALID_HANDLE,
               "not a live polyplug_instance");
    EXPECT_ERR(polyplug_instance_call(instance, "bump", &args, &out), POLYPLUG_ERR_INVALID_HANDLE,
               "not a live polyplug_instance");

    /* ---- the wrong thread ---- */
    pthread_t thread;
    EXPECT(pthread_create(&thread, NULL, other_thread, NULL) == 0);
    EXPECT(pthread_join(thread, NULL) == 0);

    /* ---- a drain that cannot finish while this thread holds a guard ---- */
    CHECK(polyplug_reload_bundle(runtime, reload_id, reload_v2));
    EXPECT_ERR(polyplug_drain(runtime, 20), POLYPLUG_ERR_DRAIN_TIMEOUT, "still referenced");
    CHECK(polyplug_unpin(guard));

    /* ---- stale contract handles after an unload ---- */
    CHECK(polyplug_pin(reader, &guard));
    polyplug_contract kept = add;
    uint64_t gone[4];
    CHECK(polyplug_unload_cascade(runtime, add_id, gone, 4, &count));
    EXPECT(count == 2);
    EXPECT_ERR(polyplug_contract_describe(guard, kept, &info), POLYPLUG_ERR_STALE_CONTRACT,
               "stale contract handle");
    EXPECT_ERR(polyplug_typed(guard, kept, "inc", "u32(u32)", &f), POLYPLUG_ERR_STALE_CONTRACT,
               "was unloaded");
    EXPECT_ERR(polyplug_fn_get(guard, fn, &f), POLYPLUG_ERR_STALE_CONTRACT, "was unloaded");
    EXPECT_ERR(polyplug_call_native(guard, kept, "add", &args, &out), POLYPLUG_ERR_STALE_CONTRACT,
               "was unloaded");
    EXPECT_ERR(polyplug_instance_new(guard, kept, &instance), POLYPLUG_ERR_STALE_CONTRACT,
               "was unloaded");
    CHECK(polyplug_unpin(guard));
    CHECK(polyplug_fn_destroy(fn));
    EXPECT_ERR(polyplug_fn_destroy(fn), POLYPLUG_ERR_INVALID_HANDLE, "not a live polyplug_fn");

    /* ---- C plugin refusing a NULL argument ---- */
    CHECK(polyplug_load_bundle(runtime, c_add, NULL));
    CHECK(polyplug_pin(reader, &guard));
    CHECK(polyplug_find(guard, "test.add", V1_0, &add));
    EXPECT_ERR(polyplug_call_native(guard, add, "add", NULL, &out), POLYPLUG_ERR_CALL, "null args");
    EXPECT(polyplug_last_error_code() == PP_ERR_BAD_ARGUMENT);
    CHECK(polyplug_unpin(guard));

    /* ---- events ---- */
    polyplug_subscription *subscription;
    polyplug_event event;
    EXPECT_ERR(polyplug_subscribe(NULL, &subscription), POLYPLUG_ERR_NULL, "runtime is NULL");
    EXPECT_ERR(polyplug_subscribe(runtime, NULL), POLYPLUG_ERR_NULL, "out is NULL");
    CHECK(polyplug_subscribe(runtime, &subscription));
    EXPECT_ERR(polyplug_events_poll(NULL, &event), POLYPLUG_ERR_NULL, "subscription is NULL");
    EXPECT_ERR(polyplug_events_poll(subscription, NULL), POLYPLUG_ERR_NULL, "out is NULL");
    EXPECT_ERR(polyplug_events_wait(subscription, 0, NULL), POLYPLUG_ERR_NULL, "out is NULL");
    CHECK(polyplug_events_poll(subscription, &event));
    EXPECT(event.kind == POLYPLUG_EVENT_NONE);
    CHECK(polyplug_subscription_destroy(subscription));
    EXPECT_ERR(polyplug_subscription_destroy(subscription), POLYPLUG_ERR_INVALID_HANDLE,
               "not a live polyplug_subscription");
    EXPECT_ERR(polyplug_events_listen(runtime, NULL, NULL, &listener), POLYPLUG_ERR_NULL,
               "callback is NULL");
    EXPECT_ERR(polyplug_events_listen(runtime, on_event, NULL, NULL), POLYPLUG_ERR_NULL,
               "out is NULL");
    CHECK(polyplug_events_listen(runtime, on_event, NULL, &listener));
    CHECK(polyplug_reclaim(runtime, NULL));
    CHECK(polyplug_load_bundle(runtime, test_add, NULL)); /* an event for the callback */
    for (int waited = 0; atomic_load(&self_destroy) == NOT_YET && waited < 10000; waited += 10) {
        struct timespec ten_ms = {0, 10000000L};
        nanosleep(&ten_ms, NULL);
    }
    EXPECT(atomic_load(&callbacks) > 0);
    checked++;
    if (atomic_load(&self_destroy) != POLYPLUG_ERR_BUSY) {
        fprintf(stderr, "a listener destroyed itself from its callback: %s\n",
                polyplug_status_name(atomic_load(&self_destroy)));
        failed++;
    }
    CHECK(polyplug_listener_destroy(listener));
    EXPECT_ERR(polyplug_listener_destroy(listener), POLYPLUG_ERR_INVALID_HANDLE,
               "not a live polyplug_listener");

    /* ---- the last error API itself ---- */
    EXPECT(polyplug_last_error_message(NULL) != NULL);
    EXPECT(strcmp(polyplug_status_name(POLYPLUG_ERR_STALE_GUARD), "POLYPLUG_ERR_STALE_GUARD") == 0);
    EXPECT(strcmp(polyplug_status_name(99999), "unknown polyplug_status") == 0);

    /* ---- destroying in the right order ---- */
    CHECK(polyplug_reader_destroy(reader));
    EXPECT_ERR(polyplug_reader_destroy(reader), POLYPLUG_ERR_INVALID_HANDLE, "not a live polyplug_reader");
    CHECK(polyplug_runtime_destroy(runtime));
    EXPECT_ERR(polyplug_runtime_destroy(runtime), POLYPLUG_ERR_INVALID_HANDLE,
               "not a live polyplug_runtime");

    printf("checked %d error paths, %d failed\n", checked, failed);
    if (failed != 0) return 1;
    printf("ok\n");
    return 0;
}
