/*
 * polyplug.hpp: exception containment for C++ polyplug plugins.
 *
 * Written by hand, header only, C++17; include it instead of, or after,
 * polyplug.h (the generated C ABI), which it includes.
 *
 * The host is not C++: an exception that leaves a function the host calls
 * unwinds into code that cannot catch it, and the process aborts
 * (SAFETY.md [P6]). Wrap the body of every function the host calls:
 *
 *   the entry point    return polyplug::entry(host, err, [&]() -> uint32_t { ... });
 *   native functions,  return polyplug::guard(err, [&]() -> uint32_t { ... });
 *   create_instance
 *   typed functions    return polyplug::guard_or(0u, [&] { return ...; });
 *   destroy_instance   polyplug::guard_void([&] { ... });
 *
 * An exception that reaches a wrapper becomes PP_ERR_PANIC, with what() as
 * the message for a std::exception and "unknown C++ exception" for anything
 * else. The message is copied into memory from the host table's alloc and
 * flagged PP_ERROR_FLAG_HOST_ALLOCATED: the host frees it after reading it,
 * so nothing of the plugin needs to outlive the call (no thread_local
 * buffer, which would keep glibc from unmapping the library). When the copy
 * cannot be made, the message is a static one that says so. A typed
 * function or destroy_instance has no error to report, so its wrapper logs
 * the message at PP_LOG_ERROR and returns the fallback (or nothing).
 *
 * polyplug::entry keeps the host table for the other wrappers (the host
 * keeps it valid until the library is closed); a native function wrapped
 * before the entry point ran reports the static message. Each wrapper is
 * noexcept: should anything still escape, std::terminate runs instead of an
 * unwind into the host.
 *
 * What stays with the author: code outside a wrapper (static constructors,
 * functions the host calls that were not wrapped, threads the plugin
 * starts), exceptions thrown through a noexcept function inside the body
 * (std::terminate), and anything that is not a C++ exception (signals,
 * longjmp, undefined behaviour).
 */

#ifndef POLYPLUG_HPP
#define POLYPLUG_HPP

#include "polyplug.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <type_traits>
#include <utility>

/* Not exported. A default-visibility inline variable becomes an
 * STB_GNU_UNIQUE symbol: glibc would never unmap the library, and every C++
 * plugin in the process would share one host table, another library's. */
#if defined(__GNUC__) || defined(__clang__)
#define POLYPLUG_HIDDEN __attribute__((visibility("hidden")))
#else
#define POLYPLUG_HIDDEN
#endif

namespace polyplug {

namespace detail {

/* The host table given to the entry point; one per library. */
POLYPLUG_HIDDEN inline std::atomic<const PpHostApi *> host_table{nullptr};

/* The message for an exception that cannot be copied. */
inline PpStrView uncopied() noexcept {
    return PP_STR("a C++ exception was caught; its message could not be copied");
}

/* A copy of `text` in memory from the host's alloc, or uncopied(). */
POLYPLUG_HIDDEN inline PpStrView host_copy(const PpHostApi *host, const char *text,
                                           uint32_t *flags) noexcept {
    *flags = 0;
    if (host == nullptr || host->alloc == nullptr || text == nullptr) {
        return uncopied();
    }
    std::size_t len = std::strlen(text);
    if (len == 0) {
        return PP_STR("C++ exception with an empty message");
    }
    void *copy = host->alloc(host->ctx, len, 1);
    if (copy == nullptr) {
        return uncopied();
    }
    std::memcpy(copy, text, len);
    *flags = PP_ERROR_FLAG_HOST_ALLOCATED;
    return PpStrView{static_cast<const uint8_t *>(copy), len};
}

/* Fills *err, which may be null, for the exception being handled with
 * message `text`; returns PP_ERR_PANIC. */
POLYPLUG_HIDDEN inline uint32_t report(const PpHostApi *host, PpAbiError *err,
                                       const char *text) noexcept {
    if (err != nullptr) {
        uint32_t flags = 0;
        PpStrView message = host_copy(host, text, &flags);
        err->code = PP_ERR_PANIC;
        err->flags = flags;
        err->message = message;
    }
    return PP_ERR_PANIC;
}

/* Logs `text` at PP_LOG_ERROR, for a function that has no error to fill. */
POLYPLUG_HIDDEN inline void log_error(const char *text) noexcept {
    const PpHostApi *host = host_table.load(std::memory_order_acquire);
    if (host != nullptr && host->log != nullptr && text != nullptr) {
        PpStrView message{reinterpret_cast<const uint8_t *>(text), std::strlen(text)};
        host->log(host->ctx, PP_LOG_ERROR, message);
    }
}

constexpr const char *unknown = "unknown C++ exception";

/* Runs `body`, which returns a code, and turns an exception into its error. */
template <typename Body>
uint32_t run(const PpHostApi *host, PpAbiError *err, Body &&body) noexcept {
    using Code = std::invoke_result_t<Body &>;
    static_assert(std::is_integral_v<Code> && !std::is_same_v<Code, bool>,
                  "the body returns a code: PP_OK or an error code, as a uint32_t");
    try {
        return static_cast<uint32_t>(body());
    } catch (const std::exception &e) {
        return report(host, err, e.what());
    } catch (...) {
        return report(host, err, unknown);
    }
}

}  // namespace detail

/*
 * The body of the entry point: keeps `host` for the other wrappers, then
 * runs `body`, which returns PP_OK or an error code with *err filled. An
 * exception fails the load with PP_ERR_PANIC and its message.
 *
 *   extern "C" PP_EXPORT uint32_t polyplug_entry(const PpHostApi *host,
 *                                                const PpBundleContext *, PpAbiError *err) {
 *       return polyplug::entry(host, err, [&]() -> uint32_t {
 *           ...
 *           return host->register_contract(host->ctx, &iface, err);
 *       });
 *   }
 */
template <typename Body>
uint32_t entry(const PpHostApi *host, PpAbiError *err, Body &&body) noexcept {
    const bool usable = host != nullptr && host->abi_version == PP_ABI_VERSION &&
                        host->size >= sizeof(PpHostApi);
    if (usable) {
        detail::host_table.store(host, std::memory_order_release);
    }
    return detail::run(usable ? host : nullptr, err, body);
}

/*
 * The body of a native function or of create_instance: runs `body`, which
 * returns PP_OK or an error code with *err filled; an exception becomes
 * PP_ERR_PANIC with its message.
 */
template <typename Body>
uint32_t guard(PpAbiError *err, Body &&body) noexcept {
    return detail::run(detail::host_table.load(std::memory_order_acquire), err, body);
}

/*
 * The body of a typed function, which has no error channel: returns what
 * `body` returns, or, when it throws, logs the message at PP_LOG_ERROR and
 * returns `fallback`.
 */
template <typename T, typename Body>
T guard_or(T fallback, Body &&body) noexcept {
    try {
        return body();
    } catch (const std::exception &e) {
        detail::log_error(e.what());
    } catch (...) {
        detail::log_error(detail::unknown);
    }
    return fallback;
}

/*
 * The body of a function that returns nothing (destroy_instance): runs
 * `body`; an exception is logged at PP_LOG_ERROR.
 */
template <typename Body>
void guard_void(Body &&body) noexcept {
    try {
        body();
    } catch (const std::exception &e) {
        detail::log_error(e.what());
    } catch (...) {
        detail::log_error(detail::unknown);
    }
}

}  // namespace polyplug

#endif /* POLYPLUG_HPP */
