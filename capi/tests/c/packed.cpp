// A C++ host calling typed functions packed through polyplug_host.hpp:
// contract test.text (the C fixture c-text) with std::string_view and
// polyplug::bytes_view arguments and std::string and std::vector<uint8_t>
// results, freed by RAII (AddressSanitizer's leak check sees a missed
// free: the library's allocations are the program's); a WebAssembly
// plugin (capi.calc) beside a native one (test-add), whose plain-pointer
// `fn` keeps working; the host's own typed functions, whose packed forms
// the wrapper makes from their C++ types, called packed by the host and by
// the WebAssembly guest.
//
// Usage: packed_cpp <c-text dir> <capi.calc dir> <test-add dir>
#include <cstdio>
#include <string>
#include <vector>

#include <polyplug_host.hpp>

#include "check.h"

namespace {

// Stops the program unless `body` throws a polyplug::error with `status`;
// returns its plugin code.
template <class F>
uint32_t expect_error(F body, polyplug_status status, const char *what) {
    try {
        body();
    } catch (const polyplug::error &e) {
        if (e.status() != status) {
            std::fprintf(stderr, "%s: %s, expected %s: %s\n", what, e.status_name(),
                         polyplug_status_name(status), e.what());
            std::exit(1);
        }
        std::printf("%s: %s\n", what, e.what());
        return e.code();
    }
    std::fprintf(stderr, "%s: no error\n", what);
    std::exit(1);
}

uint32_t twice(uint32_t x) { return 2 * x; }
// Arguments of three sizes and alignments: each read at its own offset.
double mix(float a, uint8_t b, double c) { return double(a) * b + c; }
uint64_t spread(uint8_t a, uint64_t b, uint16_t c) { return a + b + c; }
uint32_t refuse(uint32_t) { throw std::runtime_error("refused"); }
uint32_t answer() { return 42; }
uint32_t noted = 0;
void note(uint32_t x) { noted = x; }

}  // namespace

int main(int argc, char **argv) {
    EXPECT(argc == 4);
    polyplug::runtime rt(POLYPLUG_LOADER_WASM);
    rt.load_bundle(argv[1]);
    uint64_t calc_id = rt.load_bundle(argv[2]);
    rt.load_bundle(argv[3]);
    {
        polyplug::reader reader(rt);
        polyplug::guard g = reader.pin();
        polyplug::contract text = g.find("test.text", polyplug::version(1));

        // Views in, owned results out.
        auto upper = text.fn<std::string(std::string_view)>("upper");
        EXPECT(upper("hello") == "HELLO");
        using namespace std::string_literals;
        EXPECT(upper("a\0b"s) == "A\0B"s);  // NUL inside: the length counts
        EXPECT(upper("") == "");
        auto reverse = text.fn<std::vector<uint8_t>(polyplug::bytes_view)>("reverse");
        std::vector<uint8_t> data = {0, 1, 2, 0, 0xff};
        EXPECT((reverse(data) == std::vector<uint8_t>{0xff, 0, 2, 1, 0}));
        EXPECT(reverse(polyplug::bytes_view()).empty());
        EXPECT(text.fn<uint64_t(polyplug::bytes_view)>("len")(data) == 5);
        // A `string` result's bytes come back as they are.
        EXPECT(text.fn<std::string()>("bad_utf8")() == "\xff\xfe");

        // Checked once, against the C++ type.
        expect_error([&] { text.fn<std::string(polyplug::bytes_view)>("upper"); },
                     POLYPLUG_ERR_SIGNATURE_MISMATCH, "upper as string(bytes)");

        // A binding: fetched per guard, called packed.
        auto bound = text.bind<std::string(std::string_view)>("upper");
        EXPECT(bound.call(g, "bound") == "BOUND");

        // WebAssembly: no C pointer, so `fn` is refused and `packed` calls it.
        polyplug::contract calc = g.find("capi.calc", polyplug::version(1));
        expect_error([&] { calc.fn<uint32_t(uint32_t, uint32_t)>("add"); },
                     POLYPLUG_ERR_NOT_NATIVE, "wasm add as a pointer");
        auto add = calc.packed<uint32_t(uint32_t, uint32_t)>("add");
        EXPECT(add(2, 3) == 5);
        EXPECT(add(UINT32_MAX, 1) == 0);
        auto fail = calc.packed<uint32_t(uint32_t)>("fail");
        EXPECT(expect_error([&] { fail(7); }, POLYPLUG_ERR_CALL, "wasm trap") == PP_ERR_TRAP);
        EXPECT(add(40, 2) == 42);

        // The host's own functions: the wrapper registers each with a packed
        // form made from its type, so the host calls them packed and the
        // WebAssembly guest calls `twice` by name; an exception stays in
        // the packed form, a typed error for the caller.
        {
            polyplug::host_contract own("capi.host", polyplug::version(1));
            own.typed("twice", twice).typed("mix", mix).typed("spread", spread);
            own.typed("refuse", refuse).typed("answer", answer).typed("note", note);
            rt.register_host_contract(std::move(own));
        }
        polyplug::guard fresh = reader.pin();
        polyplug::contract host = fresh.find("capi.host", polyplug::version(1));
        EXPECT(host.packed<uint32_t(uint32_t)>("twice")(21) == 42);
        EXPECT(host.packed<double(float, uint8_t, double)>("mix")(1.5f, 3, 0.25) == 4.75);
        EXPECT(host.packed<uint64_t(uint8_t, uint64_t, uint16_t)>("spread")(
                   200, uint64_t(1) << 40, 60000) == (uint64_t(1) << 40) + 60200);
        EXPECT(host.packed<uint32_t()>("answer")() == 42);
        host.packed<void(uint32_t)>("note")(7);
        EXPECT(noted == 7);
        EXPECT(expect_error([&] { host.packed<uint32_t(uint32_t)>("refuse")(1); },
                            POLYPLUG_ERR_CALL, "host exception") == PP_ERR_PANIC);
        polyplug::contract calc_now = fresh.find("capi.calc", polyplug::version(1));
        EXPECT(calc_now.packed<uint32_t(uint32_t)>("via_host")(21) == 42);

        // Native functions: the plain pointer as before, or packed.
        polyplug::contract native = g.find("test.add", polyplug::version(1));
        EXPECT(native.fn<uint32_t(uint32_t)>("inc")(41) == 42);
        EXPECT(native.packed<uint32_t(uint32_t)>("inc")(41) == 42);
    }
    rt.unload_bundle(calc_id);
    std::printf("ok\n");
    return 0;
}
