#!/usr/bin/env bash
# Prepares the build dependencies the GPU machine lacks (it has CUDA, PyTorch and a compiler, but
# no HDF5, ICU, PCRE2, GoogleTest, CLI11 or nlohmann-json headers, and reaches no registry) as one
# tarball of Debian 12 packages, unpacked and pruned, for `run`'s carry:
#
#   bench/gpu/fetch_debs.sh            # writes .gpu-deps/deps.tar.xz and .gpu-deps/MANIFEST
#
# The tarball holds a Debian file tree (usr/include, usr/lib/x86_64-linux-gnu, usr/share/cmake...)
# with /usr still written in its .pc files; device_check.sh unpacks it and points the .pc files
# at wherever it landed (relocate in bench/gpu/deps_prefix.sh). Runtime libraries the packages
# pull in (libcurl for HDF5 and its own closure) travel too; on the device only those the system
# lacks are kept, so the machine's newer copies win where it has them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:-$repo/.gpu-deps}
work=${SY_DEPS_WORK:-$repo/build-gpu-deps}   # debs and the unpacked tree; not carried

# What the build finds with find_package / pkg_check_modules (CMakeLists.txt, tests/), plus
# pkg-config itself in case the machine has none. Runtime libraries are added by closure below.
roots=(
  libhdf5-dev libhdf5-103-1
  libicu-dev libicu72
  libpcre2-dev libpcre2-8-0
  libgtest-dev libgmock-dev
  libcli11-dev nlohmann-json3-dev
  pkgconf pkgconf-bin libpkgconf3
)
# Never carried: every Linux with a C++ compiler has these, and a second copy would shadow it.
base='^(libc6|libgcc-s1|libstdc\+\+6|zlib1g|libcrypt1|debconf|dpkg|perl-base|libselinux1|libpcre3|gcc-12-base)$'

# libhdf5-103-1's runtime closure (Depends only): libcurl4, libsz2 and what they need.
closure() {
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances libhdf5-103-1 libicu72 libpcre2-8-0 libpkgconf3 \
    | grep -E '^[a-z0-9]' | grep -vE '^<' | sort -u
}

mkdir -p "$work/debs" "$out"
mapfile -t runtime < <(closure | grep -E '^lib' | grep -vE "$base")
mapfile -t wanted < <(printf '%s\n' "${roots[@]}" "${runtime[@]}" | sort -u)
echo "fetch_debs: ${#wanted[@]} packages"
(cd "$work/debs" && apt-get download -q "${wanted[@]}" >/dev/null)

root="$work/root"
rm -rf "$root"
mkdir -p "$root"
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done

# Prune what a build never reads: docs, translations, Fortran/C++/high-level HDF5 bindings,
# static archives other than GoogleTest's (the project links HDF5, ICU and PCRE2 shared), tools.
lib="$root/usr/lib/x86_64-linux-gnu"
rm -rf "$root"/usr/share/{doc,man,info,locale,lintian,bug,aclocal} "$root"/etc "$root"/usr/sbin
find "$root/usr/bin" -mindepth 1 ! -name pkgconf ! -name pkg-config -delete
find "$lib" -name '*.a' ! -name 'libgtest*.a' ! -name 'libgmock*.a' -delete
find "$lib" \( -name '*fortran*' -o -name '*hdf5_cpp*' -o -name '*hdf5_hl*' -o -name '*hl_cpp*' \
  -o -name 'libicui18n*' -o -name 'libicuio*' -o -name 'libicutu*' -o -name 'libicutest*' \) -delete
rm -rf "$root/usr/include/hdf5/serial"/*.mod "$root/usr/lib/x86_64-linux-gnu/hdf5/serial/include"
find "$root" -xtype l -delete   # links into what was pruned

# Libraries of the runtime closure (not the roots): the device drops each one its system has.
for pkg in "${runtime[@]}"; do
  printf '%s\n' "${roots[@]}" | grep -qx "$pkg" && continue
  dpkg-deb -c "$work"/debs/"${pkg}"_*.deb | awk '{print $6}' | grep -E '\.so(\.[0-9]+)?$' | xargs -rn1 basename
done | sort -u > "$root/SHADOWABLE"

# One line per package and version, read by device_check.sh into its summary.
(cd "$work/debs" && ls ./*.deb | sed 's|^\./||; s|\.deb$||') > "$root/MANIFEST"
cp "$root/MANIFEST" "$out/MANIFEST"
tar -C "$root" -cf - . | xz -T2 -6 > "$out/deps.tar.xz.partial"
mv "$out/deps.tar.xz.partial" "$out/deps.tar.xz"
echo "fetch_debs: $(du -sh "$root" | cut -f1) unpacked, $(du -h "$out/deps.tar.xz" | cut -f1) packed -> $out/deps.tar.xz"
