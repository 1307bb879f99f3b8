// Plugin `{{name}}`: contract `{{name}}` 1.0.0 in C++, made by `polyplug new`.
//
//   native "add":     AddArgs -> u32, a + b (wrapping)
//   typed  "add":     u32(u32,u32)  -> a + b (wrapping)
//   typed  "version": u32()         -> 1
//
// polyplug.h is the generated C ABI header of the polyplug that made this
// file, and polyplug.hpp its C++ exception wrappers; the rules a plugin
// keeps are in polyplug's SAFETY.md, [P1]-[P6]. No exception may leave a
// function the host calls: the body of each one below runs inside a
// wrapper (polyplug::entry, guard, guard_or), which turns an exception
// into an error the host reports. Keep the wrappers when you change the
// bodies.

#include "polyplug.hpp"

#include <cstdint>
#include <stdexcept>

namespace {

// The arguments of the native function `add`.
struct AddArgs {
    uint32_t a;
    uint32_t b;
};

uint32_t add(void *, const void *args, void *out, PpAbiError *err) noexcept {
    return polyplug::guard(err, [&]() -> uint32_t {
        if (args == nullptr || out == nullptr) {
            throw std::invalid_argument("{{name}} add: null args or out");
        }
        const auto *in = static_cast<const AddArgs *>(args);
        *static_cast<uint32_t *>(out) = in->a + in->b;
        return PP_OK;
    });
}

uint32_t add_typed(uint32_t a, uint32_t b) noexcept {
    return polyplug::guard_or(0u, [&] { return a + b; });
}

uint32_t version() noexcept {
    return polyplug::guard_or(0u, [] { return 1u; });
}

const PpNativeEntry NATIVE[] = {
    {PP_STR_INIT("add"), add},
};

const PpTypedEntry TYPED[] = {
    {PP_STR_INIT("add"), PP_STR_INIT("u32(u32,u32)"), reinterpret_cast<PpVoidFn>(add_typed), nullptr},
    {PP_STR_INIT("version"), PP_STR_INIT("u32()"), reinterpret_cast<PpVoidFn>(version), nullptr},
};

}  // namespace

extern "C" PP_EXPORT const uint32_t polyplug_abi_version = PP_ABI_VERSION;

extern "C" PP_EXPORT uint32_t polyplug_entry(const PpHostApi *host, const PpBundleContext *,
                                             PpAbiError *err) {
    return polyplug::entry(host, err, [&]() -> uint32_t {
        if (host == nullptr || host->abi_version != PP_ABI_VERSION) {
            throw std::runtime_error("{{name}}: unexpected host table");
        }
        PpContractInterface iface{};
        iface.id = pp_contract_id("{{name}}", 1);
        iface.name = PP_STR("{{name}}");
        iface.version = PpVersion{1, 0, 0};
        iface.native_count = sizeof NATIVE / sizeof NATIVE[0];
        iface.native = NATIVE;
        iface.typed_count = sizeof TYPED / sizeof TYPED[0];
        iface.typed = TYPED;
        return host->register_contract(host->ctx, &iface, err);
    });
}
