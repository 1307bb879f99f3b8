/*
 * A C host loads the Rust, C and C++ fixture plugins through libpolyplug and
 * uses every part of the API on them: typed and native calls, a host
 * contract a plugin calls back, instances across a reload, a function handle
 * that follows a reload, events by listener and by subscription, a directory
 * load and a cascade in a second runtime, and unload with every library
 * closed.
 *
 * Usage: plugins <test-add> <c-add> <test-add-cpp> <c-mul> <host-user>
 *                <reload-v1> <reload-v2> <dir holding test-add and consumer>
 */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "check.h"

typedef struct AddArgs {
    uint32_t a, b;
} AddArgs;

typedef uint32_t (*u32_u32)(uint32_t);
typedef uint32_t (*u32_u32_u32)(uint32_t, uint32_t);
typedef uint32_t (*u32_void)(void);

static const PpVersion V1_0 = {1, 0, 0};

/* Host contract test.host: typed double, which host-user calls, and a
 * native answer. */
static uint32_t twice(uint32_t x) { return 2u * x; }

static uint32_t answer(void *instance, const void *args, void *out, PpAbiError *err) {
    (void)instance;
    (void)args;
    (void)err;
    *(uint32_t *)out = 42;
    return PP_OK;
}

/* Listener: counts events, remembers whether test-add-cpp was loaded. */
static atomic_int events_seen;
static atomic_int cpp_loaded;

