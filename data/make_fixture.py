#!/usr/bin/env python3
"""Make the small Fashion-MNIST fixture in data/fixture/ used by the tests and
the one-minute demo: the first 3,000 training images (250 of them become the
validation split, as 5,000 of 60,000 do in the full set) and the first 500
test images, as gzipped IDX files with the standard names.

usage: python3 data/make_fixture.py [SOURCE_DIR]   (default /usr/share/datasets/fashion-mnist)
Only the Python standard library is used. The output is deterministic
(gzip mtime 0)."""
import gzip, os, struct, sys

src = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
dst = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixture")
os.makedirs(dst, exist_ok=True)

def cut(name, count):
    with gzip.open(os.path.join(src, name + ".gz")) as f:
        data = f.read()
    magic, n = struct.unpack(">II", data[:8])
    header = 16 if magic == 2051 else 8
    item = 784 if magic == 2051 else 1
    assert n >= count
    out = bytearray(data[:header])
    out[4:8] = struct.pack(">I", count)
    out += data[header:header + count * item]
    with open(os.path.join(dst, name + ".gz"), "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as g:
            g.write(bytes(out))

cut("train-images-idx3-ubyte", 3000)
cut("train-labels-idx1-ubyte", 3000)
cut("t10k-images-idx3-ubyte", 500)
cut("t10k-labels-idx1-ubyte", 500)
print("wrote", dst)
