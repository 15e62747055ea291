#!/usr/bin/env bash
# Builds the Debian package of an already built tree with CPack, unpacks it into a scratch root
# (dpkg -x) and runs the packaged programs from there: --version, inspect, and a forward-pass verb
# through the packaged switchyard-torch. Checks the package's name, its Depends (computed by
# dpkg-shlibdeps: LibTorch and HDF5, Qt only in the GUI package) and its files.
#   deb_package_test.sh BUILD_DIR GUI(ON|OFF) MODEL_DIR DATA_FILE
set -euo pipefail
build=$1 gui=$2 model=$3 data=$4

scratch=$(mktemp -d "${TMPDIR:-/tmp}/switchyard-deb-test.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# CPack installs the tree after building its `preinstall` target: with the tree up to date (as
# ctest expects it) that builds nothing, which the binaries' times prove.
binaries_before=$(stat -c '%n %Y' "$build"/bin/*)
# -B: CPack's staging and the .deb go to the scratch folder, not into the build tree.
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$scratch/out" >"$scratch/cpack.log" 2>&1 ||
  { cat "$scratch/cpack.log" >&2; fail "cpack"; }
[ "$(stat -c '%n %Y' "$build"/bin/*)" = "$binaries_before" ] ||
  fail "cpack rebuilt part of the tree: build it before running the tests"
debs=("$scratch"/out/*.deb)
[ "${#debs[@]}" -eq 1 ] || fail "expected one .deb, found: ${debs[*]}"
deb=${debs[0]}

name=$(dpkg-deb -f "$deb" Package)
depends=$(dpkg-deb -f "$deb" Depends)
conflicts=$(dpkg-deb -f "$deb" Conflicts)
echo "package: $(basename "$deb") ($(du -h "$deb" | cut -f1))"
echo "Depends: $depends"
if [ "$gui" = ON ]; then
  [ "$name" = switchyard ] || fail "package name $name, expected switchyard"
  [ "$conflicts" = switchyard-headless ] || fail "Conflicts: $conflicts"
  [[ $depends == *libqt6widgets6* ]] || fail "Depends lacks Qt 6 Widgets"
else
  [ "$name" = switchyard-headless ] || fail "package name $name, expected switchyard-headless"
  [ "$conflicts" = switchyard ] || fail "Conflicts: $conflicts"
  [[ $depends != *qt6* ]] || fail "the headless package depends on Qt"
fi
for lib in libtorch libhdf5 libc6; do
  [[ $depends == *$lib* ]] || fail "Depends lacks $lib (dpkg-shlibdeps did not run?)"
done

root="$scratch/root"
dpkg -x "$deb" "$root"
files=(usr/bin/switchyard usr/bin/switchyard-torch "usr/share/doc/$name/README.md"
       usr/share/man/man1/switchyard.1.gz usr/share/man/man1/switchyard-trace.1.gz
       usr/share/man/man1/switchyard-inspect.1.gz usr/share/man/man1/switchyard-torch.1.gz
       usr/share/bash-completion/completions/switchyard usr/share/zsh/vendor-completions/_switchyard)
gui_files=(usr/bin/switchyard-gui usr/share/applications/switchyard.desktop
           usr/share/icons/hicolor/scalable/apps/switchyard.svg)
if [ "$gui" = ON ]; then files+=("${gui_files[@]}"); fi
for f in "${files[@]}"; do [ -e "$root/$f" ] || fail "the package lacks /$f"; done
if [ "$gui" != ON ]; then
  for f in "${gui_files[@]}"; do [ ! -e "$root/$f" ] || fail "the headless package holds /$f"; done
fi
for f in "$root"/usr/bin/*; do
  if readelf -d "$f" | grep -Eq 'RPATH|RUNPATH'; then fail "$f keeps a build-tree RPATH"; fi
  if readelf -S "$f" | grep -q '\.debug_info'; then fail "$f is not stripped"; fi
done
gzip -t "$root"/usr/share/man/man1/*.gz

version=$("$root/usr/bin/switchyard" --version)
[[ $version == "switchyard "* ]] || fail "--version printed: $version"
echo "$version"
inspect=$("$root/usr/bin/switchyard" inspect "$model" --json)
/usr/bin/python3 -c 'import json, sys; d = json.loads(sys.argv[1]); assert d["family"] and d["num_experts"], d' "$inspect" ||
  fail "inspect --json: $inspect"
# `switchyard eval` runs the switchyard-torch beside it: the packaged one.
eval_out=$("$root/usr/bin/switchyard" eval "$model" --data "$data" --seq-len 64 --max-tokens 128 -q)
[[ $eval_out == *"all "* ]] || fail "eval printed: $eval_out"
if [ "$gui" = ON ]; then
  gui_version=$(QT_QPA_PLATFORM=offscreen "$root/usr/bin/switchyard-gui" --version 2>/dev/null)
  [[ $gui_version == "switchyard-gui "* ]] || fail "switchyard-gui --version printed: $gui_version"
fi
echo "ok: $name from $(basename "$deb")"
