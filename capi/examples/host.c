/*
 * An example host in C: load a plugin, call it per call through a checked
 * function handle, hot-reload it, watch the events, unload it.
 *
 * Usage: host <bundle v1> <bundle v2>   (the reload-v1 and reload-v2 fixtures)
 */
#include <stdio.h>

#include <polyplug_host.h>

typedef uint32_t (*version_fn)(void);

static int fail(const char *what, polyplug_status status) {
    size_t len;
    const char *message = polyplug_last_error_message(&len);
    fprintf(stderr, "%s: %s: %.*s\n", what, polyplug_status_name(status), (int)len, message);
    return 1;
}

#define TRY(call)                                         \
    do {                                                  \
        polyplug_status status_ = (call);                 \
        if (status_ != POLYPLUG_OK) return fail(#call, status_); \
    } while (0)

/* One hot-reload-safe call: pin, fetch the serving version, call, unpin. */
static int call_version(polyplug_reader *reader, polyplug_fn *version, uint32_t *answer) {
    polyplug_guard guard;
    PpVoidFn f;
    TRY(polyplug_pin(reader, &guard)); /* no lock, no allocation */
    polyplug_status status = polyplug_fn_get(guard, version, &f);
    if (status == POLYPLUG_OK) *answer = ((version_fn)f)(); /* a plain C call */
    polyplug_unpin(guard); /* f must not be called after this */
    return status == POLYPLUG_OK ? 0 : fail("polyplug_fn_get", status);
}

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    polyplug_runtime *runtime;
    polyplug_subscription *events;
    uint64_t bundle;
    TRY(polyplug_runtime_new(&runtime));
    TRY(polyplug_subscribe(runtime, &events));
    TRY(polyplug_load_bundle(runtime, argv[1], &bundle));

    polyplug_reader *reader; /* once per thread */
    polyplug_guard guard;
    polyplug_contract contract;
    polyplug_fn *version;
    PpVersion v1_0 = {1, 0, 0};
    TRY(polyplug_reader_new(runtime, &reader));
    TRY(polyplug_pin(reader, &guard));
    TRY(polyplug_find(guard, "reload.test", v1_0, &contract));
    TRY(polyplug_fn_new(guard, contract, "version", "u32()", &version)); /* checked once */
    TRY(polyplug_unpin(guard));

    uint32_t answer = 0;
    if (call_version(reader, version, &answer) != 0) return 1;
    printf("v1 answers %u\n", answer);
    TRY(polyplug_reload_bundle(runtime, bundle, argv[2])); /* readers never wait */
    if (call_version(reader, version, &answer) != 0) return 1;
    printf("v2 answers %u\n", answer);
    polyplug_status refused = polyplug_reload_bundle(runtime, bundle, "/no/such/bundle");
    printf("reload from /no/such/bundle: %s\n", polyplug_status_name(refused));
    if (call_version(reader, version, &answer) != 0) return 1;
    printf("still v2: %u\n", answer);

    TRY(polyplug_fn_destroy(version));
    TRY(polyplug_reader_destroy(reader));
    TRY(polyplug_unload_bundle(runtime, bundle));
    TRY(polyplug_drain(runtime, 5000));
    polyplug_event event;
    for (;;) {
        TRY(polyplug_events_poll(events, &event));
        if (event.kind == POLYPLUG_EVENT_NONE) break;
        if (event.kind == POLYPLUG_EVENT_RELOADED) {
            printf("event: reloaded %s %u.%u -> %u.%u\n", event.name, event.from.major,
                   event.from.minor, event.version.major, event.version.minor);
        }
    }
    polyplug_library_stats stats;
    TRY(polyplug_library_stats_get(runtime, &stats));
    printf("libraries opened %llu, closed %llu\n", (unsigned long long)stats.opened,
           (unsigned long long)stats.closed);
    TRY(polyplug_subscription_destroy(events));
    TRY(polyplug_runtime_destroy(runtime));
    return 0;
}