static void on_event(void *user_data, const polyplug_event *event) {
    EXPECT(user_data == (void *)&events_seen);
    atomic_fetch_add(&events_seen, 1);
    if (event->kind == POLYPLUG_EVENT_LOADED && strcmp(event->name, "test-add-cpp") == 0) {
        EXPECT(event->version.major == 1);
        atomic_store(&cpp_loaded, 1);
    }
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

int main(int argc, char **argv) {
    EXPECT(argc == 9);
    const char *test_add = argv[1], *c_add = argv[2], *test_add_cpp = argv[3], *c_mul = argv[4],
               *host_user = argv[5], *reload_v1 = argv[6], *reload_v2 = argv[7], *dir = argv[8];

    polyplug_runtime *runtime;
    CHECK(polyplug_runtime_new(&runtime));
    polyplug_listener *listener;
    CHECK(polyplug_events_listen(runtime, on_event, &events_seen, &listener));
    polyplug_subscription *subscription;
    CHECK(polyplug_subscribe(runtime, &subscription));

    /* Rust, C, C++: three providers of test.add, and c-mul. */
    uint64_t ids[4];
    CHECK(polyplug_load_bundle(runtime, test_add, &ids[0]));
    CHECK(polyplug_load_bundle(runtime, c_add, &ids[1]));
    CHECK(polyplug_load_bundle(runtime, test_add_cpp, &ids[2]));
    CHECK(polyplug_load_bundle(runtime, c_mul, &ids[3]));

    polyplug_bundle_list *list;
    const polyplug_bundle_info *bundles;
    size_t count;
    CHECK(polyplug_bundles(runtime, &list));
    CHECK(polyplug_bundle_list_items(list, &bundles, &count));
    EXPECT(count == 4);
    const char *names[] = {"test-add", "c-add", "test-add-cpp", "c-mul"};
    for (size_t i = 0; i < count; i++) {
        EXPECT(bundles[i].id == ids[i]);
        EXPECT(strcmp(bundles[i].name, names[i]) == 0);
        EXPECT(bundles[i].name_len == strlen(names[i]));
        EXPECT(bundles[i].version.major == 1);
        EXPECT(bundles[i].contract_count == 1);
    }
    EXPECT(strcmp(bundles[3].contracts[0].name, "test.mul") == 0);
    CHECK(polyplug_bundle_list_destroy(list));

    polyplug_reader *reader;
    CHECK(polyplug_reader_new(runtime, &reader));
    polyplug_guard guard;
    CHECK(polyplug_pin(reader, &guard));

    polyplug_contract adds[8];
    CHECK(polyplug_find_all(guard, "test.add", V1_0, adds, 8, &count));
    EXPECT(count == 3);
    uint32_t sum = 0;
    for (size_t i = 0; i < count; i++) {
        PpVoidFn inc;
        CHECK(polyplug_typed(guard, adds[i], "inc", "u32(u32)", &inc));
        sum += ((u32_u32)inc)(1);
        AddArgs args = {2, 3};
        uint32_t out = 0;
        CHECK(polyplug_call_native(guard, adds[i], "add", &args, &out));
        EXPECT(out == 5);
        polyplug_contract_info info;
        CHECK(polyplug_contract_describe(guard, adds[i], &info));
        EXPECT(info.name_len == 8 && memcmp(info.name, "test.add", 8) == 0);
        EXPECT(info.bundle == ids[0] || info.bundle == ids[1] || info.bundle == ids[2]);
        EXPECT(info.stateful == 0 && info.typed_count == 2);
    }
    EXPECT(sum == 6);

    polyplug_contract mul;
    PpVoidFn mul_fn;
    CHECK(polyplug_find(guard, "test.mul", V1_0, &mul));
    CHECK(polyplug_typed(guard, mul, "mul", " u32 ( u32 , u32 ) ", &mul_fn));
    EXPECT(((u32_u32_u32)mul_fn)(7, 6) == 42);
    CHECK(polyplug_unpin(guard));

    /* A host contract, called by the host-user plugin and by the host. */
    polyplug_host_contract *host;
    CHECK(polyplug_host_contract_new("test.host", V1_0, &host));
    CHECK(polyplug_host_contract_typed(host, "double", "u32(u32)", (PpVoidFn)twice));
    CHECK(polyplug_host_contract_native(host, "answer", answer));
    polyplug_contract host_handle;
    CHECK(polyplug_register_host_contract(runtime, host, &host_handle));
    CHECK(polyplug_load_bundle(runtime, host_user, NULL));
    CHECK(polyplug_pin(reader, &guard));
    polyplug_contract user;
    CHECK(polyplug_find(guard, "host.user", V1_0, &user));
    AddArgs twenty = {20, 0};
    uint32_t out = 0;
    CHECK(polyplug_call_native(guard, user, "double_plus_one", &twenty, &out));
    EXPECT(out == 41);
    CHECK(polyplug_call_native(guard, host_handle, "answer", NULL, &out));
    EXPECT(out == 42);
    polyplug_contract_info info;
    CHECK(polyplug_contract_describe(guard, host_handle, &info));
    EXPECT(info.bundle == POLYPLUG_NO_BUNDLE);
    CHECK(polyplug_unpin(guard));

    /* Instances keep the version that made them across a reload. */
    uint64_t reload_id;
    CHECK(polyplug_load_bundle(runtime, reload_v1, &reload_id));
    CHECK(polyplug_pin(reader, &guard));
    polyplug_contract reload;
    CHECK(polyplug_find(guard, "reload.test", V1_0, &reload));
    polyplug_instance *counter;
    CHECK(polyplug_instance_new(guard, reload, &counter));
    CHECK(polyplug_unpin(guard));
    AddArgs none = {0, 0};
    for (uint32_t expected = 1; expected <= 3; expected++) {
        CHECK(polyplug_instance_call(counter, "bump", &none, &out));
        EXPECT(out == expected);
    }
    CHECK(polyplug_reload_bundle(runtime, reload_id, reload_v2));
    CHECK(polyplug_instance_call(counter, "tag", &none, &out));
    EXPECT(out == 100); /* still v1's code */
    PpVersion made_by;
    CHECK(polyplug_instance_version(counter, &made_by));
    EXPECT(made_by.major == 1 && made_by.minor == 0);
    CHECK(polyplug_instance_destroy(counter));

    /* A function handle follows a reload. A guard held across the reload
     * keeps the old library mapped, so the old function stays distinct from
     * the new one. */
    polyplug_guard held;
    CHECK(polyplug_pin(reader, &held));
    polyplug_fn *version;
    CHECK(polyplug_fn_new(held, reload, "version", "u32()", &version));
    PpVoidFn f;
    CHECK(polyplug_fn_get(held, version, &f));
    EXPECT(((u32_void)f)() == 200);
    CHECK(polyplug_reload_bundle(runtime, reload_id, reload_v1));
    CHECK(polyplug_pin(reader, &guard));
    CHECK(polyplug_fn_get(guard, version, &f));
    EXPECT(((u32_void)f)() == 100);
    CHECK(polyplug_unpin(guard));
    CHECK(polyplug_unpin(held));
    CHECK(polyplug_fn_destroy(version));

    /* Events: the listener saw them on its own thread; the subscription
     * queued them. */
    for (int waited = 0; !atomic_load(&cpp_loaded) && waited < 10000; waited += 10) {
        sleep_ms(10);
    }
    EXPECT(atomic_load(&cpp_loaded));
    CHECK(polyplug_listener_destroy(listener));
    EXPECT(atomic_load(&events_seen) > 0);
    int loaded = 0, reloaded = 0;
    polyplug_event event;
    for (;;) {
        CHECK(polyplug_events_poll(subscription, &event));
        if (event.kind == POLYPLUG_EVENT_NONE) break;
        if (event.kind == POLYPLUG_EVENT_LOADED) loaded++;
        if (event.kind == POLYPLUG_EVENT_RELOADED) {
            EXPECT(event.bundle == reload_id);
            reloaded++;
        }
    }
    EXPECT(loaded == 6 && reloaded == 2);

    /* A second runtime, independent: a directory in dependency order, then a
     * cascade. */
    polyplug_runtime *second;
    CHECK(polyplug_runtime_new(&second));
    uint64_t loaded_ids[4];
    CHECK(polyplug_load_dir(second, dir, loaded_ids, 4, &count));
    EXPECT(count == 2);
    uint64_t provider;
    CHECK(polyplug_bundle_id(second, "test-add", &provider));
    EXPECT(provider == loaded_ids[0]); /* providers first */
    uint64_t gone[4];
    CHECK(polyplug_unload_cascade(second, provider, gone, 4, &count));
    EXPECT(count == 2 && gone[0] == loaded_ids[1] && gone[1] == provider);
    CHECK(polyplug_runtime_destroy(second));

    /* Unload everything; every library closes. */
    CHECK(polyplug_reader_destroy(reader));
    uint64_t unloaded[16];
    for (int i = 3; i >= 0; i--) {
        CHECK(polyplug_unload_cascade(runtime, ids[i], unloaded, 16, &count));
    }
    CHECK(polyplug_unload_bundle(runtime, reload_id));
    CHECK(polyplug_bundle_id(runtime, "host-user", &provider));
    CHECK(polyplug_unload_bundle(runtime, provider));
    CHECK(polyplug_drain(runtime, 10000));
    polyplug_library_stats stats;
    CHECK(polyplug_library_stats_get(runtime, &stats));
    printf("opened %llu closed %llu unmapped %llu\n", (unsigned long long)stats.opened,
           (unsigned long long)stats.closed, (unsigned long long)stats.unmapped);
    EXPECT(stats.opened == 8 && stats.closed == 8);
    CHECK(polyplug_subscription_destroy(subscription));
    CHECK(polyplug_runtime_destroy(runtime));
    printf("ok\n");
    return 0;
}
