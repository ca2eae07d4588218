# connect.py tcp HOST PORT | unix PATH | abstract NAME  [--route]
# Exit 0 (an escape) when the connection is made, printing what the other end sent. With --route,
# also when the kernel has a route to HOST at all (any error but "network unreachable"): a
# machine without network must not even have a route to, e.g., 169.254.169.254.
import errno, socket, sys

kind, target = sys.argv[1], sys.argv[2]
route = "--route" in sys.argv
try:
    if kind == "tcp":
        s = socket.create_connection((target, int(sys.argv[3])), timeout=5)
    elif kind == "unix":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(target)
    else:
        # Abstract names are raw bytes of any length: some servers (libuv, so Node) pad theirs
        # with NULs to the whole sun_path, so try both spellings.
        for name in ("\0" + target, ("\0" + target).ljust(108, "\0")):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            try:
                s.connect(name)
                break
            except OSError:
                if len(name) == 108:
                    raise
    print("connected:", s.recv(200).decode(errors="replace").strip())
    sys.exit(0)
except OSError as e:
    name = errno.errorcode.get(e.errno, str(e)) if e.errno else type(e).__name__
    print(f"{name}: {e}")
    sys.exit(0 if route and e.errno != errno.ENETUNREACH else 1)
