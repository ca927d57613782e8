"""Alluxio's own Python REST client (PyPI alluxio 0.1.4) against our proxy.

Usage: rest_client.py <proxy port> <a local directory to mount>.
Prints OK and exits 0 when every check passed.
"""
import os
import sys

import alluxio
from alluxio import exceptions, option, wire

c = alluxio.Client("127.0.0.1", int(sys.argv[1]))

c.create_directory("/py/d", option.CreateDirectory(recursive=True, write_type=wire.WRITE_TYPE_CACHE_THROUGH))
c.create_directory("/py/d", option.CreateDirectory(allow_exists=True))
try:
    c.create_directory("/py/d")
    raise SystemExit("creating an existing directory succeeded")
except exceptions.AlreadyExistsError:
    pass

data = os.urandom(10 << 20)
with c.open("/py/d/f", "w", option.CreateFile(write_type=wire.WRITE_TYPE_CACHE_THROUGH, block_size_bytes=4 << 20)) as f:
    for i in range(0, len(data), 3 << 20):
        f.write(data[i : i + (3 << 20)])
with c.open("/py/d/f", "r") as f:
    got = f.read()
assert got == data, "read-back differs: %d bytes instead of %d" % (len(got), len(data))

st = c.get_status("/py/d/f")
assert st.length == len(data) and st.name == "f" and st.path == "/py/d/f" and not st.folder, vars(st)
assert st.persisted and st.completed and st.block_size_bytes == 4 << 20, vars(st)
assert c.ls("/py/d") == ["f"], c.ls("/py/d")
assert [s.name for s in c.list_status("/py")] == ["d"]
assert c.exists("/py/d/f") and not c.exists("/py/nope")

c.free("/py/d", option.Free(recursive=True))
c.rename("/py/d/f", "/py/d/g")
assert c.ls("/py/d") == ["g"]
c.set_attribute("/py/d/g", option.SetAttribute(pinned=True, mode=wire.Mode(owner_bits=wire.BITS_ALL, group_bits=wire.BITS_READ, other_bits=wire.BITS_NONE)))
st = c.get_status("/py/d/g")
assert st.pinned and st.mode == 0o740, vars(st)

for call, exc in [
    (lambda: c.get_status("/py/missing"), exceptions.NotFoundError),
    (lambda: c.open("/py/missing", "r").__enter__(), exceptions.NotFoundError),
    (lambda: c.rename("/py/missing", "/py/x"), exceptions.NotFoundError),
    (lambda: c.delete("/py"), exceptions.AlluxioError),
]:
    try:
        call()
        raise SystemExit("expected %s" % exc.__name__)
    except exc:
        pass
assert c.exists("/py/d/g"), "a failed delete removed something"

# Mounts: a local directory with a file in it, read-only; then unmounted.
with open(os.path.join(sys.argv[2], "outside.txt"), "wb") as f:
    f.write(b"from the ufs")
c.mount("/py/mnt", "file://" + sys.argv[2], option.Mount(read_only=True, properties={"k": "v"}))
assert c.ls("/py/mnt") == ["outside.txt"], c.ls("/py/mnt")
assert c.get_status("/py/mnt").mount_point
with c.open("/py/mnt/outside.txt", "r") as f:
    assert f.read() == b"from the ufs"
try:
    c.create_directory("/py/mnt/new", option.CreateDirectory(write_type=wire.WRITE_TYPE_CACHE_THROUGH))
    raise SystemExit("wrote into a read-only mount")
except exceptions.PermissionDeniedError:
    pass
c.unmount("/py/mnt")
assert not c.exists("/py/mnt")
assert os.path.exists(os.path.join(sys.argv[2], "outside.txt")), "unmount touched the UFS"

c.delete("/py", option.Delete(recursive=True))
assert not c.exists("/py")
print("OK")
