"""How much disk a container's writable layer and a volume take (``docker system df``).

Both trees are written by containers, so they are walked with directory file
descriptors, never through a symlink, and never into another filesystem. The
size is docker's: the apparent sizes of everything but directories, a file
with several hard links counted once.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

__all__ = ["tree_size"]

_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def tree_size(root: Path) -> int:
    """Bytes under ``root`` (0 when it does not exist)."""
    try:
        top = os.open(root, _OPEN_DIR)
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
            return 0
        raise
    device = os.fstat(top).st_dev
    seen: set[int] = set()
    total = 0
    stack = [top]
    try:
        while stack:
            fd = stack.pop()
            try:
                with os.scandir(fd) as entries:
                    listing = list(entries)
                for entry in listing:
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue  # removed while we looked: the container runs
                    if st.st_dev != device:
                        continue
                    if stat.S_ISDIR(st.st_mode):
                        try:
                            stack.append(os.open(entry.name, _OPEN_DIR, dir_fd=fd))
                        except OSError as e:
                            if e.errno not in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                                raise
                        continue
                    if st.st_nlink > 1:
                        if st.st_ino in seen:
                            continue
                        seen.add(st.st_ino)
                    total += st.st_size
            finally:
                os.close(fd)
    finally:
        for fd in stack:
            os.close(fd)
    return total
