/*
 * Plugin `{{name}}`: contract `{{name}}` 1.0.0 in C, made by `polyplug new`.
 *
 *   native "add":     AddArgs -> u32, a + b (wrapping)
 *   typed  "add":     u32(u32,u32)  -> a + b (wrapping)
 *   typed  "version": u32()         -> 1
 *
 * polyplug.h is the generated C ABI header of the polyplug that made this
 * file; the rules a plugin keeps are in polyplug's SAFETY.md, [P1]-[P6].
 */

#include "polyplug.h"

/* The arguments of the native function `add`. */
typedef struct AddArgs {
    uint32_t a;
    uint32_t b;
} AddArgs;

/* Fills *err, which may be null, with a static message. */
static uint32_t fail(PpAbiError *err, uint32_t code, PpStrView message) {
    if (err != NULL) {
        err->code = code;
        err->flags = 0;
        err->message = message;
    }
    return code;
}

static uint32_t add(void *instance, const void *args, void *out, PpAbiError *err) {
    (void)instance;
    if (args == NULL || out == NULL) {
        return fail(err, PP_ERR_BAD_ARGUMENT, PP_STR("{{name}} add: null args or out"));
    }
    const AddArgs *in = (const AddArgs *)args;
    *(uint32_t *)out = in->a + in->b;
    return PP_OK;
}

static uint32_t add_typed(uint32_t a, uint32_t b) { return a + b; }

static uint32_t version(void) { return 1; }

static const PpNativeEntry NATIVE[] = {
    {PP_STR_INIT("add"), add},
};

static const PpTypedEntry TYPED[] = {
    {PP_STR_INIT("add"), PP_STR_INIT("u32(u32,u32)"), (PpVoidFn)add_typed, NULL},
    {PP_STR_INIT("version"), PP_STR_INIT("u32()"), (PpVoidFn)version, NULL},
};

PP_EXPORT const uint32_t polyplug_abi_version = PP_ABI_VERSION;

PP_EXPORT uint32_t polyplug_entry(const PpHostApi *host, const PpBundleContext *bundle,
                                  PpAbiError *err) {
    (void)bundle;
    if (host == NULL || host->abi_version != PP_ABI_VERSION) {
        return fail(err, PP_ERR_ABI_MISMATCH, PP_STR("{{name}}: unexpected host table"));
    }
    PpContractInterface iface = {0};
    iface.id = pp_contract_id("{{name}}", 1);
    iface.name = PP_STR("{{name}}");
    iface.version = (PpVersion){1, 0, 0};
    iface.native_count = sizeof NATIVE / sizeof NATIVE[0];
    iface.native = NATIVE;
    iface.typed_count = sizeof TYPED / sizeof TYPED[0];
    iface.typed = TYPED;
    return host->register_contract(host->ctx, &iface, err);
}
