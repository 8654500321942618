"""engine.safeio: the bounded readers every loader goes through."""
from __future__ import annotations

import gzip
import io
import os
import zipfile

import numpy as np
import pytest

from engine.safeio import (MAX_INT_DIGITS, check_tree, gunzip_capped, gzip_prefix, parse_json,
                           read_capped, read_npz)


class Bad(ValueError):
    pass


def _npz_with_header(path, header: dict, body: bytes, compress=zipfile.ZIP_STORED):
    hdr = io.BytesIO()
    np.lib.format.write_array_header_1_0(hdr, header)
    with zipfile.ZipFile(path, "w", compression=compress) as z:
        z.writestr("x.npy", hdr.getvalue() + body)
    return path


def test_read_npz_round_trips_numpy_savez(tmp_path):
    arrays = {"x": np.arange(12.0).reshape(3, 4), "y": np.array([1, 2, 3]),
              "names": np.array(["cat", "dog"]), "f": np.asfortranarray(np.arange(6).reshape(2, 3))}
    np.savez_compressed(tmp_path / "a.npz", **arrays)
    got = read_npz(tmp_path / "a.npz", Bad, max_bytes=1 << 20)
    assert sorted(got) == sorted(arrays)
    for k, v in arrays.items():
        assert got[k].dtype == v.dtype and np.array_equal(got[k], v)
        assert got[k].flags.writeable


def test_read_npz_refuses_a_header_declaring_more_than_it_holds(tmp_path):
    p = _npz_with_header(tmp_path / "b.npz", {"descr": "<f8", "fortran_order": False, "shape": (10**12,)},
                         b"\0" * 100)
    with pytest.raises(Bad, match=r"b\.npz: array x declares shape \(1000000000000,\).*holds 100 bytes"):
        read_npz(p, Bad, max_bytes=1 << 40)


def test_read_npz_refuses_a_decompression_bomb_before_inflating_it(tmp_path):
    buf = io.BytesIO()
    np.save(buf, np.zeros(100_000_000, np.uint8))
    with zipfile.ZipFile(tmp_path / "c.npz", "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("x.npy", buf.getvalue())
    assert os.path.getsize(tmp_path / "c.npz") < 200_000
    with pytest.raises(Bad, match="decompression bomb"):
        read_npz(tmp_path / "c.npz", Bad, max_bytes=1 << 30)


def test_read_npz_caps_the_total_and_refuses_objects_and_npy(tmp_path):
    np.savez(tmp_path / "big.npz", x=np.zeros(1000))
    with pytest.raises(Bad, match="more than the"):
        read_npz(tmp_path / "big.npz", Bad, max_bytes=1000)
    p = _npz_with_header(tmp_path / "o.npz", {"descr": "|O", "fortran_order": False, "shape": (1,)}, b"\0" * 8)
    with pytest.raises(Bad, match="Python objects"):
        read_npz(p, Bad, max_bytes=1 << 20)
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(Bad, match=r"one\.npy: a \.npy file"):
        read_npz(tmp_path / "one.npy", Bad, max_bytes=1 << 20)
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(Bad, match="junk.npz: corrupt"):
        read_npz(tmp_path / "junk.npz", Bad, max_bytes=1 << 20)


def test_gunzip_stops_a_bomb_at_the_cap_and_refuses_truncation():
    g = gzip.compress(b"\0" * 20_000_000)
    with pytest.raises(Bad, match="more than 1,000,000 bytes"):
        gunzip_capped(g, 1_000_000, "g.gz", Bad)
    assert gunzip_capped(g, 20_000_000, "g.gz", Bad) == b"\0" * 20_000_000
    assert gunzip_capped(gzip.compress(b"ab") + gzip.compress(b"cd"), 10, "g", Bad) == b"abcd"
    assert gzip_prefix(gzip.compress(b"hello world"), 5, "g", Bad) == b"hello"
    with pytest.raises(Bad, match="g.gz: truncated"):
        gunzip_capped(g[:200], 10**9, "g.gz", Bad)
    with pytest.raises(Bad, match="g.gz: corrupt"):
        gunzip_capped(b"\x1f\x8b\x08\x00garbage-garbage", 10**9, "g.gz", Bad)


@pytest.mark.parametrize("text, message", [
    ('{"a": NaN}', r"f\.json: a is NaN"),
    ('{"a": {"b": [1, -Infinity]}}', r"a\.b\[1\] is infinite"),
    ('{"lr": 1e999}', r"lr is infinite"),
    ("[" * 100_000 + "]" * 100_000, "nested more than"),
    ('{"seed": ' + "9" * 5000 + "}", f"integer of 5000 digits \\(at most {MAX_INT_DIGITS}\\)"),
    ('{"a": [1, 2', "not valid JSON"),
])
def test_parse_json_refuses_what_no_setting_can_be(text, message):
    with pytest.raises(Bad, match=message):
        parse_json(text, "f.json", Bad)


def test_parse_json_depth_is_counted_in_the_tree():
    assert parse_json('{"a": [[1]]}', "s", Bad) == {"a": [[1]]}
    with pytest.raises(Bad, match=r"nested more than 2 levels deep \(at a\[0\]\)"):
        check_tree({"a": [[1]]}, "s", Bad, max_depth=2)


def test_read_capped_refuses_devices_fifos_folders_and_large_files(tmp_path):
    (tmp_path / "f").write_bytes(b"x" * 101)
    with pytest.raises(Bad, match="too large"):
        read_capped(tmp_path / "f", 100, Bad)
    assert read_capped(tmp_path / "f", 101, Bad) == b"x" * 101
    with pytest.raises(Bad, match="not a regular file"):
        read_capped("/dev/zero", 100, Bad)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(Bad, match="pipe: not a regular file"):
        read_capped(fifo, 100, Bad)
    with pytest.raises(Bad, match="is a folder"):
        read_capped(tmp_path, 100, Bad)
    with pytest.raises(Bad, match="no such file"):
        read_capped(tmp_path / "missing", 100, Bad)
