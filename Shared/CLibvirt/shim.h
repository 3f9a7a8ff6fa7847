#ifndef ICESHELVES_CLIBVIRT_SHIM_H
#define ICESHELVES_CLIBVIRT_SHIM_H
#include <stddef.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

// libvirt's default error handler prints every error to stderr; ours drops them (the caller reads
// virGetLastError() on the same thread and turns it into a typed error).
static void iceshelves_virt_ignore_error(void *userData, virErrorPtr error) { (void)userData; (void)error; }
static inline void iceshelves_virt_install_error_handler(void) { virSetErrorFunc(NULL, iceshelves_virt_ignore_error); }
#endif
