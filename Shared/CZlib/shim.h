#include <zlib.h>
// inflateInit2 is a macro: a function Swift can call.
static inline int iceshelves_inflate_init_gzip(z_streamp s) { return inflateInit2(s, 16 + MAX_WBITS); }
