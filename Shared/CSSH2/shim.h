#ifndef ICESHELVES_CSSH2_SHIM_H
#define ICESHELVES_CSSH2_SHIM_H
#include <libssh2.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <unistd.h>
#include <fcntl.h>
#include <string.h>

// libssh2's convenience names are macros: functions Swift can call.
static inline LIBSSH2_SESSION *iceshelves_ssh_session_new(void) { return libssh2_session_init_ex(NULL, NULL, NULL, NULL); }
static inline ssize_t iceshelves_ssh_read(LIBSSH2_CHANNEL *c, char *buf, size_t n) { return libssh2_channel_read_ex(c, 0, buf, n); }
static inline ssize_t iceshelves_ssh_write(LIBSSH2_CHANNEL *c, const char *buf, size_t n) { return libssh2_channel_write_ex(c, 0, buf, n); }
static inline int iceshelves_ssh_close_session(LIBSSH2_SESSION *s, const char *why) {
    return libssh2_session_disconnect_ex(s, SSH_DISCONNECT_BY_APPLICATION, why, "");
}
static inline int iceshelves_ssh_auth_key(LIBSSH2_SESSION *s, const char *user, const char *key, size_t keylen) {
    return libssh2_userauth_publickey_frommemory(s, user, strlen(user), NULL, 0, key, keylen, NULL);
}
// A `direct-streamlocal@openssh.com` channel to a unix socket on the server (what `ssh -L
// local.sock:remote.sock` opens). libssh2 1.10 has no call for it, but its generic channel
// open takes the request's extra data: string socket path, string reserved, uint32 reserved.
static inline LIBSSH2_CHANNEL *iceshelves_ssh_open_streamlocal(LIBSSH2_SESSION *s, const char *path) {
    static const char type[] = "direct-streamlocal@openssh.com";
    size_t plen = strlen(path);
    if (plen > 4096) return NULL;
    unsigned char message[4 + 4096 + 4 + 4];
    unsigned char *p = message;
    p[0] = (unsigned char)(plen >> 24); p[1] = (unsigned char)(plen >> 16); p[2] = (unsigned char)(plen >> 8); p[3] = (unsigned char)plen;
    p += 4;
    memcpy(p, path, plen);
    p += plen;
    memset(p, 0, 8);  // empty reserved string, reserved uint32 0
    p += 8;
    return libssh2_channel_open_ex(s, type, sizeof(type) - 1, LIBSSH2_CHANNEL_WINDOW_DEFAULT, LIBSSH2_CHANNEL_PACKET_DEFAULT,
                                   (const char *)message, (unsigned int)(p - message));
}

static inline int iceshelves_sockaddr_un(struct sockaddr_un *a, const char *path) {
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(a->sun_path)) return -1;
    strcpy(a->sun_path, path);
    return 0;
}
#endif
