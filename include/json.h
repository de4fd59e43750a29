/* json.h - strict JSON parsing for the files lemonade reads back.
 *
 * cJSON_ParseWithLength accepts anything after a complete value, so a
 * damaged file such as `1<garbage>` or `{}<garbage>` would pass as valid.
 * json_parse_all parses exactly one value and fails (NULL) unless only
 * whitespace (or NUL padding) follows it. The caller owns the result
 * (cJSON_Delete). */
#ifndef LEMONADE_JSON_H
#define LEMONADE_JSON_H

#include <stddef.h>
#include <cjson/cJSON.h>

cJSON *json_parse_all(const char *text, size_t len);

#endif
