// include/polyplug.hpp against a fake host table, built by
// tests/c_header.rs with -std=c++17 -Wall -Wextra -Werror -pedantic: each
// wrapper is called with a body that returns, throws a std::exception, and
// throws something else; the program prints what the host would see.

#include "polyplug.hpp"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace {

int live = 0;  // host allocations not yet freed
std::string logged;

void *fake_alloc(void *, size_t size, size_t) {
    ++live;
    return std::malloc(size);
}

void fake_free(void *, void *ptr, size_t, size_t) {
    if (ptr != nullptr) {
        --live;
        std::free(ptr);
    }
}

void fake_log(void *, uint32_t level, PpStrView message) {
    logged += std::to_string(level) + " " +
              std::string(reinterpret_cast<const char *>(message.ptr), message.len) + ";";
}

// What the host does with an error: print it, free a host-allocated message.
void show(const char *what, uint32_t code, PpAbiError err) {
    std::printf("%s %u %u %u %.*s\n", what, code, err.code, err.flags,
                static_cast<int>(err.message.len),
                reinterpret_cast<const char *>(err.message.ptr));
    if ((err.flags & PP_ERROR_FLAG_HOST_ALLOCATED) != 0) {
        fake_free(nullptr, const_cast<uint8_t *>(err.message.ptr), err.message.len, 1);
    }
}

struct NotAnException {};

}  // namespace

int main() {
    PpAbiError err{};
    // Before the entry point: no host table to copy a message with.
    show("early", polyplug::guard(&err, []() -> uint32_t { throw std::runtime_error("x"); }),
         err);

    PpHostApi host{};
    host.abi_version = PP_ABI_VERSION;
    host.size = sizeof(PpHostApi);
    host.alloc = fake_alloc;
    host.free = fake_free;
    host.log = fake_log;
    err = PpAbiError{};
    show("entry-ok", polyplug::entry(&host, &err, [] { return PP_OK; }), err);
    err = PpAbiError{};
    show("entry-throws",
         polyplug::entry(&host, &err,
                         []() -> uint32_t { throw std::runtime_error("init boom\n"); }),
         err);
    err = PpAbiError{};
    show("guard-code", polyplug::guard(&err, [] { return PP_ERR_PLUGIN + 1; }), err);
    err = PpAbiError{};
    show("guard-exception",
         polyplug::guard(&err, []() -> uint32_t { throw std::out_of_range("boom"); }), err);
    err = PpAbiError{};
    show("guard-other", polyplug::guard(&err, []() -> uint32_t { throw NotAnException{}; }),
         err);
    err = PpAbiError{};
    show("guard-empty",
         polyplug::guard(&err, []() -> uint32_t { throw std::runtime_error(""); }), err);
    std::printf("guard-null-err %u\n",
                polyplug::guard(nullptr, []() -> uint32_t { throw 7; }));
    std::printf("guard_or %u %u\n", polyplug::guard_or(5u, [] { return 1u; }),
                polyplug::guard_or(5u, []() -> unsigned { throw std::logic_error("typed"); }));
    polyplug::guard_void([] {});
    polyplug::guard_void([] { throw 1; });
    std::printf("logged %s\n", logged.c_str());
    std::printf("live %d\n", live);
    return 0;
}
