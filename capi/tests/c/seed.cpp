// Seed scenario 3 from a C++ host through polyplug_host.hpp: six std::thread
// dispatchers call reload.test's `version` through a kept contract handle
// (a binding per call, a fresh typed lookup, and the native function) while
// the main thread performs 80 real reloads alternating reload-v1 and
// reload-v2. Every answer must be 100 or 200; no handle may go stale; every
// retired library must be closed.
//
// Usage: seed_cpp <reload-v1 dir> <reload-v2 dir>
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <polyplug_host.hpp>

namespace {

struct AddArgs {
    uint32_t a, b;
};

constexpr int dispatchers = 6;
constexpr int reloads = 80;

std::atomic<bool> stop{false};
std::atomic<unsigned long long> v1{0}, v2{0}, torn{0}, stale{0};

void tally(uint32_t answer) {
    if (answer == 100) {
        v1.fetch_add(1, std::memory_order_relaxed);
    } else if (answer == 200) {
        v2.fetch_add(1, std::memory_order_relaxed);
    } else {
        torn.fetch_add(1, std::memory_order_relaxed);
    }
}

void dispatch(const polyplug::runtime &runtime, polyplug_contract handle) {
    polyplug::reader reader(runtime);
    auto version = reader.pin().get(handle).bind<uint32_t()>("version");
    while (!stop.load(std::memory_order_relaxed)) {
        polyplug::guard guard = reader.pin();
        try {
            tally(version.get(guard)());
        } catch (const polyplug::error &e) {
            if (e.status() != POLYPLUG_ERR_STALE_CONTRACT) throw;
            stale.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        polyplug::contract contract = guard.get(handle);
        tally(contract.fn<uint32_t()>("version")());
        uint32_t native = 0;
        contract.call_native("version", AddArgs{0, 0}, native);
        tally(native);
    }
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    try {
        polyplug::runtime runtime;
        uint64_t id = runtime.load_bundle(argv[1]);
        polyplug::subscription events = runtime.subscribe();
        polyplug_contract handle;
        {
            polyplug::reader reader(runtime);
            handle = reader.pin().find("reload.test", polyplug::version(1)).handle();
        }
        std::vector<std::thread> threads;
        for (int i = 0; i < dispatchers; ++i) threads.emplace_back(dispatch, std::cref(runtime), handle);
        while (v1.load(std::memory_order_relaxed) < 1000) std::this_thread::yield();
        for (int i = 0; i < reloads; ++i) runtime.reload_bundle(id, i % 2 == 0 ? argv[2] : argv[1]);
        stop.store(true, std::memory_order_relaxed);
        for (auto &t : threads) t.join();

        std::printf("v1 %llu v2 %llu torn %llu stale %llu\n", v1.load(), v2.load(), torn.load(),
                    stale.load());
        if (torn != 0 || stale != 0 || v1 == 0 || v2 == 0) return 1;
        {
            polyplug::reader reader(runtime);
            polyplug::guard guard = reader.pin();
            if (guard.get(handle).fn<uint32_t()>("version")() != 100) return 1;
        }
        runtime.drain(std::chrono::seconds(10));
        polyplug_library_stats stats = runtime.library_stats();
        std::printf("opened %llu closed %llu\n", (unsigned long long)stats.opened,
                    (unsigned long long)stats.closed);
        if (stats.opened != reloads + 1 || stats.closed != reloads) return 1;
        int reloaded = 0;
        while (auto event = events.poll()) {
            if (event->kind == POLYPLUG_EVENT_RELOADED && event->name == "reload-test") ++reloaded;
        }
        std::printf("reloaded %d\n", reloaded);
        if (reloaded != reloads) return 1;
        // The wrapper's errors carry status and message.
        try {
            polyplug::reader reader(runtime);
            reader.pin().find("reload.test", polyplug::version(1)).fn<uint64_t(uint64_t)>("version");
            return 1;
        } catch (const polyplug::error &e) {
            std::printf("%s: %s\n", e.status_name(), e.what());
            if (e.status() != POLYPLUG_ERR_SIGNATURE_MISMATCH) return 1;
        }
    } catch (const polyplug::error &e) {
        std::fprintf(stderr, "%s: %s\n", e.status_name(), e.what());
        return 1;
    }
    std::printf("ok\n");
    return 0;
}
