/*
 * polyplug_host.hpp: a header-only C++17 wrapper over the C API of
 * libpolyplug (polyplug_host.h).
 *
 * Written by hand; it adds no behaviour of its own:
 * - RAII types own what the C API hands out: runtime, reader, guard,
 *   binding (a polyplug_fn), instance, subscription, listener and host
 *   contract. They are movable, not copyable, and release in their
 *   destructor (a guard unpins, a reader is destroyed, ...).
 * - A failed call throws polyplug::error, carrying the status, the
 *   plugin's code where there is one, and the runtime's message.
 * - Typed functions are asked for by their C++ type, from which the
 *   signature string is built and checked once:
 *       contract.fn<uint32_t(uint32_t)>("inc")(41)
 *   uint8_t..uint64_t, int8_t..int64_t, float, double, and void as a return
 *   type map to u8..u64, i8..i64, f32, f64, void. size_t and ptrdiff_t are
 *   the same C++ types as uint64_t and int64_t on LP64 platforms, so a
 *   function registered as usize or isize is reached through the C API
 *   (polyplug_typed) with its own spelling.
 * - Views and owned results: std::string_view is `str`, polyplug::bytes_view
 *   is `bytes` (arguments, borrowed for the call); std::string is `string`
 *   and std::vector<uint8_t> is `buf` (results). A signature with any of
 *   them is called packed, through polyplug_fn_call, and so is any function
 *   asked for with contract::packed (a WebAssembly function has no C
 *   pointer):
 *       contract.fn<std::string(std::string_view)>("upper")("abc")
 *       contract.packed<uint32_t(uint32_t, uint32_t)>("add")(2, 3)
 *   An owned result is copied into the std::string or std::vector and the
 *   library's buffer freed with polyplug_buf_free once, by RAII, also when
 *   the copy throws. A `string` result's bytes are copied as they are: this
 *   wrapper does not check that they are UTF-8.
 *
 * The rules of the C API hold as they are: a reader, its guards and
 * bindings stay on the thread that made them; what a guard found (a
 * contract, a typed function) is used while the guard lives; a runtime
 * outlives its readers. Destructors do not throw: a destroy the C API
 * refuses (a runtime with live readers) leaves the object alive, and the
 * refusal is the last error of the thread.
 */

#ifndef POLYPLUG_HOST_HPP
#define POLYPLUG_HOST_HPP

#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "polyplug_host.h"

