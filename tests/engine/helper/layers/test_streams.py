"""The layer unpacker's input, as root: pipes, gzip and zstd streams of one or many
members, empty, truncated and randomly damaged tars, corrupt blobs, digests that do not
match, and unpacks of one layer racing each other."""

from __future__ import annotations

import gzip
import io
import itertools
import os
import random
import stat
import subprocess
import tarfile
import threading
from pathlib import Path

import pytest
import zstandard

from engine.errors import DigestMismatch, LayerError, SkiffError
from engine.helper.layers import has_layer, layer_path, unpack_layer
from engine.helper.layersource import BlobSource, Budget, UnpackLimits
from tests.engine.helper.layers.test_layers import base_layer, temp_leftovers, top_layer
from tests.layer_corpus import compress, digest, dir_, file, tar_bytes

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="unpacking layers needs root (mknod, chown)"),
]


def test_unpacks_from_a_pipe(layers: Path) -> None:
    tar = tar_bytes([file("big", os.urandom(3 << 20)), file("small", b"s")])
    blob = compress(tar, "gzip")
    read_fd, write_fd = os.pipe()

    def write() -> None:
        with os.fdopen(write_fd, "wb") as out:
            out.write(blob)

    writer = threading.Thread(target=write)
    writer.start()
    with os.fdopen(read_fd, "rb", buffering=0) as source:
        size = unpack_layer(source, layers, diff_id=digest(tar), digest=digest(blob))
    writer.join()
    assert size == (3 << 20) + 1


def test_a_refused_entry_ends_the_unpack_while_the_pipe_is_still_open(layers: Path) -> None:
    """The blob is read on a thread of its own: a refusal by the thread that writes the
    files stops it, even in a wait on a pipe that stays silent (never for its stall)."""
    tar = tar_bytes([file("/abs/path", b"x"), file("big", os.urandom(1 << 20))])
    read_fd, write_fd = os.pipe()
    os.write(write_fd, tar[:4096])  # the first entry; the writer then stays silent
    budget = Budget(UnpackLimits(stall_seconds=3600), "test")
    source = BlobSource(read_fd, budget, 0)
    try:
        with pytest.raises(LayerError, match="absolute path"):
            unpack_layer(source, layers, diff_id=digest(tar), budget=budget)
    finally:
        source.close()
        os.close(write_fd)
    assert temp_leftovers(layers) == []


def test_existing_layer_drains_the_pipe_and_keeps_the_copy(layers: Path) -> None:
    tar = tar_bytes([file("data", os.urandom(1 << 20))])
    diff_id = digest(tar)
    size = unpack_layer(io.BytesIO(tar), layers, diff_id=diff_id)
    marker = layer_path(layers, diff_id) / "data"
    inode = os.lstat(marker).st_ino
    read_fd, write_fd = os.pipe()

    def write() -> None:
        with os.fdopen(write_fd, "wb") as out:
            out.write(tar)

    writer = threading.Thread(target=write)
    writer.start()
    with os.fdopen(read_fd, "rb", buffering=0) as source:
        assert unpack_layer(source, layers, diff_id=diff_id) == size
        writer.join()
        assert source.read() == b""  # everything was read: the writer was not left blocked
    assert os.lstat(marker).st_ino == inode


@pytest.mark.parametrize("how", ["gzip", "zstd"])
def test_multi_member_streams(layers: Path, how: str) -> None:
    tar = tar_bytes([file(f"f{i}", os.urandom(5000)) for i in range(20)])
    cut = 30_000
    if how == "gzip":
        blob = gzip.compress(tar[:cut]) + gzip.compress(tar[cut:])
    else:
        zc = zstandard.ZstdCompressor()
        blob = zc.compress(tar[:cut]) + zc.compress(tar[cut:])
    assert unpack_layer(io.BytesIO(blob), layers, diff_id=digest(tar)) == 20 * 5000


def test_gzip_members_that_end_inside_what_zlib_is_given(layers: Path) -> None:
    # Members of odd sizes around zlib's 64 KiB input pieces and the 1 MiB reads,
    # some incompressible (stored blocks), some text: every boundary lands somewhere new.
    files = [file(f"f{i}", os.urandom(70_001) if i % 2 else b"text " * 30_011)
             for i in range(24)]
    tar = tar_bytes(files)
    cuts = [*range(0, len(tar), 99_991), len(tar)]
    blob = b"".join(gzip.compress(tar[a:b]) for a, b in itertools.pairwise(cuts))
    size = unpack_layer(io.BytesIO(blob), layers, diff_id=digest(tar), digest=digest(blob))
    assert size == sum(info.size for info, _ in files)


