/*
 * Prints what the C compiler makes of include/polyplug.h, one fact a line,
 * for tests/c_header.rs to compare with the Rust types:
 *
 *     PpVersion size 12
 *     PpVersion align 4
 *     PpVersion.minor offset 4
 *     PP_OK value 0
 *     id 1 14718382584480468267 test.add      (major, pp_contract_id, name)
 *     str 8 test.add                          (PP_STR length, text)
 *
 * Built with -std=c11 -Wall -Wextra -Werror -pedantic. The header is
 * included twice to check its include guard.
 */
#include "polyplug.h"
#include "polyplug.h"

#include <stdio.h>

#define TYPE(t)                                                   \
    printf("%s size %zu\n%s align %zu\n", #t, sizeof(t), #t,      \
           (size_t)_Alignof(t))
#define FIELD(t, f) printf("%s.%s offset %zu\n", #t, #f, offsetof(t, f))
#define CONSTANT(c) printf("%s value %llu\n", #c, (unsigned long long)(c))
#define ID(name, major)                                                    \
    printf("id %lu %llu %s\n", (unsigned long)(major),                     \
           (unsigned long long)pp_contract_id((name), (major)), (name))
#define STR(lit)                                                      \
    do {                                                              \
        PpStrView view = PP_STR(lit);                                 \
        printf("str %zu %.*s\n", view.len, (int)view.len,             \
               (const char *)view.ptr);                               \
    } while (0)

static uint32_t add(void *instance, const void *args, void *out,
                    PpAbiError *err) {
    (void)instance;
    (void)args;
    (void)out;
    (void)err;
    return PP_OK;
}

/* PP_STR_INIT in a static table: a constant initializer. */
static const PpNativeEntry NATIVE[] = {{PP_STR_INIT("add"), add}};