namespace polyplug {

/** A failed call of the C API: its status, the plugin's code, the message. */
class error : public std::runtime_error {
public:
    error(polyplug_status status, uint32_t code, const std::string &message)
        : std::runtime_error(message), status_(status), code_(code) {}
    /** The POLYPLUG_ERR_* status. */
    polyplug_status status() const noexcept { return status_; }
    /** The plugin's own code (POLYPLUG_ERR_CALL, POLYPLUG_ERR_INIT_FAILED), else 0. */
    uint32_t code() const noexcept { return code_; }
    /** The status's name, such as "POLYPLUG_ERR_STALE_CONTRACT". */
    const char *status_name() const noexcept { return polyplug_status_name(status_); }

private:
    polyplug_status status_;
    uint32_t code_;
};

/** A borrowed run of bytes, the C++ side of a `bytes` argument (PpBytesView). */
struct bytes_view {
    const uint8_t *data = nullptr;
    size_t size = 0;
    bytes_view() noexcept = default;
    bytes_view(const uint8_t *d, size_t n) noexcept : data(d), size(n) {}
    bytes_view(const std::vector<uint8_t> &v) noexcept : data(v.data()), size(v.size()) {}
};

namespace detail {

/** Throws the calling thread's last error unless `status` is POLYPLUG_OK. */
inline void check(polyplug_status status) {
    if (status != POLYPLUG_OK) {
        size_t len = 0;
        const char *message = polyplug_last_error_message(&len);
        throw error(status, polyplug_last_error_code(), std::string(message, len));
    }
}

/** The signature spelling of a C++ type: u32 for uint32_t. */
template <class T>
struct abi_name;
#define POLYPLUG_ABI_NAME(type, name) \
    template <>                       \
    struct abi_name<type> {           \
        static constexpr const char *value = name; \
    }
POLYPLUG_ABI_NAME(void, "void");
POLYPLUG_ABI_NAME(uint8_t, "u8");
POLYPLUG_ABI_NAME(uint16_t, "u16");
POLYPLUG_ABI_NAME(uint32_t, "u32");
POLYPLUG_ABI_NAME(uint64_t, "u64");
POLYPLUG_ABI_NAME(int8_t, "i8");
POLYPLUG_ABI_NAME(int16_t, "i16");
POLYPLUG_ABI_NAME(int32_t, "i32");
POLYPLUG_ABI_NAME(int64_t, "i64");
POLYPLUG_ABI_NAME(float, "f32");
POLYPLUG_ABI_NAME(double, "f64");
POLYPLUG_ABI_NAME(std::string_view, "str");
POLYPLUG_ABI_NAME(bytes_view, "bytes");
POLYPLUG_ABI_NAME(std::string, "string");
POLYPLUG_ABI_NAME(std::vector<uint8_t>, "buf");
#undef POLYPLUG_ABI_NAME

/** Whether T crosses packed only: a view argument or an owned result. */
template <class T>
struct is_packed_only
    : std::bool_constant<std::is_same_v<T, std::string_view> || std::is_same_v<T, bytes_view> ||
                         std::is_same_v<T, std::string> || std::is_same_v<T, std::vector<uint8_t>>> {};

/** The C type a C++ argument is packed as. */
inline PpStrView to_abi(std::string_view v) noexcept {
    PpStrView out;
    out.ptr = v.empty() ? nullptr : reinterpret_cast<const uint8_t *>(v.data());
    out.len = v.size();
    return out;
}
inline PpBytesView to_abi(bytes_view v) noexcept {
    PpBytesView out;
    out.ptr = v.size == 0 ? nullptr : v.data;
    out.len = v.size;
    return out;
}
template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
T to_abi(T v) noexcept {
    return v;
}

/** An owned result: freed with polyplug_buf_free once, when it goes. */
class owned_buf {
public:
    owned_buf() noexcept {
        buf_.ptr = nullptr;
        buf_.len = 0;
    }
    owned_buf(const owned_buf &) = delete;
    owned_buf &operator=(const owned_buf &) = delete;
    ~owned_buf() { (void)polyplug_buf_free(buf_); }
    PpOwnedBuf *out() noexcept { return &buf_; }
    const char *chars() const noexcept { return reinterpret_cast<const char *>(buf_.ptr); }
    const uint8_t *bytes() const noexcept { return buf_.ptr; }
    size_t size() const noexcept { return buf_.len; }

private:
    PpOwnedBuf buf_;
};

/** The result of a packed call as the C++ type R: room for what the
 * function writes, and the conversion. */
template <class R>
struct packed_result {
    R value{};
    void *out() noexcept { return &value; }
    R take() { return value; }
};
template <>
struct packed_result<void> {
    void *out() noexcept { return nullptr; }
    void take() {}
};
template <>
struct packed_result<std::string> {
    owned_buf buf;
    void *out() noexcept { return buf.out(); }
    std::string take() { return buf.size() == 0 ? std::string() : std::string(buf.chars(), buf.size()); }
};
template <>
struct packed_result<std::vector<uint8_t>> {
    owned_buf buf;
    void *out() noexcept { return buf.out(); }
    std::vector<uint8_t> take() {
        return buf.size() == 0 ? std::vector<uint8_t>()
                               : std::vector<uint8_t>(buf.bytes(), buf.bytes() + buf.size());
    }
};

/** Arguments laid out as the C struct of a signature: each at the next
 * multiple of its alignment, in order. */
template <class... C>
struct packed_args {
    alignas(16) unsigned char bytes[(sizeof(C) + ... + 0) + (alignof(C) + ... + 0) + 1];
    size_t at = 0;
    template <class T>
    void put(const T &v) noexcept {
        at = (at + alignof(T) - 1) / alignof(T) * alignof(T);
        std::memcpy(bytes + at, &v, sizeof v);
        at += sizeof v;
    }
    const void *get() const noexcept { return sizeof...(C) == 0 ? nullptr : bytes; }
};

/** One packed call of `f` under `g`: the arguments' views live until it returns. */
template <class R, class... A>
R call_packed(const polyplug_guard &g, polyplug_fn *f, A... args) {
    packed_args<decltype(to_abi(args))...> packed;
    (packed.put(to_abi(args)), ...);
    packed_result<R> result;
    check(polyplug_fn_call(g, f, packed.get(), result.out()));
    return result.take();
}

/** Tags a type, to read one argument of that type. */
template <class T>
struct type_tag {
    using type = T;
};

/** The packed form of a host function of type R(A...), numbers only:
 * `ctx` is its PpTypedEntry, each argument is read at its offset in the C
 * struct of A..., and the result is written to `out`. Registered with every
 * typed host function, so that a script, a WebAssembly guest or
 * polyplug_fn_call can call it. An exception does not cross into the
 * caller: it becomes PP_ERR_PANIC. */
template <class R, class... A>
uint32_t packed_host(void *ctx, void *instance, const void *args, void *out,
                     PpAbiError *err) noexcept {
    (void)instance;
    (void)err;
    try {
        auto f = reinterpret_cast<R (*)(A...)>(static_cast<const PpTypedEntry *>(ctx)->func);
        const unsigned char *bytes = static_cast<const unsigned char *>(args);
        size_t at = 0;
        auto next = [&](auto tag) {
            using T = typename decltype(tag)::type;
            at = (at + alignof(T) - 1) / alignof(T) * alignof(T);
            T value;
            std::memcpy(&value, bytes + at, sizeof value);
            at += sizeof value;
            return value;
        };
        // A braced list is evaluated left to right: the arguments in order.
        std::tuple<A...> values{next(type_tag<A>{})...};
        (void)next;
        if constexpr (std::is_void_v<R>) {
            std::apply(f, values);
        } else {
            R result = std::apply(f, values);
            std::memcpy(out, &result, sizeof result);
        }
        return PP_OK;
    } catch (...) {
        return PP_ERR_PANIC;
    }
}

template <class Sig>
struct signature;

/** The spelling of a function type: `u32(u32,u32)` for uint32_t(uint32_t, uint32_t). */
template <class R, class... A>
struct signature<R(A...)> {
    using pointer = R (*)(A...);
    /** Views or owned results: no plain C call from C++, packed only. */
    static constexpr bool packed_only = (is_packed_only<R>::value || ... || is_packed_only<A>::value);
    static std::string spelling() {
        std::string text = abi_name<R>::value;
        text += '(';
        const char *names[] = {abi_name<A>::value..., nullptr};
        for (size_t i = 0; i < sizeof...(A); ++i) {
            if (i > 0) text += ',';
            text += names[i];
        }
        text += ')';
        return text;
    }
};

/** Owns a C object; calls Destroy on it once. Movable, not copyable. */
template <class T, polyplug_status (*Destroy)(T *)>
class owned {
public:
    owned() noexcept = default;
    explicit owned(T *ptr) noexcept : ptr_(ptr) {}
    owned(const owned &) = delete;
    owned &operator=(const owned &) = delete;
    owned(owned &&other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
    owned &operator=(owned &&other) noexcept {
        if (this != &other) {
            reset();
            ptr_ = std::exchange(other.ptr_, nullptr);
        }
        return *this;
    }
    ~owned() { reset(); }
    T *get() const noexcept { return ptr_; }
    T *release() noexcept { return std::exchange(ptr_, nullptr); }
    void reset() noexcept {
        if (ptr_ != nullptr) {
            (void)Destroy(std::exchange(ptr_, nullptr));
        }
    }

private:
    T *ptr_ = nullptr;
};

}  // namespace detail

/** A version: `polyplug::version(1, 0)`. */
inline PpVersion version(uint32_t major, uint32_t minor = 0, uint32_t patch = 0) {
    PpVersion v;
    v.major = major;
    v.minor = minor;
    v.patch = patch;
    return v;
}

/** The signature spelling of a C++ function type, as the C API wants it. */
template <class Sig>
std::string spelling() {
    return detail::signature<Sig>::spelling();
}

/** A typed function found under a guard: a plain C function pointer,
 * callable while that guard lives. */
template <class Sig>
class typed_fn;

template <class R, class... A>
class typed_fn<R(A...)> {
public:
    using pointer = R (*)(A...);
    explicit typed_fn(pointer f) noexcept : f_(f) {}
    /** A plain indirect call. */
    R operator()(A... args) const { return f_(args...); }
    /** The function pointer itself. */
    pointer get() const noexcept { return f_; }

private:
    pointer f_;
};

class guard;

/** A typed function called packed (polyplug_fn_call) under the guard it
 * was found under, valid while that guard lives: any typed function,
 * native or run by an engine, with views and owned results. Checked once
 * against its C++ type; owns its polyplug_fn. Stays on its thread. */
template <class Sig>
class packed_fn;

template <class R, class... A>
class packed_fn<R(A...)> {
public:
    packed_fn(const polyplug_guard &g, polyplug_fn *f) noexcept : g_(&g), f_(f) {}
    /** One call; an owned result is copied out and its buffer freed. */
    R operator()(A... args) const { return detail::call_packed<R, A...>(*g_, f_.get(), args...); }
    polyplug_fn *raw() const noexcept { return f_.get(); }

private:
    const polyplug_guard *g_;
    detail::owned<polyplug_fn, polyplug_fn_destroy> f_;
};

/** What contract::fn<Sig> returns: a plain C pointer (typed_fn), or a
 * packed_fn when Sig has views or owned results. */
template <class Sig>
using fn_for = std::conditional_t<detail::signature<Sig>::packed_only, packed_fn<Sig>, typed_fn<Sig>>;

/** A typed function checked once against its C++ type, fetched per guard:
 * after a reload, the new version's function. Stays on its thread. */
template <class Sig>
class binding;

template <class R, class... A>
class binding<R(A...)> {
public:
    explicit binding(polyplug_fn *f) noexcept : f_(f) {}
    /** The function as it serves under `g`, as a plain C pointer. */
    typed_fn<R(A...)> get(const guard &g) const;
    /** One packed call under `g` (polyplug_fn_call): for any typed
     * function, with views and owned results, native or engine-run. */
    R call(const guard &g, A... args) const;
    polyplug_fn *raw() const noexcept { return f_.get(); }

private:
    detail::owned<polyplug_fn, polyplug_fn_destroy> f_;
};

/** An instance of a stateful contract. Any thread, one call at a time. */
class instance {
public:
    explicit instance(polyplug_instance *i) noexcept : i_(i) {}
    /** Calls native function `name` on this instance. */
    template <class Args, class Out>
    void call(const char *name, const Args &args, Out &out) {
        detail::check(polyplug_instance_call(i_.get(), name, &args, &out));
    }
    /** The version that made it. */
    PpVersion made_by() const {
        PpVersion v;
        detail::check(polyplug_instance_version(i_.get(), &v));
        return v;
    }
    polyplug_instance *raw() const noexcept { return i_.get(); }

private:
    detail::owned<polyplug_instance, polyplug_instance_destroy> i_;
};

/** A contract found under a guard; valid while that guard lives. Its
 * handle() may be kept and looked up again with guard::get. */
class contract {
public:
    contract(const guard &g, polyplug_contract handle) noexcept : g_(&g), handle_(handle) {}
    polyplug_contract handle() const noexcept { return handle_; }
    /** Name, version, provider and function counts. */
    polyplug_contract_info info() const;
    std::string name() const {
        polyplug_contract_info i = info();
        return std::string(i.name, i.name_len);
    }
    PpVersion serving() const { return info().version; }
    /** Typed function `name` as the C++ type Sig, checked once: a plain C
     * pointer, or a packed_fn when Sig has views or owned results. */
    template <class Sig>
    fn_for<Sig> fn(const char *name) const;
    /** Typed function `name` as Sig, checked once, always called packed:
     * the form for a function an engine runs (WebAssembly). */
    template <class Sig>
    packed_fn<Sig> packed(const char *name) const;
    /** Typed function `name` bound as Sig, for binding::get per guard. */
    template <class Sig>
    binding<Sig> bind(const char *name) const;
    /** Native function `name`: reads an Args, writes an Out (as the contract documents). */
    template <class Args, class Out>
    void call_native(const char *name, const Args &args, Out &out) const;
    /** A new instance of this stateful contract. */
    instance create_instance() const;

private:
    const guard *g_;
    polyplug_contract handle_;
};

/** A pinned guard; unpinned when destroyed. Stays on its reader's thread. */
class guard {
public:
    explicit guard(polyplug_guard g) noexcept : g_(g) {}
    guard(const guard &) = delete;
    guard &operator=(const guard &) = delete;
    guard(guard &&other) noexcept : g_(other.g_) { other.g_.reader = nullptr; }
    guard &operator=(guard &&) = delete;
    ~guard() {
        if (g_.reader != nullptr) (void)polyplug_unpin(g_);
    }
    /** The best loaded contract `name` satisfying `min`. */
    contract find(const char *name, PpVersion min) const {
        polyplug_contract handle = 0;
        detail::check(polyplug_find(g_, name, min, &handle));
        return contract(*this, handle);
    }
    /** Every loaded contract `name` satisfying `min`. */
    std::vector<contract> find_all(const char *name, PpVersion min) const {
        size_t count = 0;
        detail::check(polyplug_find_all(g_, name, min, nullptr, 0, &count));
        std::vector<polyplug_contract> handles(count);
        detail::check(polyplug_find_all(g_, name, min, handles.data(), handles.size(), &count));
        std::vector<contract> found;
        for (size_t i = 0; i < count && i < handles.size(); ++i) found.emplace_back(*this, handles[i]);
        return found;
    }
    /** The contract behind a kept handle (after a reload: the new version). */
    contract get(polyplug_contract handle) const {
        polyplug_contract_info info;
        detail::check(polyplug_contract_describe(g_, handle, &info));
        return contract(*this, handle);
    }
    uint64_t revision() const {
        uint64_t r = 0;
        detail::check(polyplug_guard_revision(g_, &r));
        return r;
    }
    /** A quiescent point: what was found before must not be used after. */
    void repin() { detail::check(polyplug_repin(g_)); }
    const polyplug_guard &raw() const noexcept { return g_; }

private:
    polyplug_guard g_;
};

inline polyplug_contract_info contract::info() const {
    polyplug_contract_info i;
    detail::check(polyplug_contract_describe(g_->raw(), handle_, &i));
    return i;
}

template <class Sig>
fn_for<Sig> contract::fn(const char *name) const {
    if constexpr (detail::signature<Sig>::packed_only) {
        return packed<Sig>(name);
    } else {
        PpVoidFn f = nullptr;
        detail::check(polyplug_typed(g_->raw(), handle_, name, spelling<Sig>().c_str(), &f));
        return typed_fn<Sig>(reinterpret_cast<typename detail::signature<Sig>::pointer>(f));
    }
}

template <class Sig>
packed_fn<Sig> contract::packed(const char *name) const {
    polyplug_fn *f = nullptr;
    detail::check(polyplug_fn_new(g_->raw(), handle_, name, spelling<Sig>().c_str(), &f));
    return packed_fn<Sig>(g_->raw(), f);
}

template <class Sig>
binding<Sig> contract::bind(const char *name) const {
    polyplug_fn *f = nullptr;
    detail::check(polyplug_fn_new(g_->raw(), handle_, name, spelling<Sig>().c_str(), &f));
    return binding<Sig>(f);
}

template <class Args, class Out>
void contract::call_native(const char *name, const Args &args, Out &out) const {
    detail::check(polyplug_call_native(g_->raw(), handle_, name, &args, &out));
}

inline instance contract::create_instance() const {
    polyplug_instance *i = nullptr;
    detail::check(polyplug_instance_new(g_->raw(), handle_, &i));
    return instance(i);
}

template <class R, class... A>
typed_fn<R(A...)> binding<R(A...)>::get(const guard &g) const {
    PpVoidFn f = nullptr;
    detail::check(polyplug_fn_get(g.raw(), f_.get(), &f));
    return typed_fn<R(A...)>(reinterpret_cast<R (*)(A...)>(f));
}

template <class R, class... A>
R binding<R(A...)>::call(const guard &g, A... args) const {
    return detail::call_packed<R, A...>(g.raw(), f_.get(), args...);
}

class runtime;

/** One thread's registration with a runtime: make it on the thread that
 * reads, keep it, destroy it there, before the runtime. */
class reader {
public:
    explicit reader(const runtime &rt);
    /** Pins: no lock, no allocation. */
    guard pin() const {
        polyplug_guard g = POLYPLUG_GUARD_NONE;
        detail::check(polyplug_pin(r_.get(), &g));
        return guard(g);
    }
    polyplug_reader *raw() const noexcept { return r_.get(); }

private:
    detail::owned<polyplug_reader, polyplug_reader_destroy> r_;
};

/** One event, copied out of the C API. */
struct event {
    uint32_t kind = POLYPLUG_EVENT_NONE;
    uint32_t level = 0;
    uint32_t unmapped = 0;
    uint64_t bundle = POLYPLUG_NO_BUNDLE;
    PpVersion version = {0, 0, 0};
    PpVersion from = {0, 0, 0};
    std::string name, path, text;