@pytest.mark.parametrize("blob", [b"", b"\0" * 1024], ids=["zero-bytes", "end-blocks"])
def test_empty_layers(layers: Path, blob: bytes) -> None:
    diff_id = digest(blob)
    assert unpack_layer(io.BytesIO(blob), layers, diff_id=diff_id) == 0
    root = layer_path(layers, diff_id)
    assert os.listdir(root) == []
    assert stat.S_IMODE(os.lstat(root).st_mode) == 0o755


@pytest.mark.parametrize("how", ["plain", "gzip", "zstd"])
def test_digest_mismatch_leaves_nothing(layers: Path, how: str) -> None:
    tar = tar_bytes([dir_("etc"), file("etc/passwd", b"x")])
    blob = compress(tar, how)
    wrong = "sha256:" + "0" * 64
    with pytest.raises(DigestMismatch, match="does not match its digest"):
        unpack_layer(io.BytesIO(blob), layers, diff_id=digest(tar), digest=wrong)
    with pytest.raises(DigestMismatch, match="diff_id"):
        unpack_layer(io.BytesIO(blob), layers, diff_id=wrong, digest=digest(blob))
    with pytest.raises(DigestMismatch, match="diff_id"):  # a pull's stream: no blob digest
        unpack_layer(io.BytesIO(blob), layers, diff_id=wrong)
    assert not has_layer(layers, digest(tar)) and not has_layer(layers, wrong)
    assert os.listdir(layers / "sha256") == []
    assert temp_leftovers(layers) == []


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (gzip.compress(tar_bytes([file("f", os.urandom(100_000))]))[:-2000], "gzip"),
        (gzip.compress(tar_bytes([file("f", b"x")])) + b"junk", "gzip"),
        (os.urandom(4096), "not a valid tar"),
        (b"\xfd7zXZ\x00" + bytes(100), "xz or bzip2"),
        (tar_bytes([file("f", b"x" * 4096)])[:1024], "tar"),
    ],
    ids=["truncated-gzip", "gzip-trailing-junk", "garbage", "xz", "truncated-tar"],
)
def test_corrupt_blobs_are_refused(layers: Path, blob: bytes, message: str) -> None:
    with pytest.raises(LayerError, match=message):
        unpack_layer(io.BytesIO(blob), layers, diff_id="sha256:" + "1" * 64)
    assert os.listdir(layers / "sha256") == []
    assert temp_leftovers(layers) == []


@pytest.mark.parametrize("how", ["gnu", "posix"])
def test_sparse_members_unpack_whole(layers: Path, tmp_path: Path, how: str) -> None:
    """GNU tar's sparse files (old GNU headers, PAX 1.0): holes and data come back whole."""
    holey = tmp_path / "holey"
    with holey.open("wb") as out:
        out.truncate(5 << 20)
        out.seek(3_000_000)
        out.write(b"data in the middle")
        out.seek(0, os.SEEK_END)
        out.write(b"the end")
    archive = tmp_path / "sparse.tar"
    subprocess.run(["tar", "--sparse", f"--format={how}", "-cf", str(archive), "-C",
                    str(tmp_path), "holey"], check=True)
    tar = archive.read_bytes()
    size = unpack_layer(io.BytesIO(tar), layers, diff_id=digest(tar))
    assert (layer_path(layers, digest(tar)) / "holey").read_bytes() == holey.read_bytes()
    assert size == holey.stat().st_size


def _ends(tar: bytes) -> tuple[list[tarfile.TarInfo], int]:
    """The tar's entries and where the data of its last one ends, unpadded."""
    with tarfile.open(fileobj=io.BytesIO(tar)) as opened:
        entries = opened.getmembers()
    last = entries[-1]
    return entries, last.offset_data + last.size


