#ifndef CARROWLINUX_H
#define CARROWLINUX_H

/// unshare(CLONE_NEWNS): glibc declares unshare only under _GNU_SOURCE, which Swift's Glibc module does not set.
int arrow_unshare_mount_namespace(void);

#endif
