"""The content-addressed blob store: ingest, verification, resumable downloads."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
from pathlib import Path

import pytest

from engine.errors import Conflict, DigestMismatch, InvalidArgument, NotFound
from engine.images.blobs import BlobStore


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path)


def _temporaries(store: BlobStore) -> list[str]:
    return os.listdir(os.path.join(store.root, "tmp"))


def test_put_bytes_stores_by_digest(store: BlobStore, tmp_path: Path) -> None:
    data = b"hello blob\n"
    digest = store.put_bytes(data)
    assert digest == _digest(data)
    assert store.path(digest) == str(tmp_path / "blobs" / "sha256" / digest.removeprefix("sha256:"))
    assert store.has(digest)
    assert store.size(digest) == len(data)
    assert store.read_bytes(digest) == data
    with store.open(digest) as stream:
        assert stream.read() == data
    assert list(store.digests()) == [digest]
    assert store.put_bytes(data, expected=digest) == digest


def test_ingest_streams_and_verifies(store: BlobStore) -> None:
    data = os.urandom(3 * (1 << 20) + 17)
    digest = store.ingest(io.BytesIO(data), expected=_digest(data), size=len(data))
    assert store.read_bytes(digest) == data
    assert store.ingest_new(io.BytesIO(data)) == (digest, False)
    assert store.ingest_new(io.BytesIO(b"new"))[1] is True


def test_ingest_refuses_wrong_digest_and_keeps_nothing(store: BlobStore) -> None:
    data = b"the real content"
    wrong = _digest(b"something else")
    with pytest.raises(DigestMismatch, match=wrong):
        store.ingest(io.BytesIO(data), expected=wrong)
    with pytest.raises(DigestMismatch):
        store.put_bytes(data, expected=wrong)
    assert not store.has(wrong)
    assert not store.has(_digest(data))
    assert _temporaries(store) == []


def test_ingest_refuses_wrong_size(store: BlobStore) -> None:
    data = b"twelve bytes"
    with pytest.raises(DigestMismatch, match="12 bytes, expected 13"):
        store.ingest(io.BytesIO(data), expected=_digest(data), size=13)
    assert not store.has(_digest(data))


@pytest.mark.parametrize("bad", ["", "sha256:", "sha256:abc", "sha512:" + "a" * 64,
                                 "sha256:" + "A" * 64, "sha256:../" + "a" * 61,
                                 "a" * 64])
def test_malformed_digests_are_invalid_arguments(store: BlobStore, bad: str) -> None:
    with pytest.raises(InvalidArgument, match="invalid digest"):
        store.has(bad)
    with pytest.raises(InvalidArgument):
        store.ingest(io.BytesIO(b"x"), expected=bad)


def test_missing_blob_is_not_found(store: BlobStore) -> None:
    digest = _digest(b"never stored")
    assert not store.has(digest)
    with pytest.raises(NotFound, match=digest):
        store.open(digest)
    with pytest.raises(NotFound, match=digest):
        store.size(digest)


def test_remove(store: BlobStore) -> None:
    digest = store.put_bytes(b"bye")
    store.remove(digest)
    assert not store.has(digest)
    store.remove(digest)  # removing twice is fine
    assert list(store.digests()) == []


def test_partial_blob_resumes_across_reopen(store: BlobStore) -> None:
    data = os.urandom(1 << 20)
    digest = _digest(data)
    with store.partial(digest) as partial:
        assert partial.offset == 0
        partial.write(data[:1000])
        partial.write(data[1000:300_000])
    assert not store.has(digest)

    reopened = store.partial(digest)
    assert reopened.offset == 300_000
    reopened.write(data[300_000:])
    reopened.commit(size=len(data))
    assert store.read_bytes(digest) == data
    assert not os.path.exists(reopened.path)


def test_partial_blob_with_wrong_content_is_discarded(store: BlobStore) -> None:
    digest = _digest(b"expected content")
    partial = store.partial(digest)
    partial.write(b"something else")
    with pytest.raises(DigestMismatch, match=digest):
        partial.commit()
    assert not os.path.exists(partial.path)
    assert not store.has(digest)
    assert store.partial(digest).offset == 0


def test_partial_blob_discard(store: BlobStore) -> None:
    digest = _digest(b"abc")
    partial = store.partial(digest)
    partial.write(b"ab")
    partial.discard()
    assert not os.path.exists(partial.path)
    with pytest.raises(InvalidArgument, match="closed"):
        partial.write(b"c")


def test_partial_blob_has_one_writer(store: BlobStore) -> None:
    digest = _digest(b"abc")
    with store.partial(digest), pytest.raises(Conflict, match="already being downloaded"):
        store.partial(digest)
    with store.partial(digest) as again:
        again.write(b"abc")
        again.commit()
    assert store.has(digest)


def test_concurrent_ingest_of_the_same_blob(store: BlobStore) -> None:
    data = os.urandom(4 << 20)
    digest = _digest(data)
    results: list[str] = []
    errors: list[BaseException] = []
    seen: list[bytes] = []
    start = threading.Barrier(9)

    def writer() -> None:
        start.wait()
        try:
            results.append(store.ingest(io.BytesIO(data), expected=digest))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    def reader() -> None:
        # Whatever moment a reader opens the blob, it sees all of it or nothing.
        start.wait()
        for _ in range(200):
            try:
                seen.append(store.read_bytes(digest))
            except NotFound:
                pass

    threads = [threading.Thread(target=writer) for _ in range(8)]
    threads.append(threading.Thread(target=reader))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results == [digest] * 8
    assert all(content == data for content in seen)
    assert store.read_bytes(digest) == data
    assert _temporaries(store) == []


def test_stale_temporaries_are_cleaned_on_open(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    stale = Path(store.root, "tmp", "ingest-dead")
    fresh = Path(store.root, "tmp", "ingest-busy")
    stale.write_bytes(b"left by a crash")
    fresh.write_bytes(b"being written")
    old = time.time() - 3 * 24 * 3600
    os.utime(stale, (old, old))
    BlobStore(tmp_path)
    assert not stale.exists()
    assert fresh.exists()
