/*
 * Example plugin `counter-c`: contract `demo.counter` 1.0.0 in C.
 *
 * One source, two builds: COUNTER_VERSION is 1 (the default) or 2, set
 * with -DCOUNTER_VERSION=2. The contract is the same in Rust, C and C++:
 *
 *   typed  "version": u32()    -> COUNTER_VERSION
 *   typed  "step":    u32(u32) -> x + COUNTER_VERSION (wrapping)
 *   native "step":    StepArgs -> u32, x + COUNTER_VERSION; no instance
 *                     needed; error 1001 when that overflows
 *   native "count":   StepArgs -> u32, needs an instance:
 *                     total += x + COUNTER_VERSION, returns total;
 *                     error 1001 on overflow
 */

#include <polyplug.h>

#include <stdlib.h>

#ifndef COUNTER_VERSION
#define COUNTER_VERSION 1
#endif

#define STRINGIFY(x) #x
#define TEXT(x) STRINGIFY(x)
#define PLUGIN "counter-c v" TEXT(COUNTER_VERSION)

/* The arguments of the native functions `step` and `count`. */
typedef struct StepArgs {
    uint32_t x;
} StepArgs;

/* One instance: a running total. */
typedef struct Counter {
    uint32_t total;
} Counter;

/* Fills *err, which may be null. The message is a literal: static for the
 * life of the library, so flags stay 0. */
static uint32_t fail(PpAbiError *err, uint32_t code, PpStrView message) {
    if (err != NULL) {
        err->code = code;
        err->flags = 0;
        err->message = message;
    }
    return code;
}

#define ERR_OVERFLOW (PP_ERR_PLUGIN + 1)

/* x + COUNTER_VERSION into *out, or ERR_OVERFLOW. */
static uint32_t checked_step(uint32_t x, uint32_t *out, PpAbiError *err) {
    if (x > UINT32_MAX - COUNTER_VERSION) {
        return fail(err, ERR_OVERFLOW, PP_STR("demo.counter: the step overflows u32"));
    }
    *out = x + COUNTER_VERSION;
    return PP_OK;
}

/* Native functions: fn(instance, args, out, err). */
static uint32_t step(void *instance, const void *args, void *out, PpAbiError *err) {
    (void)instance; /* works with or without an instance */
    if (args == NULL || out == NULL) {
        return fail(err, PP_ERR_BAD_ARGUMENT, PP_STR("demo.counter step: null args or out"));
    }
    const StepArgs *in = (const StepArgs *)args;
    return checked_step(in->x, (uint32_t *)out, err);
}

static uint32_t count(void *instance, const void *args, void *out, PpAbiError *err) {
    if (instance == NULL || args == NULL || out == NULL) {
        return fail(err, PP_ERR_BAD_ARGUMENT,
                    PP_STR("demo.counter count: needs an instance, args and out"));
    }
    Counter *counter = (Counter *)instance;
    const StepArgs *in = (const StepArgs *)args;
    uint32_t stepped;
    uint32_t code = checked_step(in->x, &stepped, err);
    if (code != PP_OK) {
        return code;
    }
    if (stepped > UINT32_MAX - counter->total) {
        return fail(err, ERR_OVERFLOW, PP_STR("demo.counter: the step overflows u32"));
    }
    counter->total += stepped;
    *(uint32_t *)out = counter->total;
    return PP_OK;
}

/* Typed functions: plain C functions, called with no marshalling. */
static uint32_t version(void) { return COUNTER_VERSION; }

static uint32_t step_typed(uint32_t x) { return x + COUNTER_VERSION; }

/* Instances. */
static uint32_t create_counter(const PpHostApi *host, void **instance, PpAbiError *err) {
    Counter *counter = (Counter *)calloc(1, sizeof(Counter));
    if (counter == NULL) {
        return fail(err, PP_ERR_OUT_OF_MEMORY, PP_STR(PLUGIN ": out of memory"));
    }
    host->log(host->ctx, PP_LOG_INFO, PP_STR(PLUGIN ": instance created"));
    *instance = counter;
    return PP_OK;
}

static void destroy_counter(void *instance) { free(instance); }

/* The tables: static, so they live as long as the library. */
static const PpNativeEntry NATIVE[] = {
    {PP_STR_INIT("step"), step},
    {PP_STR_INIT("count"), count},
};

static const PpTypedEntry TYPED[] = {
    {PP_STR_INIT("version"), PP_STR_INIT("u32()"), (PpVoidFn)version, NULL},
    {PP_STR_INIT("step"), PP_STR_INIT("u32(u32)"), (PpVoidFn)step_typed, NULL},
};

/* The two exports every plugin has. */
PP_EXPORT const uint32_t polyplug_abi_version = PP_ABI_VERSION;

PP_EXPORT uint32_t polyplug_entry(const PpHostApi *host, const PpBundleContext *bundle,
                                  PpAbiError *err) {
    (void)bundle;
    if (host == NULL || host->abi_version != PP_ABI_VERSION) {
        return fail(err, PP_ERR_ABI_MISMATCH, PP_STR(PLUGIN ": unexpected host table"));
    }
    PpContractInterface iface = {0};
    iface.id = pp_contract_id("demo.counter", 1);
    iface.name = PP_STR("demo.counter");
    iface.version = (PpVersion){1, 0, 0};
    iface.native_count = sizeof NATIVE / sizeof NATIVE[0];
    iface.native = NATIVE;
    iface.typed_count = sizeof TYPED / sizeof TYPED[0];
    iface.typed = TYPED;
    iface.create_instance = create_counter;
    iface.destroy_instance = destroy_counter;
    uint32_t code = host->register_contract(host->ctx, &iface, err);
    if (code == PP_OK) {
        host->log(host->ctx, PP_LOG_INFO, PP_STR(PLUGIN " loaded"));
    }
    return code;
}
