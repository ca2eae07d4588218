# membomb.py MIB: allocates and touches MIB MiB, 16 MiB at a time, saying how far it got.
# Exit 0 (an escape) when all of it was allocated.
import sys

want = int(sys.argv[1])
held = []
for got in range(16, want + 1, 16):
    held.append(bytearray(b"\x01") * (16 << 20))
    if got % 128 == 0:
        print(f"allocated {got} MiB", flush=True)
print(f"allocated all {want} MiB", flush=True)
