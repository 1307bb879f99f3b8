// An example host in C++17 through polyplug_host.hpp: the plugins' typed
// functions by their C++ type, errors as exceptions, RAII for everything.
//
// Usage: host <test-add bundle> <reload-v1 bundle> <reload-v2 bundle>
#include <cstdio>
#include <utility>

#include <polyplug_host.hpp>

struct AddArgs {
    uint32_t a, b;
};

static uint32_t twice(uint32_t x) { return 2 * x; }

int main(int argc, char **argv) {
    if (argc != 4) return 2;
    try {
        polyplug::runtime runtime;
        runtime.load_bundle(argv[1]);
        uint64_t reloadable = runtime.load_bundle(argv[2]);
        polyplug::host_contract math("host.math", polyplug::version(1));
        math.typed("twice", twice);  // signature spelled from the C++ type: u32(u32)
        runtime.register_host_contract(std::move(math));

        polyplug::reader reader(runtime);  // once per thread
        {
            polyplug::guard guard = reader.pin();  // no lock, no allocation
            polyplug::contract add = guard.find("test.add", polyplug::version(1));
            std::printf("inc(41) = %u\n", add.fn<uint32_t(uint32_t)>("inc")(41));  // signature checked
            std::printf("add(2, 3) = %u\n", add.fn<uint32_t(uint32_t, uint32_t)>("add")(2, 3));
            uint32_t sum = 0;
            add.call_native("add", AddArgs{40, 2}, sum);
            std::printf("native add = %u\n", sum);
            auto host = guard.find("host.math", polyplug::version(1));
            std::printf("host twice(21) = %u\n", host.fn<uint32_t(uint32_t)>("twice")(21));
            try {
                add.fn<uint64_t(uint64_t)>("inc");
            } catch (const polyplug::error &e) {
                std::printf("%s: %s\n", e.status_name(), e.what());
            }
        }

        polyplug_contract kept = reader.pin().find("reload.test", polyplug::version(1)).handle();
        auto version = reader.pin().get(kept).bind<uint32_t()>("version");
        std::printf("v1 answers %u\n", version.get(reader.pin())());
        runtime.reload_bundle(reloadable, argv[3]);  // readers never wait
        std::printf("v2 answers %u\n", version.get(reader.pin())());
    } catch (const polyplug::error &e) {
        std::fprintf(stderr, "%s: %s\n", e.status_name(), e.what());
        return 1;
    }
    return 0;
}