    static event from_c(const polyplug_event &e) {
        event out;
        out.kind = e.kind;
        out.level = e.level;
        out.unmapped = e.unmapped;
        out.bundle = e.bundle;
        out.version = e.version;
        out.from = e.from;
        out.name.assign(e.name, e.name_len);
        out.path.assign(e.path, e.path_len);
        out.text.assign(e.text, e.text_len);
        return out;
    }
};

/** A subscription to a runtime's events, polled. */
class subscription {
public:
    explicit subscription(polyplug_subscription *s) noexcept : s_(s) {}
    /** The next queued event, if any. */
    std::optional<event> poll() {
        polyplug_event e;
        detail::check(polyplug_events_poll(s_.get(), &e));
        if (e.kind == POLYPLUG_EVENT_NONE) return std::nullopt;
        return event::from_c(e);
    }
    /** The next event, waiting up to `timeout`. */
    std::optional<event> wait(std::chrono::milliseconds timeout) {
        polyplug_event e;
        detail::check(polyplug_events_wait(s_.get(), static_cast<uint64_t>(timeout.count()), &e));
        if (e.kind == POLYPLUG_EVENT_NONE) return std::nullopt;
        return event::from_c(e);
    }

private:
    detail::owned<polyplug_subscription, polyplug_subscription_destroy> s_;
};

/** A contract implemented by the host, built then registered. */
class host_contract {
public:
    host_contract(const char *name, PpVersion v) {
        polyplug_host_contract *c = nullptr;
        detail::check(polyplug_host_contract_new(name, v, &c));
        c_ = decltype(c_)(c);
    }
    /** Adds a native function (PpNativeFn). */
    host_contract &native(const char *name, PpNativeFn f) {
        detail::check(polyplug_host_contract_native(c_.get(), name, f));
        return *this;
    }
    /** Adds a typed function of numbers; its signature is spelled from its
     * type, and its packed form is made from it too, so that every caller
     * reaches it: a plugin through the C pointer, a script, a WebAssembly
     * guest or polyplug_fn_call through the packed form. A view or an owned
     * result does not compile: a C host function has no C type for them. */
    template <class R, class... A>
    host_contract &typed(const char *name, R (*f)(A...)) {
        static_assert((std::is_void_v<R> || std::is_arithmetic_v<R>) &&
                          (std::is_arithmetic_v<A> && ...),
                      "a typed host function takes and returns numbers");
        detail::check(polyplug_host_contract_typed_packed(
            c_.get(), name, spelling<R(A...)>().c_str(), reinterpret_cast<PpVoidFn>(f),
            &detail::packed_host<R, A...>));
        return *this;
    }
    polyplug_host_contract *release() noexcept { return c_.release(); }

private:
    detail::owned<polyplug_host_contract, polyplug_host_contract_destroy> c_;
};

/** A loaded bundle, copied out of the C API. */
struct bundle_info {
    uint64_t id;
    std::string name;
    PpVersion version;
    std::string dir;
    std::vector<std::pair<std::string, PpVersion>> contracts, requires_;
};

/** The runtime. Any thread, concurrently. */
class runtime {
public:
    runtime() {
        polyplug_runtime *rt = nullptr;
        detail::check(polyplug_runtime_new(&rt));
        rt_ = decltype(rt_)(rt);
    }
    /** With the loaders `loaders` (POLYPLUG_LOADER_WASM, _LUA, _JS) beside the native one. */
    explicit runtime(uint32_t loaders) {
        polyplug_options options;
        options.loaders = loaders;
        polyplug_runtime *rt = nullptr;
        detail::check(polyplug_runtime_new_with(&options, &rt));
        rt_ = decltype(rt_)(rt);
    }
    uint64_t load_bundle(const std::string &dir) const {
        uint64_t id = 0;
        detail::check(polyplug_load_bundle(rt_.get(), dir.c_str(), &id));
        return id;
    }
    std::vector<uint64_t> load_dir(const std::string &dir) const {
        std::vector<uint64_t> ids(64);
        size_t count = 0;
        detail::check(polyplug_load_dir(rt_.get(), dir.c_str(), ids.data(), ids.size(), &count));
        ids.resize(count < ids.size() ? count : ids.size());
        return ids;
    }
    /** Reloads from `from`, or from its own directory when empty. */
    void reload_bundle(uint64_t id, const std::string &from = std::string()) const {
        detail::check(polyplug_reload_bundle(rt_.get(), id, from.empty() ? nullptr : from.c_str()));
    }
    void unload_bundle(uint64_t id) const { detail::check(polyplug_unload_bundle(rt_.get(), id)); }
    std::vector<uint64_t> unload_cascade(uint64_t id) const {
        std::vector<uint64_t> ids(64);
        size_t count = 0;
        detail::check(polyplug_unload_cascade(rt_.get(), id, ids.data(), ids.size(), &count));
        ids.resize(count < ids.size() ? count : ids.size());
        return ids;
    }
    void drain(std::chrono::milliseconds timeout) const {
        detail::check(polyplug_drain(rt_.get(), static_cast<uint64_t>(timeout.count())));
    }
    size_t reclaim() const {
        size_t closed = 0;
        detail::check(polyplug_reclaim(rt_.get(), &closed));
        return closed;
    }
    uint64_t revision() const {
        uint64_t r = 0;
        detail::check(polyplug_revision(rt_.get(), &r));
        return r;
    }
    polyplug_library_stats library_stats() const {
        polyplug_library_stats s;
        detail::check(polyplug_library_stats_get(rt_.get(), &s));
        return s;
    }
    uint64_t bundle_id(const std::string &name) const {
        uint64_t id = 0;
        detail::check(polyplug_bundle_id(rt_.get(), name.c_str(), &id));
        return id;
    }
    std::vector<bundle_info> bundles() const {
        polyplug_bundle_list *list = nullptr;
        detail::check(polyplug_bundles(rt_.get(), &list));
        detail::owned<polyplug_bundle_list, polyplug_bundle_list_destroy> owner(list);
        const polyplug_bundle_info *items = nullptr;
        size_t count = 0;
        detail::check(polyplug_bundle_list_items(list, &items, &count));
        std::vector<bundle_info> out;
        for (size_t i = 0; i < count; ++i) {
            const polyplug_bundle_info &b = items[i];
            bundle_info info{b.id, std::string(b.name, b.name_len), b.version,
                             std::string(b.dir, b.dir_len), {}, {}};
            for (size_t j = 0; j < b.contract_count; ++j)
                info.contracts.emplace_back(std::string(b.contracts[j].name, b.contracts[j].name_len),
                                            b.contracts[j].version);
            for (size_t j = 0; j < b.require_count; ++j)
                info.requires_.emplace_back(std::string(b.requires[j].name, b.requires[j].name_len),
                                            b.requires[j].version);
            out.push_back(std::move(info));
        }
        return out;
    }
    /** Publishes a host contract; it is consumed. */
    polyplug_contract register_host_contract(host_contract &&contract) const {
        polyplug_contract handle = 0;
        detail::check(polyplug_register_host_contract(rt_.get(), contract.release(), &handle));
        return handle;
    }
    subscription subscribe() const {
        polyplug_subscription *s = nullptr;
        detail::check(polyplug_subscribe(rt_.get(), &s));
        return subscription(s);
    }
    polyplug_runtime *raw() const noexcept { return rt_.get(); }

private:
    detail::owned<polyplug_runtime, polyplug_runtime_destroy> rt_;
};

inline reader::reader(const runtime &rt) {
    polyplug_reader *r = nullptr;
    detail::check(polyplug_reader_new(rt.raw(), &r));
    r_ = decltype(r_)(r);
}

}  // namespace polyplug

#endif  /* POLYPLUG_HOST_HPP */