@pytest.mark.parametrize("how", ["plain", "gzip", "zstd"])
def test_a_tar_without_final_padding_and_end_blocks_unpacks(layers: Path, how: str) -> None:
    """What Debian's umoci insert writes, and Go's reader (so docker) accepts."""
    tar = tar_bytes([dir_("etc"), file("etc/app.conf", b"x" * 700), file("hello.txt", b"hi\n")])
    _, end = _ends(tar)
    assert end % 512 and len(tar) > end + 1024  # a real end: padding and zero blocks
    bare = tar[:end]
    blob = compress(bare, how)
    assert unpack_layer(io.BytesIO(blob), layers, diff_id=digest(bare),
                        digest=digest(blob)) == 703
    root = layer_path(layers, digest(bare))
    assert (root / "hello.txt").read_bytes() == b"hi\n"
    assert (root / "etc" / "app.conf").read_bytes() == b"x" * 700


def test_every_truly_truncated_tar_is_still_refused(layers: Path) -> None:
    """Cut at every byte: only where Go's reader (and so docker) sees an end is it one.

    Those ends are where an entry's header would start, right after an entry's data
    (its padding missing), and after the zero blocks of the end-of-archive; a cut
    inside a header (a PAX one too), inside data or inside padding is refused.
    """
    tar = tar_bytes([dir_("d"), file("d/" + "long" * 40, b"a" * 600), file("f", b"b" * 30),
                     file("empty")])
    entries, last_end = _ends(tar)
    boundaries = {entry.offset for entry in entries}  # a PAX header's start, if any
    data_ends = {entry.offset_data + entry.size for entry in entries if entry.size}
    padded_end = last_end + (-last_end % 512)
    # After a whole zero block nothing more is read: the second one may be cut short.
    ends = boundaries | data_ends | {0, padded_end, *range(padded_end + 512, padded_end + 1025)}
    assert any(entry.offset_data - entry.offset > 512 for entry in entries)  # a PAX header
    # Every seventh byte, and each side of every place where the tar may end.
    cuts = {*range(0, padded_end + 1025, 7), *(e + d for e in ends for d in (-1, 1))}
    accepted = []
    for cut in sorted(c for c in cuts if 0 <= c <= padded_end + 1024):
        blob = tar[:cut]
        try:
            unpack_layer(io.BytesIO(blob), layers, diff_id=digest(blob))
        except LayerError as e:
            assert cut not in ends, f"cut at {cut}: {e}"
            assert "not a valid tar" in str(e)
            continue
        accepted.append(cut)
    assert set(accepted) == ends & cuts
    assert temp_leftovers(layers) == []


def test_damaged_tars_give_clear_errors(layers: Path) -> None:
    """Random damage to a valid tar: unpacked, or refused with our error; never a crash."""
    tar = tar_bytes(base_layer() + top_layer())
    rng = random.Random(7)
    refused = 0
    for _ in range(150):
        damaged = bytearray(tar)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        blob = bytes(damaged[: rng.randrange(len(damaged))] if rng.random() < 0.2 else damaged)
        try:
            unpack_layer(io.BytesIO(blob), layers, diff_id=digest(blob))
        except SkiffError:
            refused += 1
    assert refused > 0
    assert temp_leftovers(layers) == []


def test_losing_a_rename_race_keeps_the_winner(layers: Path) -> None:
    tar = tar_bytes([file("f", b"payload")])
    diff_id = digest(tar)

    winner: list[int] = []

    class RacingSource(io.BytesIO):
        """Lets a second unpack of the same layer finish while the first is reading."""

        def read(self, size: int | None = -1, /) -> bytes:
            if not winner:
                unpack_layer(io.BytesIO(tar), layers, diff_id=diff_id)
                winner.append(os.lstat(layer_path(layers, diff_id) / "f").st_ino)
            return super().read(size)

    assert unpack_layer(RacingSource(tar), layers, diff_id=diff_id) == len(b"payload")
    assert os.lstat(layer_path(layers, diff_id) / "f").st_ino == winner[0]
    assert (layer_path(layers, diff_id) / "f").read_bytes() == b"payload"
    assert temp_leftovers(layers) == []


def test_concurrent_unpacks_of_one_layer(layers: Path) -> None:
    tar = tar_bytes([file(f"f{i}", os.urandom(20_000)) for i in range(50)])
    blob = compress(tar, "gzip")
    results: list[int | BaseException] = []

    def run() -> None:
        try:
            results.append(unpack_layer(io.BytesIO(blob), layers, diff_id=digest(tar)))
        except BaseException as e:
            results.append(e)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [50 * 20_000] * 6
    assert len(os.listdir(layer_path(layers, digest(tar)))) == 50
    assert temp_leftovers(layers) == []


