#define _GNU_SOURCE
#include <sched.h>
#include "CArrowLinux.h"

int arrow_unshare_mount_namespace(void) {
    return unshare(CLONE_NEWNS);
}
