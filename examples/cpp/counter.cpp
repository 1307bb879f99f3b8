// Example plugin `counter-cpp`: contract `demo.counter` 1.0.0 in C++.
//
// One source, two builds: COUNTER_VERSION is 1 (the default) or 2, set
// with -DCOUNTER_VERSION=2. Same contract as the Rust and C plugins:
//
//   typed  "version": u32()    -> COUNTER_VERSION
//   typed  "step":    u32(u32) -> x + COUNTER_VERSION (wrapping)
//   native "step":    StepArgs -> u32, x + COUNTER_VERSION; no instance
//                     needed; error 1001 when that overflows
//   native "count":   StepArgs -> u32, needs an instance:
//                     total += x + COUNTER_VERSION, returns total;
//                     error 1001 on overflow
//
// No exception may leave a function the host calls ([P6]): the body of
// every one of them runs inside a wrapper from polyplug.hpp, which turns
// an exception into an error the host reports.

#include <polyplug.hpp>

#include <cstdint>

#ifndef COUNTER_VERSION
#define COUNTER_VERSION 1
#endif

#define STRINGIFY(x) #x
#define TEXT(x) STRINGIFY(x)
#define PLUGIN "counter-cpp v" TEXT(COUNTER_VERSION)

namespace {

constexpr uint32_t kStep = COUNTER_VERSION;
constexpr uint32_t kErrOverflow = PP_ERR_PLUGIN + 1;

// The arguments of the native functions `step` and `count`.
struct StepArgs {
    uint32_t x;
};

// One instance: a running total.
class Counter {
  public:
    // Adds x + kStep to the total; false when that overflows.
    bool add(uint32_t x) noexcept {
        if (x > UINT32_MAX - kStep || x + kStep > UINT32_MAX - total_) {
            return false;
        }
        total_ += x + kStep;
        return true;
    }
    uint32_t total() const noexcept { return total_; }

  private:
    uint32_t total_ = 0;
};

// Fills *err, which may be null. The message is a literal: static for the
// life of the library, so flags stay 0.
uint32_t fail(PpAbiError *err, uint32_t code, PpStrView message) noexcept {
    if (err != nullptr) {
        err->code = code;
        err->flags = 0;
        err->message = message;
    }
    return code;
}

// Native functions: fn(instance, args, out, err), each body inside
// polyplug::guard.
uint32_t step(void *, const void *args, void *out, PpAbiError *err) noexcept {
    return polyplug::guard(err, [&]() -> uint32_t {
        if (args == nullptr || out == nullptr) {
            return fail(err, PP_ERR_BAD_ARGUMENT, PP_STR("demo.counter step: null args or out"));
        }
        const auto *in = static_cast<const StepArgs *>(args);
        if (in->x > UINT32_MAX - kStep) {
            return fail(err, kErrOverflow, PP_STR("demo.counter: the step overflows u32"));
        }
        *static_cast<uint32_t *>(out) = in->x + kStep;
        return PP_OK;
    });
}

uint32_t count(void *instance, const void *args, void *out, PpAbiError *err) noexcept {
    return polyplug::guard(err, [&]() -> uint32_t {
        if (instance == nullptr || args == nullptr || out == nullptr) {
            return fail(err, PP_ERR_BAD_ARGUMENT,
                        PP_STR("demo.counter count: needs an instance, args and out"));
        }
        auto *counter = static_cast<Counter *>(instance);
        if (!counter->add(static_cast<const StepArgs *>(args)->x)) {
            return fail(err, kErrOverflow, PP_STR("demo.counter: the step overflows u32"));
        }
        *static_cast<uint32_t *>(out) = counter->total();
        return PP_OK;
    });
}

// Typed functions: plain functions, called with no marshalling. They have
// no error to report: polyplug::guard_or logs an exception and returns the
// fallback.
uint32_t version() noexcept {
    return polyplug::guard_or(0u, [] { return kStep; });
}

uint32_t step_typed(uint32_t x) noexcept {
    return polyplug::guard_or(0u, [&] { return x + kStep; });
}

// Instances. `new` may throw std::bad_alloc: the wrapper reports it.
uint32_t create_counter(const PpHostApi *host, void **instance, PpAbiError *err) noexcept {
    return polyplug::guard(err, [&]() -> uint32_t {
        *instance = new Counter();
        host->log(host->ctx, PP_LOG_INFO, PP_STR(PLUGIN ": instance created"));
        return PP_OK;
    });
}

void destroy_counter(void *instance) noexcept {
    polyplug::guard_void([&] { delete static_cast<Counter *>(instance); });
}

// The tables: static, so they live as long as the library.
const PpNativeEntry NATIVE[] = {
    {PP_STR_INIT("step"), step},
    {PP_STR_INIT("count"), count},
};

const PpTypedEntry TYPED[] = {
    {PP_STR_INIT("version"), PP_STR_INIT("u32()"), reinterpret_cast<PpVoidFn>(version), nullptr},
    {PP_STR_INIT("step"), PP_STR_INIT("u32(u32)"), reinterpret_cast<PpVoidFn>(step_typed), nullptr},
};

}  // namespace

// The two exports every plugin has, with C linkage. polyplug::entry also
// keeps the host table, with which the other wrappers copy a message.
extern "C" PP_EXPORT const uint32_t polyplug_abi_version = PP_ABI_VERSION;

extern "C" PP_EXPORT uint32_t polyplug_entry(const PpHostApi *host, const PpBundleContext *,
                                             PpAbiError *err) {
    return polyplug::entry(host, err, [&]() -> uint32_t {
        if (host == nullptr || host->abi_version != PP_ABI_VERSION) {
            return fail(err, PP_ERR_ABI_MISMATCH, PP_STR(PLUGIN ": unexpected host table"));
        }
        PpContractInterface iface{};
        iface.id = pp_contract_id("demo.counter", 1);
        iface.name = PP_STR("demo.counter");
        iface.version = PpVersion{1, 0, 0};
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
    });
}
