"""Alluxio's Python REST client (PyPI alluxio 0.1.4) as two users of one proxy.

Usage: rest_users.py <proxy port> <how> <path of alice's 0600 file> <its content>
where <how> is `param` (the user in the `user` query parameter, no key pairs configured) or
`basic` (HTTP Basic credentials alice:alice-secret and bob:bob-secret).
bob must be refused every read and change of the file; alice reads it. Prints OK.
"""
import sys

import alluxio
from alluxio import exceptions, option, wire

port, how, path, content = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]


def client(user):
    c = alluxio.Client("127.0.0.1", port)
    if how == "param":
        c.session.params = {"user": user}
    else:
        c.session.auth = (user, user + "-secret")
    return c


alice, bob = client("alice"), client("bob")
refusals = {
    "read": lambda: bob.open(path, "r").__enter__().read(),
    "overwrite": lambda: bob.create_file(path, option.CreateFile()),
    "rename": lambda: bob.rename(path, path + ".moved"),
    "delete": lambda: bob.delete(path),
    "chmod": lambda: bob.set_attribute(path, option.SetAttribute(mode=wire.Mode(wire.BITS_ALL, wire.BITS_ALL, wire.BITS_ALL))),
}
for what, call in refusals.items():
    try:
        call()
        raise SystemExit("bob could %s %s" % (what, path))
    except exceptions.PermissionDeniedError as e:
        assert "bob" in str(e), str(e)
    except exceptions.AlluxioError as e:
        raise SystemExit("bob %s: expected PERMISSION_DENIED, got %r" % (what, e))

# bob cannot use a stream alice opened either.
stream = alice.open_file(path)
try:
    bob.read(stream).read()
    raise SystemExit("bob read alice's stream")
except exceptions.PermissionDeniedError:
    pass

with alice.open(path, "r") as f:
    got = f.read().decode()
assert got == content, got
assert alice.get_status(path).mode == 0o600
print("OK")
