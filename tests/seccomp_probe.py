"""A tiny static C program that tries the syscalls a seccomp profile decides on.

busybox cannot call keyctl, io_uring_setup, clone3 or personality with a chosen
value, so the tests compile this with gcc (static: the container has no libc
of the host) and bind-mount it in. ``probe NAME`` prints ``ok`` when the call
was let through and ``errno N`` when it was refused.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

__all__ = ["CALLS", "build_probe"]

CALLS = ("keyctl", "io_uring_setup", "personality", "personality-query", "clone3", "userns",
         "getpid")

_SOURCE = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long r = -1;
    char params[120] = {0};  /* struct io_uring_params */
    if (argc < 2) return 2;
    errno = 0;
    if (!strcmp(argv[1], "keyctl"))  /* KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING */
        r = syscall(SYS_keyctl, 0, -3, 0);
    else if (!strcmp(argv[1], "io_uring_setup"))
        r = syscall(SYS_io_uring_setup, 1, params);
    else if (!strcmp(argv[1], "personality"))  /* ADDR_NO_RANDOMIZE */
        r = syscall(SYS_personality, 0x0040000);
    else if (!strcmp(argv[1], "personality-query"))
        r = syscall(SYS_personality, 0xffffffff);
    else if (!strcmp(argv[1], "clone3"))  /* no arguments: EINVAL unless filtered */
        r = syscall(SYS_clone3, NULL, 0);
    else if (!strcmp(argv[1], "userns"))
        r = unshare(CLONE_NEWUSER);
    else if (!strcmp(argv[1], "getpid"))
        r = syscall(SYS_getpid);
    else
        return 2;
    if (r == -1)
        printf("errno %d\n", errno);
    else
        printf("ok\n");
    return 0;
}
"""


def build_probe(directory: Path) -> Path | None:
    """``directory/probe``, or None when this host has no C compiler."""
    gcc = shutil.which("gcc")
    if gcc is None:
        return None
    source = directory / "probe.c"
    source.write_text(_SOURCE)
    binary = directory / "probe"
    subprocess.run([gcc, "-static", "-O1", "-o", str(binary), str(source)], check=True)
    directory.chmod(0o755)  # non-root users in the container run it too
    binary.chmod(0o755)
    return binary
