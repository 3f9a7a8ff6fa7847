#ifndef ICESHELVES_CCURL_SHIM_H
#define ICESHELVES_CCURL_SHIM_H
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <string.h>

// curl_easy_setopt and curl_easy_getinfo are variadic: typed wrappers Swift can call.
static inline CURLcode iceshelves_curl_set_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode iceshelves_curl_set_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode iceshelves_curl_set_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode iceshelves_curl_set_blob(CURL *h, CURLoption o, const void *data, size_t length) {
    struct curl_blob blob = { (void *)data, length, CURL_BLOB_COPY };
    return curl_easy_setopt(h, o, &blob);
}
typedef size_t (*iceshelves_curl_data_callback)(char *, size_t, size_t, void *);
static inline CURLcode iceshelves_curl_set_write(CURL *h, iceshelves_curl_data_callback cb, void *userdata) {
    CURLcode rc = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, cb);
    return rc == CURLE_OK ? curl_easy_setopt(h, CURLOPT_WRITEDATA, userdata) : rc;
}
static inline CURLcode iceshelves_curl_get_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline struct curl_slist *iceshelves_curl_slist_append(struct curl_slist *l, const char *s) { return curl_slist_append(l, s); }

// Certificate pinning: the server must present exactly the certificate whose SHA-256 (of the
// DER) is `sha256`, as LXD's own client pins a remote. It replaces chain and host-name checks,
// and it runs inside the TLS handshake, so nothing is sent to a server that fails it.
typedef struct { unsigned char sha256[32]; } iceshelves_pin;

static int iceshelves_pin_verify(X509_STORE_CTX *ctx, void *arg) {
    const iceshelves_pin *pin = (const iceshelves_pin *)arg;
    X509 *cert = X509_STORE_CTX_get0_cert(ctx);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (cert == NULL || !X509_digest(cert, EVP_sha256(), md, &n) || n != 32 || CRYPTO_memcmp(md, pin->sha256, 32) != 0) {
        X509_STORE_CTX_set_error(ctx, X509_V_ERR_CERT_UNTRUSTED);
        return 0;
    }
    X509_STORE_CTX_set_error(ctx, X509_V_OK);
    return 1;
}

static CURLcode iceshelves_pin_sslctx(CURL *curl, void *sslctx, void *parm) {
    (void)curl;
    SSL_CTX_set_cert_verify_callback((SSL_CTX *)sslctx, iceshelves_pin_verify, parm);
    return CURLE_OK;
}

/// Pins `pin` (which must outlive the handle) on an easy handle.
static inline CURLcode iceshelves_curl_pin(CURL *h, iceshelves_pin *pin) {
    CURLcode rc = curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, iceshelves_pin_sslctx);
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, (void *)pin);
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    // A cached TLS session would skip the callback on a new connection: verify every time.
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    return rc;
}
#endif
