#!/usr/bin/env bash
# Builds a large real NTFS image for bench/mft.bench.js: mkntfs, then N files created
# through an ntfs-3g FUSE mount in a tree of directories (1000 entries each, 3 levels
# for large N), then $MFT extracted with icat. Needs root (FUSE), mkntfs, ntfs-3g, icat.
# About 5 minutes per million files on a 2-core machine; not part of CI.
#   usage: bench/make-large-ntfs.sh OUTDIR [FILES]   (default FILES=1000000)
# Writes OUTDIR/large.ntfs (sparse) and OUTDIR/large.mft.
set -euo pipefail
out=${1:?usage: make-large-ntfs.sh OUTDIR [FILES]}
files=${2:-1000000}
mkdir -p "$out"
img="$out/large.ntfs"
mnt=$(mktemp -d)
trap 'umount "$mnt" 2>/dev/null || true; rmdir "$mnt"' EXIT
# 1 KiB MFT record per file plus directory indexes: 2 KiB per file and 512 MiB slack is ample.
size=$(( files * 2048 + 512 * 1024 * 1024 ))
rm -f "$img"
truncate -s "$size" "$img"
mkntfs -F -q -f -s 512 -c 4096 -L bench "$img" >/dev/null 2>&1
ntfs-3g -o noatime,big_writes "$img" "$mnt"
per=1000
dirs=$(( (files + per - 1) / per ))
made=0
for ((d = 0; d < dirs; d++)); do
  top=$(( d / 100 ))
  dir="$mnt/group-$top/dir-$d"
  mkdir -p "$dir"
  n=$(( files - made < per ? files - made : per ))
  # names of varied length, like a real tree
  ( cd "$dir" && seq 0 $((n - 1)) | sed 's/.*/file-&-report.txt/' | xargs touch )
  made=$(( made + n ))
done
sync
umount "$mnt"
icat "$img" 0 > "$out/large.mft"
echo "made $img with $made files; \$MFT $(stat -c %s "$out/large.mft") bytes" >&2
