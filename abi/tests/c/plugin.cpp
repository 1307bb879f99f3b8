// A plugin written in C++ against include/polyplug.h, linked into host.c by
// tests/c_header.rs. Built with -std=c++17 -Wall -Wextra -Werror -pedantic.
// polyplug_abi_version and polyplug_entry are defined without extern "C":
// they take C linkage from the declarations in the header.
#include "polyplug.h"
#include "polyplug.h"

namespace {

struct AddArgs {
    uint32_t a;
    uint32_t b;
};

uint32_t native_add(void *, const void *args, void *out, PpAbiError *) {
    const AddArgs *in = static_cast<const AddArgs *>(args);
    *static_cast<uint32_t *>(out) = in->a + in->b;
    return PP_OK;
}

uint32_t typed_add(uint32_t a, uint32_t b) { return a + b; }

// The packed form of every u32(u32,u32): `ctx` is the typed entry.
uint32_t packed_u32_u32_u32(void *ctx, void *, const void *args, void *out, PpAbiError *) {
    const PpTypedEntry *entry = static_cast<const PpTypedEntry *>(ctx);
    auto func = reinterpret_cast<uint32_t (*)(uint32_t, uint32_t)>(entry->func);
    const AddArgs *in = static_cast<const AddArgs *>(args);
    *static_cast<uint32_t *>(out) = func(in->a, in->b);
    return PP_OK;
}

const PpNativeEntry NATIVE[] = {{PP_STR("add"), native_add}};
const PpTypedEntry TYPED[] = {
    {PP_STR("add"), PP_STR("u32(u32,u32)"), reinterpret_cast<PpVoidFn>(typed_add),
     packed_u32_u32_u32}};

}  // namespace

const uint32_t polyplug_abi_version = PP_ABI_VERSION;

uint32_t polyplug_entry(const PpHostApi *host, const PpBundleContext *bundle, PpAbiError *err) {
    host->log(host->ctx, PP_LOG_INFO, bundle->name);
    PpContractInterface iface{};
    iface.id = pp_contract_id("test.add", 1);
    iface.name = PP_STR("test.add");
    iface.version = PpVersion{1, 2, 3};
    iface.native_count = 1;
    iface.native = NATIVE;
    iface.typed_count = 1;
    iface.typed = TYPED;
    return host->register_contract(host->ctx, &iface, err);
}
