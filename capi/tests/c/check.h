/*
 * What the C test programs share: CHECK, which stops the program with the
 * runtime's message when a call fails, and EXPECT for plain conditions.
 */
#ifndef POLYPLUG_TEST_CHECK_H
#define POLYPLUG_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#include <polyplug_host.h>

/* Stops the program unless `call` returns POLYPLUG_OK. */
#define CHECK(call)                                                                  \
    do {                                                                             \
        polyplug_status check_status_ = (call);                                      \
        if (check_status_ != POLYPLUG_OK) {                                          \
            size_t check_len_ = 0;                                                   \
            const char *check_message_ = polyplug_last_error_message(&check_len_);   \
            fprintf(stderr, "%s:%d: %s failed: %s: %.*s\n", __FILE__, __LINE__,      \
                    #call, polyplug_status_name(check_status_), (int)check_len_,     \
                    check_message_);                                                 \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

/* Stops the program unless `condition` holds. */
#define EXPECT(condition)                                                            \
    do {                                                                             \
        if (!(condition)) {                                                          \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #condition); \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

#endif
