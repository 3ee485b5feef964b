#!/bin/sh
# Build the Debian package from the frozen one-folder app, with dpkg-deb only.
#   installer/linux/build-deb.sh APP_DIR OUT_DIR [REVISION]
# APP_DIR is PyInstaller's output (the folder holding the `onlinesupport` program); the package
# version is the program's own version plus REVISION (default 1).
set -eu
app=$(cd "$1" && pwd)
out=$2
revision=${3:-1}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

version=$("$app/onlinesupport" version | cut -d' ' -f2)
arch=$(dpkg --print-architecture)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/lib/systemd/system" \
         "$root/etc/onlinesupport" "$root/usr/share/doc/onlinesupport"
cp -a "$app" "$root/opt/onlinesupport"
install -m 0755 "$here/onlinesupport-command.sh" "$root/usr/bin/onlinesupport"
install -m 0644 "$here/onlinesupport.service" "$root/lib/systemd/system/onlinesupport.service"
install -m 0644 "$top/README.md" "$top/LICENSE" "$root/usr/share/doc/onlinesupport/"

# The config file: every setting, commented, with the package's data folder filled in.
: > "$root/empty.toml"
env -i PATH="$PATH" "$app/onlinesupport" config --sample --for-service --config "$root/empty.toml" \
    > "$root/etc/onlinesupport/onlinesupport.toml"
rm "$root/empty.toml"
grep -q '^data_dir = "/var/lib/onlinesupport"$' "$root/etc/onlinesupport/onlinesupport.toml"

for script in postinst prerm postrm; do
    install -m 0755 "$here/debian/$script" "$root/DEBIAN/$script"
done
echo /etc/onlinesupport/onlinesupport.toml > "$root/DEBIAN/conffiles"
size=$(du -sk "$root" | cut -f1)
sed -e "s/@VERSION@/$version-$revision/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
    "$here/debian/control" > "$root/DEBIAN/control"

mkdir -p "$out"
deb="$out/onlinesupport_${version}-${revision}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