int main(void) {
    PpAbiError none = PpAbiError_NONE;
    PpStrView empty = PpStrView_EMPTY;

    TYPE(PpStrView);
    FIELD(PpStrView, ptr);
    FIELD(PpStrView, len);

    TYPE(PpBytesView);
    FIELD(PpBytesView, ptr);
    FIELD(PpBytesView, len);

    TYPE(PpOwnedBuf);
    FIELD(PpOwnedBuf, ptr);
    FIELD(PpOwnedBuf, len);

    TYPE(PpVersion);
    FIELD(PpVersion, major);
    FIELD(PpVersion, minor);
    FIELD(PpVersion, patch);

    TYPE(PpContractId);
    TYPE(PpContractHandle);

    TYPE(PpAbiError);
    FIELD(PpAbiError, code);
    FIELD(PpAbiError, flags);
    FIELD(PpAbiError, message);

    TYPE(PpNativeEntry);
    FIELD(PpNativeEntry, name);
    FIELD(PpNativeEntry, func);

    TYPE(PpTypedEntry);
    FIELD(PpTypedEntry, name);
    FIELD(PpTypedEntry, signature);
    FIELD(PpTypedEntry, func);
    FIELD(PpTypedEntry, packed);

    TYPE(PpContextEntry);
    FIELD(PpContextEntry, name);
    FIELD(PpContextEntry, signature);
    FIELD(PpContextEntry, ctx);
    FIELD(PpContextEntry, func);

    TYPE(PpContractInterface);
    FIELD(PpContractInterface, id);
    FIELD(PpContractInterface, name);
    FIELD(PpContractInterface, version);
    FIELD(PpContractInterface, native_count);
    FIELD(PpContractInterface, native);
    FIELD(PpContractInterface, typed_count);
    FIELD(PpContractInterface, typed);
    FIELD(PpContractInterface, create_instance);
    FIELD(PpContractInterface, destroy_instance);
    FIELD(PpContractInterface, context_count);
    FIELD(PpContractInterface, context);
    FIELD(PpContractInterface, instance_ctx);
    FIELD(PpContractInterface, create_context_instance);
    FIELD(PpContractInterface, destroy_context_instance);
    FIELD(PpContractInterface, save_instance);
    FIELD(PpContractInterface, restore_instance);
    FIELD(PpContractInterface, save_context_instance);
    FIELD(PpContractInterface, restore_context_instance);

    TYPE(PpHostApi);
    FIELD(PpHostApi, abi_version);
    FIELD(PpHostApi, size);
    FIELD(PpHostApi, ctx);
    FIELD(PpHostApi, register_contract);
    FIELD(PpHostApi, find_contract);
    FIELD(PpHostApi, resolve_contract);
    FIELD(PpHostApi, log);
    FIELD(PpHostApi, alloc);
    FIELD(PpHostApi, free);
    FIELD(PpHostApi, last_error);

    TYPE(PpBundleContext);
    FIELD(PpBundleContext, name);
    FIELD(PpBundleContext, version);
    FIELD(PpBundleContext, dir);

    TYPE(PpNativeFn);
    TYPE(PpVoidFn);
    TYPE(PpCreateInstanceFn);
    TYPE(PpDestroyInstanceFn);
    TYPE(PpEntryFn);
    TYPE(PpRegisterContractFn);
    TYPE(PpFindContractFn);
    TYPE(PpResolveContractFn);
    TYPE(PpLogFn);
    TYPE(PpAllocFn);
    TYPE(PpFreeFn);
    TYPE(PpLastErrorFn);
    TYPE(PpContextFn);
    TYPE(PpContextCreateFn);
    TYPE(PpContextDestroyFn);
    TYPE(PpSaveInstanceFn);
    TYPE(PpRestoreInstanceFn);
    TYPE(PpContextSaveFn);
    TYPE(PpContextRestoreFn);

    CONSTANT(PP_ABI_VERSION);
    CONSTANT(PP_OK);
    CONSTANT(PP_ERR_BAD_ARGUMENT);
    CONSTANT(PP_ERR_NOT_FOUND);
    CONSTANT(PP_ERR_ABI_MISMATCH);
    CONSTANT(PP_ERR_NOT_IN_INIT);
    CONSTANT(PP_ERR_DUPLICATE);
    CONSTANT(PP_ERR_TRAP);
    CONSTANT(PP_ERR_BUDGET);
    CONSTANT(PP_ERR_UNDECLARED);
    CONSTANT(PP_ERR_INVALID);
    CONSTANT(PP_ERR_PANIC);
    CONSTANT(PP_ERR_OUT_OF_MEMORY);
    CONSTANT(PP_ERR_UNSUPPORTED);
    CONSTANT(PP_ERR_INTERNAL);
    CONSTANT(PP_ERR_PLUGIN);
    CONSTANT(PP_ERROR_FLAG_HOST_ALLOCATED);
    CONSTANT(PP_LOG_TRACE);
    CONSTANT(PP_LOG_DEBUG);
    CONSTANT(PP_LOG_INFO);
    CONSTANT(PP_LOG_WARN);
    CONSTANT(PP_LOG_ERROR);
    printf("PP_ABI_VERSION_SYMBOL text %s\n", PP_ABI_VERSION_SYMBOL);
    printf("PP_ENTRY_SYMBOL text %s\n", PP_ENTRY_SYMBOL);

    ID("test.add", 0);
    ID("test.add", 1);
    ID("test.add", 9);
    ID("test.add", 10);
    ID("test.add", 4294967295u);
    ID("", 0);
    ID("a", 1);
    ID("host.log", 2);
    ID("名前", 3);

    STR("test.add");
    STR("");

    printf("NATIVE[0].name %zu %.*s\n", NATIVE[0].name.len,
           (int)NATIVE[0].name.len, (const char *)NATIVE[0].name.ptr);
    printf("PpAbiError_NONE %lu %lu %zu %d\n", (unsigned long)none.code,
           (unsigned long)none.flags, none.message.len,
           none.message.ptr == NULL);
    printf("PpStrView_EMPTY %zu %d\n", empty.len, empty.ptr == NULL);
    return 0;
}
