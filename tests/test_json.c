/* test_json.c - json_parse_all: one complete value, nothing but whitespace
 * after it (cJSON alone accepts trailing garbage). */
#include "json.h"
#include "test.h"

#include <string.h>

static int parses(const char *s, size_t len)
{
    cJSON *r = json_parse_all(s, len);
    cJSON_Delete(r);
    return r != NULL;
}

TEST(json_parse_all_strict)
{
    static const char *const good[] = {"{}", "{\"a\": [1, 2]}\n", "  [true]  \r\n\t", "3"};
    static const char *const bad[] = {"", "   ", "{}x", "{} {}", "1\xff\xfe", "[1, 2", "{\"a\":}", "nul"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        CHECK(parses(good[i], strlen(good[i])), "rejected valid '%s'", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(!parses(bad[i], strlen(bad[i])), "accepted '%s'", bad[i]);
    /* The length is honoured: a value cut by len is invalid, NUL padding is fine. */
    CHECK(!parses("{\"a\": 1}", 5), "accepted a value cut by len");
    CHECK(parses("[1]\0\0", 5), "rejected NUL padding after the value");
}
