// Plugin `{{name}}`: contract `{{name}}` 1.0.0 in C++, made by `polyplug new`.
//
//   native "add":     AddArgs -> u32, a + b (wrapping)
//   typed  "add":     u32(u32,u32)  -> a + b (wrapping)
//   typed  "version": u32()         -> 1
//
// polyplug.h is the generated C ABI header of the polyplug that made this
// file; the rules a plugin keeps are in polyplug's SAFETY.md, [P1]-[P6]. No
// exception may leave a function the host calls: keep them noexcept.

#include "polyplug.h"

#include <cstdint>

namespace {

// The arguments of the native function `add`.
struct AddArgs {
    uint32_t a;
    uint32_t b;
};

// Fills *err, which may be null, with a static message.
uint32_t fail(PpAbiError *err, uint32_t code, PpStrView message) noexcept {
    if (err != nullptr) {
        err->code = code;
        err->flags = 0;
        err->message = message;
    }
    return code;
}

uint32_t add(void *, const void *args, void *out, PpAbiError *err) noexcept {
    if (args == nullptr || out == nullptr) {
        return fail(err, PP_ERR_BAD_ARGUMENT, PP_STR("{{name}} add: null args or out"));
    }
    const auto *in = static_cast<const AddArgs *>(args);
    *static_cast<uint32_t *>(out) = in->a + in->b;
    return PP_OK;
}

uint32_t add_typed(uint32_t a, uint32_t b) noexcept { return a + b; }

uint32_t version() noexcept { return 1; }

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
    if (host == nullptr || host->abi_version != PP_ABI_VERSION) {
        return fail(err, PP_ERR_ABI_MISMATCH, PP_STR("{{name}}: unexpected host table"));
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
}
