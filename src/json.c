/* json.c - see json.h. */
#include "json.h"

cJSON *json_parse_all(const char *text, size_t len)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) return NULL;
    for (const char *p = end; p && p < text + len; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\0') continue;
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}
