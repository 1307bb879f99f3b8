/*
 * Seed scenario 3 from a C host: six pthread dispatchers call reload.test's
 * `version` through a kept contract handle (a polyplug_fn per call, a fresh
 * typed lookup, and the native function) while the main thread performs 80
 * real reloads alternating the reload-v1 and reload-v2 bundles. Every answer
 * must be 100 or 200; no handle may go stale; every retired library must be
 * closed, each reload reported and each old version drained.
 *
 * Usage: seed <reload-v1 dir> <reload-v2 dir>
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "check.h"

#define DISPATCHERS 6
#define RELOADS 80

typedef struct AddArgs {
    uint32_t a, b;
} AddArgs;

typedef uint32_t (*version_fn)(void);

static polyplug_runtime *runtime;
static polyplug_contract handle;
static atomic_int stop;
static atomic_ullong v1, v2, torn, stale;

static void tally(uint32_t answer) {
    if (answer == 100) {
        atomic_fetch_add_explicit(&v1, 1, memory_order_relaxed);
    } else if (answer == 200) {
        atomic_fetch_add_explicit(&v2, 1, memory_order_relaxed);
    } else {
        atomic_fetch_add_explicit(&torn, 1, memory_order_relaxed);
    }
}

static void *dispatch(void *unused) {
    (void)unused;
    polyplug_reader *reader;
    CHECK(polyplug_reader_new(runtime, &reader));
    polyplug_guard guard;
    polyplug_fn *version;
    CHECK(polyplug_pin(reader, &guard));
    CHECK(polyplug_fn_new(guard, handle, "version", "u32()", &version));
    CHECK(polyplug_unpin(guard));
    AddArgs args = {0, 0};
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        CHECK(polyplug_pin(reader, &guard));
        PpVoidFn bound, looked_up;
        polyplug_status status = polyplug_fn_get(guard, version, &bound);
        if (status == POLYPLUG_ERR_STALE_CONTRACT) {
            atomic_fetch_add_explicit(&stale, 1, memory_order_relaxed);
            CHECK(polyplug_unpin(guard));
            continue;
        }
        CHECK(status);
        CHECK(polyplug_typed(guard, handle, "version", "u32()", &looked_up));
        uint32_t native = 0;
        CHECK(polyplug_call_native(guard, handle, "version", &args, &native));
        tally(((version_fn)bound)());
        tally(((version_fn)looked_up)());
        tally(native);
        CHECK(polyplug_unpin(guard));
    }
    CHECK(polyplug_fn_destroy(version));
    CHECK(polyplug_reader_destroy(reader));
    return NULL;
}

static uint32_t version_now(polyplug_reader *reader) {
    polyplug_guard guard;
    PpVoidFn f;
    CHECK(polyplug_pin(reader, &guard));
    CHECK(polyplug_typed(guard, handle, "version", "u32()", &f));
    uint32_t answer = ((version_fn)f)();
    CHECK(polyplug_unpin(guard));
    return answer;
}

int main(int argc, char **argv) {
    EXPECT(argc == 3);
    const char *v1_dir = argv[1], *v2_dir = argv[2];
    CHECK(polyplug_runtime_new(&runtime));
    uint64_t id;
    CHECK(polyplug_load_bundle(runtime, v1_dir, &id));
    polyplug_subscription *events;
    CHECK(polyplug_subscribe(runtime, &events));

    polyplug_reader *reader;
    polyplug_guard guard;
    CHECK(polyplug_reader_new(runtime, &reader));
    CHECK(polyplug_pin(reader, &guard));
    PpVersion v1_0 = {1, 0, 0};
    CHECK(polyplug_find(guard, "reload.test", v1_0, &handle));
    CHECK(polyplug_unpin(guard));

    pthread_t threads[DISPATCHERS];
    for (int i = 0; i < DISPATCHERS; i++) {
        EXPECT(pthread_create(&threads[i], NULL, dispatch, NULL) == 0);
    }
    /* Let every dispatcher call before the first reload. */
    while (atomic_load_explicit(&v1, memory_order_relaxed) < 1000) {
        sched_yield();
    }
    for (int i = 0; i < RELOADS; i++) {
        CHECK(polyplug_reload_bundle(runtime, id, i % 2 == 0 ? v2_dir : v1_dir));
    }
    atomic_store_explicit(&stop, 1, memory_order_relaxed);
    for (int i = 0; i < DISPATCHERS; i++) {
        EXPECT(pthread_join(threads[i], NULL) == 0);
    }

    printf("v1 %llu v2 %llu torn %llu stale %llu\n", (unsigned long long)v1,
           (unsigned long long)v2, (unsigned long long)torn, (unsigned long long)stale);
    EXPECT(atomic_load(&torn) == 0);
    EXPECT(atomic_load(&stale) == 0);
    EXPECT(atomic_load(&v1) > 0 && atomic_load(&v2) > 0);
    /* 80 reloads alternate and end on v1. */
    EXPECT(version_now(reader) == 100);
    CHECK(polyplug_reader_destroy(reader));

    CHECK(polyplug_drain(runtime, 10000));
    polyplug_library_stats stats;
    CHECK(polyplug_library_stats_get(runtime, &stats));
    printf("opened %llu closed %llu\n", (unsigned long long)stats.opened,
           (unsigned long long)stats.closed);
    EXPECT(stats.opened == RELOADS + 1);
    EXPECT(stats.closed == RELOADS);

    int reloaded = 0, drained = 0;
    polyplug_event event;
    for (;;) {
        CHECK(polyplug_events_poll(events, &event));
        if (event.kind == POLYPLUG_EVENT_NONE) break;
        if (event.kind == POLYPLUG_EVENT_RELOADED) {
            EXPECT(strcmp(event.name, "reload-test") == 0);
            reloaded++;
        }
        if (event.kind == POLYPLUG_EVENT_DRAINED) drained++;
    }
    printf("reloaded %d drained %d\n", reloaded, drained);
    EXPECT(reloaded == RELOADS);
    EXPECT(drained == RELOADS);
    CHECK(polyplug_subscription_destroy(events));
    CHECK(polyplug_runtime_destroy(runtime));
    printf("ok\n");
    return 0;
}
