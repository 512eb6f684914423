#!/usr/bin/env bash
# Builds the NTFS image of bench/ntfs-read.bench.js with real tools (mkntfs + an
# ntfs-3g FUSE mount; needs root): a 1 GiB contiguous file, a 12 MiB file written
# into single-cluster holes (about 3,000 runs) and a contiguous file of the same size, a
# 10,000-file tree, and 64 MiB of compressible text in a directory marked compressed
# (LZNT1; 4 KiB clusters). About a minute on a 2-core machine; not part of CI.
#   usage: bench/make-ntfs-read-image.sh OUTDIR   → OUTDIR/read-bench.ntfs (sparse)
set -euo pipefail
out=${1:?usage: make-ntfs-read-image.sh OUTDIR}
mkdir -p "$out"
img="$out/read-bench.ntfs"
mnt=$(mktemp -d)
trap 'umount "$mnt" 2>/dev/null || true; rmdir "$mnt"' EXIT
rm -f "$img"
truncate -s 1600M "$img"
mkntfs -F -q -f -s 512 -c 4096 -L readbench "$img" >/dev/null 2>&1
ntfs-3g -o big_writes "$img" "$mnt"
head -c $((1024 * 1024 * 1024)) /dev/urandom > "$mnt/big.bin"
python3 - "$mnt" <<'PY'
import errno, os, sys
m = sys.argv[1]
block = os.urandom(4096)
with open(f"{m}/contiguous.bin", "wb") as f:
    f.write(block * 3000)
# fragmented.bin is written when free space is scarce and scattered: 7,000 one-cluster
# files, a ballast file filling the volume, every other small file removed; then the
# ballast and the small files go. (What ntfs-3g makes of it, checked on the image of
# 2026-12-06: 2,312 runs of mostly 1-5 clusters, about 16 MiB apart, not one-cluster
# holes side by side; so no two runs lie close enough to share a read.)
os.mkdir(f"{m}/holes")
for i in range(7000):
    with open(f"{m}/holes/h{i}", "wb") as f:
        f.write(block)
with open(f"{m}/ballast", "wb", buffering=0) as f:
    for size in (1 << 20, 4096):
        try:
            while True:
                f.write(bytes(size))
        except OSError as e:
            if e.errno != errno.ENOSPC:
                raise
for i in range(1, 7000, 2):
    os.unlink(f"{m}/holes/h{i}")
with open(f"{m}/fragmented.bin", "wb") as f:
    f.write(block * 3000)
os.unlink(f"{m}/ballast")
for i in range(0, 7000, 2):
    os.unlink(f"{m}/holes/h{i}")
PY
mkdir -p "$mnt/tree"
python3 - "$mnt/tree" <<'PY'
import os, sys, random
random.seed(10000)
root = sys.argv[1]
for d in range(100):
    sub = os.path.join(root, f"dir-{d:03}")
    os.mkdir(sub)
    for f in range(100):
        with open(os.path.join(sub, f"file-{f:03}.dat"), "wb") as out:
            out.write(os.urandom(random.randint(100, 16000)))
PY
mkdir -p "$mnt/compressed"
setfattr -n system.ntfs_attrib_be -v 0x00000800 "$mnt/compressed"
# seq dies of SIGPIPE once head has its 64 MiB: under pipefail that is not a failure
{ seq 1 20000000 || true; } | head -c $((64 * 1024 * 1024)) > "$mnt/compressed/text.txt"
sync
umount "$mnt"
echo "made $img" >&2
