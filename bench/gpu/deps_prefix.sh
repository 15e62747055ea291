#!/usr/bin/env bash
# Unpacks the tarball made by fetch_debs.sh into DIR and makes it usable from there:
#   bench/gpu/deps_prefix.sh DIR [TARBALL]      (TARBALL defaults to .gpu-deps/deps.tar.xz)
# writes DIR/env.sh (PKG_CONFIG_*, LD_LIBRARY_PATH, a pkg-config if the machine has none) and
# DIR/cmake-args (one -D per line) for device_check.sh, and prints what it did.
#
# Debian's .pc files say prefix=/usr; they are rewritten to DIR/usr. CMake package files of
# GoogleTest, CLI11 and nlohmann-json locate themselves relative to their own path, so they need
# nothing. HDF5 is found by FindHDF5's library search under HDF5_ROOT (its Debian layout,
# include/hdf5/serial and lib/.../hdf5/serial, is one FindHDF5 knows) and never through h5cc,
# whose flags name /usr. Runtime libraries listed in SHADOWABLE are deleted where the system
# already has the same soname: its own copy is newer and other programs of the run use it.
set -euo pipefail

dir=${1:?usage: deps_prefix.sh DIR [TARBALL]}
here=$(cd "$(dirname "$0")" && pwd)
tarball=${2:-$here/../../.gpu-deps/deps.tar.xz}
[ -f "$tarball" ] || { echo "deps_prefix: no $tarball (run bench/gpu/fetch_debs.sh here, then carry .gpu-deps)" >&2; exit 1; }

rm -rf "$dir"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if command -v xz >/dev/null; then
  tar -C "$dir" -xJf "$tarball"
else   # no xz-utils: Python's lzma (links kept, times kept)
  "${PYTHON:-python3}" - "$tarball" "$dir" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    kw = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}
    t.extractall(sys.argv[2], **kw)
PY
fi
usr="$dir/usr"
lib="$usr/lib/x86_64-linux-gnu"

# prefix = /usr, -I/usr/include, libdir=/usr/lib/... -> the same under DIR.
find "$dir" -name '*.pc' -print0 | xargs -0 sed -E -i \
  -e "s#^([a-z_]+[[:space:]]*=[[:space:]]*)/usr([/[:space:]]|\$)#\1$usr\2#" \
  -e "s#([[:space:]]-[IL])/usr/#\1$usr/#g"

dropped=()
if command -v ldconfig >/dev/null && [ -z "${SY_DEPS_KEEP_ALL:-}" ]; then   # SY_DEPS_KEEP_ALL: tests
  system=$(ldconfig -p | awk '{print $1}')
  while read -r so; do
    [ -n "$so" ] || continue
    if grep -qxF "$so" <<<"$system"; then
      target=$(readlink -f "$lib/$so" || true)
      rm -f "$lib/$so" ${target:+"$target"}
      dropped+=("$so")
    fi
  done < "$dir/SHADOWABLE"
fi
echo "deps_prefix: unpacked $(wc -l < "$dir/MANIFEST") packages into $dir; system copies used for: ${dropped[*]:-none}"

pkgconfig="$lib/pkgconfig:$usr/share/pkgconfig"
pkg_config_exe=$(command -v pkg-config || true)
if [ -z "$pkg_config_exe" ]; then
  pkg_config_exe="$usr/bin/pkgconf"
  echo "deps_prefix: the machine has no pkg-config; using Debian's pkgconf"
fi
cat > "$dir/env.sh" <<EOF
# Written by bench/gpu/deps_prefix.sh: source before configuring, building or running.
export PKG_CONFIG_PATH="$pkgconfig"
export PKG_CONFIG_LIBDIR="$pkgconfig"
export PKG_CONFIG="$pkg_config_exe"
export LD_LIBRARY_PATH="$lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export HDF5_ROOT="$usr;$lib;$usr/include"
export CMAKE_PREFIX_PATH="$usr:$lib/cmake:$usr/share/cmake\${CMAKE_PREFIX_PATH:+:\$CMAKE_PREFIX_PATH}"
EOF
# CMAKE_PREFIX_PATH (environment, above, so that -DCMAKE_PREFIX_PATH stays free for LibTorch)
# finds the CMake packages; PKG_CONFIG_EXECUTABLE the .pc files; the rpath-link lets ld resolve
# libhdf5's own dependencies (libcurl...) from DIR at link time.
cat > "$dir/cmake-args" <<EOF
-DPKG_CONFIG_EXECUTABLE=$pkg_config_exe
-DHDF5_ROOT=$usr;$lib;$usr/include
-DHDF5_NO_FIND_PACKAGE_CONFIG_FILE=ON
-DCMAKE_BUILD_RPATH=$lib
-DCMAKE_EXE_LINKER_FLAGS=-Wl,-rpath-link,$lib
-DCMAKE_SHARED_LINKER_FLAGS=-Wl,-rpath-link,$lib
EOF
