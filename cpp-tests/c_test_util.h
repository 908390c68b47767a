/* Shared by the C tests: stop on a failed precondition, and a substring test for
 * error messages. Include after copc.h, <stdio.h>, <stdlib.h> and <string.h>. */
#ifndef COPC_C_TEST_UTIL_H
#define COPC_C_TEST_UTIL_H

/* Stops the test when a step every later check needs has failed. */
#define REQUIRE(cond)                                                                       \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s (%s)\n", __FILE__, __LINE__, #cond,  \
                    copc_last_error_message());                                             \
            exit(1);                                                                        \
        }                                                                                   \
    } while (0)

static int contains(const char *haystack, const char *needle) {
    return haystack != NULL && strstr(haystack, needle) != NULL;
}

#endif
