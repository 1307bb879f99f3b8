/*
 * Example plugin `text-c`: contract `demo.text` 1.0.0 in C.
 *
 *   typed "upper":    string(str) -> the text with ASCII a-z upper-cased
 *   typed "checksum": u64(bytes)  -> the wrapping sum of the bytes
 *
 * `upper` here changes the ASCII letters a-z only and copies every other
 * byte as it is, so "straße" becomes "STRAßE" and "é" stays "é"; the Rust
 * plugin `text-rust` upper-cases all of Unicode ("STRASSE", "É"). Both
 * agree on ASCII text.
 *
 * Who frees what: a `str` or `bytes` argument is a view (PpStrView,
 * PpBytesView) that the host lends for the call; the plugin keeps no
 * pointer into it. The `string` result is a PpOwnedBuf that the plugin
 * allocates with the host table's alloc(len, 1) and hands over: the host
 * owns it from then on and frees it. An empty result is {NULL, 0}; so is a
 * failed allocation, since a typed function has no error channel.
 */

#include <polyplug.h>

static const PpHostApi *HOST = NULL;

static PpOwnedBuf upper(PpStrView text) {
    PpOwnedBuf buf = {NULL, 0};
    if (text.len == 0 || HOST == NULL || HOST->alloc == NULL) {
        return buf;
    }
    buf.ptr = (uint8_t *)HOST->alloc(HOST->ctx, text.len, 1);
    if (buf.ptr == NULL) {
        return buf;
    }
    buf.len = text.len;
    for (size_t i = 0; i < text.len; i++) {
        uint8_t c = text.ptr[i];
        buf.ptr[i] = (c >= 'a' && c <= 'z') ? (uint8_t)(c - 'a' + 'A') : c;
    }
    return buf;
}

static uint64_t checksum(PpBytesView bytes) {
    uint64_t sum = 0; /* unsigned: wraps modulo 2^64 */
    for (size_t i = 0; i < bytes.len; i++) {
        sum += bytes.ptr[i];
    }
    return sum;
}

static const PpTypedEntry TYPED[] = {
    {PP_STR_INIT("upper"), PP_STR_INIT("string(str)"), (PpVoidFn)upper, NULL},
    {PP_STR_INIT("checksum"), PP_STR_INIT("u64(bytes)"), (PpVoidFn)checksum, NULL},
};

PP_EXPORT const uint32_t polyplug_abi_version = PP_ABI_VERSION;

PP_EXPORT uint32_t polyplug_entry(const PpHostApi *host, const PpBundleContext *bundle,
                                  PpAbiError *err) {
    PpContractInterface iface = {0};
    (void)bundle;
    if (host == NULL || host->register_contract == NULL) {
        if (err != NULL) {
            err->code = PP_ERR_BAD_ARGUMENT;
            err->flags = 0;
            err->message = PP_STR("text-c: no host table");
        }
        return PP_ERR_BAD_ARGUMENT;
    }
    HOST = host;
    iface.id = pp_contract_id("demo.text", 1);
    iface.name = PP_STR("demo.text");
    iface.version = (PpVersion){1, 0, 0};
    iface.typed_count = sizeof TYPED / sizeof TYPED[0];
    iface.typed = TYPED;
    return host->register_contract(host->ctx, &iface, err);
}
