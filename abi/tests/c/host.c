/*
 * A host written in C that loads nothing: it links against plugin.cpp, calls
 * its polyplug_entry with a host table of its own and prints what the plugin
 * did. tests/c_header.rs checks the output. Together the two files check that
 * the header works for a C host and a C++ plugin: the extern "C" block, the
 * function pointer typedefs, PP_STR in C++, and pp_contract_id.
 */
#include "polyplug.h"

#include <stdio.h>

typedef struct AddArgs {
    uint32_t a;
    uint32_t b;
} AddArgs;

typedef uint32_t (*AddFn)(uint32_t, uint32_t);

static void print_view(const char *label, PpStrView view) {
    printf("%s %.*s\n", label, (int)view.len, (const char *)view.ptr);
}

static uint32_t register_contract(void *ctx, const PpContractInterface *iface,
                                  PpAbiError *err) {
    uint32_t i, code;
    int *calls = (int *)ctx;
    (void)err;
    *calls += 1;
    print_view("register", iface->name);
    printf("version %lu.%lu.%lu\n", (unsigned long)iface->version.major,
           (unsigned long)iface->version.minor,
           (unsigned long)iface->version.patch);
    printf("id %llu\n", (unsigned long long)iface->id);
    for (i = 0; i < iface->native_count; ++i) {
        const PpNativeEntry *entry = &iface->native[i];
        AddArgs args = {2, 3};
        uint32_t out = 0;
        PpAbiError call_err = PpAbiError_NONE;
        uint32_t code = entry->func(NULL, &args, &out, &call_err);
        print_view("native", entry->name);
        printf("native call %lu %lu\n", (unsigned long)code,
               (unsigned long)out);
    }
    for (i = 0; i < iface->typed_count; ++i) {
        const PpTypedEntry *entry = &iface->typed[i];
        AddFn add = (AddFn)entry->func;
        print_view("typed", entry->name);
        print_view("signature", entry->signature);
        printf("typed call %lu\n", (unsigned long)add(4, 5));
    }
    {
        PpTypedFn add, other;
        AddArgs args = {6, 7};
        uint32_t out = 0;
        PpAbiError call_err = PpAbiError_NONE;
        uint32_t found = pp_typed(iface, "add", "u32(u32,u32)", &add);
        uint32_t mismatch = pp_typed(iface, "add", "u32(u32)", &other);
        uint32_t missing = pp_typed(iface, "mul", "u32(u32,u32)", &other);
        printf("pp_typed %lu %lu %lu\n", (unsigned long)found,
               (unsigned long)mismatch, (unsigned long)missing);
        code = pp_typed_call(&add, NULL, &args, &out, &call_err);
        printf("pp_typed_call %lu %lu\n", (unsigned long)code,
               (unsigned long)out);
    }
    printf("instances %d %d\n", iface->create_instance != NULL,
           iface->destroy_instance != NULL);
    return PP_OK;
}

static void log_message(void *ctx, uint32_t level, PpStrView message) {
    (void)ctx;
    printf("log %lu %.*s\n", (unsigned long)level, (int)message.len,
           (const char *)message.ptr);
}

int main(void) {
    int calls = 0;
    PpHostApi host = {0};
    PpBundleContext bundle = {PP_STR_INIT("fixture"), {1, 0, 0},
                              PP_STR_INIT("/bundles/fixture")};
    PpAbiError err = PpAbiError_NONE;
    uint32_t code;

    host.abi_version = PP_ABI_VERSION;
    host.size = (uint32_t)sizeof host;
    host.ctx = &calls;
    host.register_contract = register_contract;
    host.log = log_message;

    printf("abi_version %lu\n", (unsigned long)polyplug_abi_version);
    code = polyplug_entry(&host, &bundle, &err);
    printf("entry %lu calls %d\n", (unsigned long)code, calls);
    return 0;
}
