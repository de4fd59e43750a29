/* replay_main.c - run a fuzz harness on files without libFuzzer, so that
 * `make test` (gcc) and `make check-asan` replay the seed corpora and every
 * regression input: `replay_X FILE...`. Exits 0 when every input ran. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    int n = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) { fprintf(stderr, "%s: cannot open\n", argv[i]); return 1; }
        size_t cap = 1 << 16, len = 0;
        uint8_t *buf = malloc(cap);
        size_t got;
        while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
            len += got;
            if (len == cap) {
                uint8_t *nb = realloc(buf, cap *= 2);
                if (!nb) { free(buf); buf = NULL; }
                buf = nb;
            }
        }
        fclose(f);
        if (!buf) { fprintf(stderr, "%s: out of memory\n", argv[i]); return 1; }
        /* An exact-size copy, so that a sanitizer catches reads past the end. */
        uint8_t *exact = malloc(len ? len : 1);
        for (size_t k = 0; k < len; k++) exact[k] = buf[k];
        free(buf);
        LLVMFuzzerTestOneInput(exact, len);
        free(exact);
        n++;
    }
    printf("replayed %d inputs\n", n);
    return 0;
}
