# syscall.py NAME: makes one system call the machine's seccomp filter must refuse, with arguments
# that let it succeed where nothing else stops it. Exit 0 (an escape) when it succeeds.
import ctypes, errno, os, sys

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
KEY_SPEC_SESSION_KEYRING = -3


class PerfAttr(ctypes.Structure):
    _fields_ = [("type", ctypes.c_uint32), ("size", ctypes.c_uint32), ("config", ctypes.c_uint64), ("pad", ctypes.c_uint8 * 112)]


def perf():
    a = PerfAttr(type=1, size=ctypes.sizeof(PerfAttr), config=0)  # PERF_TYPE_SOFTWARE, CPU clock
    a.pad[32] = 0x60  # exclude_kernel | exclude_hv (byte of the flags word)
    return libc.syscall(298, ctypes.byref(a), 0, -1, -1, 0)


b = lambda s: ctypes.c_char_p(s.encode())
calls = {
    "add_key": lambda: libc.syscall(248, b("user"), b("airlock-escape"), b("x"), 1, KEY_SPEC_SESSION_KEYRING),
    "keyctl": lambda: libc.syscall(250, 1, None),  # KEYCTL_JOIN_SESSION_KEYRING, new anonymous keyring
    "request_key": lambda: libc.syscall(249, b("user"), b("airlock-escape"), None, KEY_SPEC_SESSION_KEYRING),
    "bpf": lambda: libc.syscall(321, 0, None, 0),
    "perf_event_open": perf,
    "init_module": lambda: libc.syscall(175, None, 0, b("")),
    "finit_module": lambda: libc.syscall(313, os.open("/dev/null", os.O_RDONLY), b(""), 0),
    "delete_module": lambda: libc.syscall(176, b("loop"), 0),
    "mount": lambda: libc.syscall(165, b("none"), b("/tmp"), b("tmpfs"), 0, None),
    "umount2": lambda: libc.syscall(166, b("/tmp"), 2),
    "pivot_root": lambda: libc.syscall(155, b("/tmp"), b("/tmp")),
    "kexec_load": lambda: libc.syscall(246, 0, 0, None, 0),
    "kexec_file_load": lambda: libc.syscall(320, -1, -1, 0, b(""), 2),
    "reboot": lambda: libc.syscall(169, 0xFEE1DEAD, 672274793, 0, None),  # LINUX_REBOOT_CMD_CAD_OFF: harmless
    "remount-root-rw": lambda: libc.syscall(165, None, b("/"), None, 32, None),  # MS_REMOUNT
    "remount-shm-bigger": lambda: libc.syscall(165, b("tmpfs"), b("/dev/shm"), b("tmpfs"), 32, b("size=8g")),
    "remount-tmp-bigger": lambda: libc.syscall(165, b("tmpfs"), b("/tmp"), b("tmpfs"), 32, b("size=8g")),
    "swapon": lambda: libc.syscall(167, b("/tmp/swap"), 0),
    "swapoff": lambda: libc.syscall(168, b("/tmp/swap")),
    "settimeofday": lambda: libc.syscall(164, None, None),
    "clock_settime": lambda: libc.syscall(227, 0, None),
    "clock_adjtime": lambda: libc.syscall(305, 0, None),
    "unshare-user": lambda: libc.syscall(272, 0x10000000),  # CLONE_NEWUSER
    "setns": lambda: libc.syscall(308, os.open("/proc/self/ns/user", os.O_RDONLY), 0),
    "ptrace-attach-agent": lambda: libc.syscall(101, 16, int(os.environ["AGENT_PID"]), None, None),
    "open_by_handle_at": lambda: libc.syscall(304, -100, None, 0),
}
name = sys.argv[1]
r = calls[name]()
e = ctypes.get_errno()
if r < 0:
    print(f"{name}: {errno.errorcode.get(e, e)} ({os.strerror(e)})")
    sys.exit(1)
print(f"{name}: returned {r}")
sys.exit(0)
