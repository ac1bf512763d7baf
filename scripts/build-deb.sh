#!/usr/bin/env bash
# build-deb.sh — build the Debian packages execwatch (the agent) and execwatch-collector into
# dist/ (`make deb`).
#
#   1. Builds both products as they ship: release, Swift runtime linked statically
#      (--static-swift-stdlib), in their own build folder .build-static (as bench-replay.sh).
#   2. Refuses binaries that link Foundation's internationalization or ICU (nm on the unstripped
#      binaries), or that need a shared library outside the system's (ldd).
#   3. Writes man pages with swift-argument-parser's generate-manual tool (what its
#      GenerateManual plugin runs, built from the checkout SwiftPM fetched; the plugin itself
#      would first rebuild every product without --static-swift-stdlib).
#   4. Stages each package (binaries stripped, files where DESIGN.md puts them, packaging/ for
#      configuration, units, maintainer scripts, copyright, changelog), takes Depends from
#      dpkg-shlibdeps, and builds it with dpkg-deb.
#
# The version comes from one place: the first entry of packaging/debian/changelog.
# Environment: SWIFT (default swift), SKIP_BUILD=1 (use what .build-static holds).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
SWIFT=${SWIFT:-swift}
SCRATCH="$REPO/.build-static"
DIST="$REPO/dist"
PKG="$REPO/packaging"
STAGE="$DIST/stage"

log() { echo "build-deb: $*" >&2; }
die() { log "$*"; exit 1; }

for tool in dpkg-deb dpkg-shlibdeps dpkg-parsechangelog dpkg-architecture nm strip ldd gzip; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install dpkg-dev binutils)"
done

CHANGELOG="$PKG/debian/changelog"
VERSION=$(dpkg-parsechangelog -l "$CHANGELOG" -S Version)
UPSTREAM_VERSION=${VERSION%-*}
MAINTAINER=$(dpkg-parsechangelog -l "$CHANGELOG" -S Maintainer)
# Reproducible: every timestamp (files, man pages, archives) is the changelog entry's date.
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l "$CHANGELOG" -S Timestamp)
export SOURCE_DATE_EPOCH
ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
log "version $VERSION ($ARCH)"

# --- 1. build -------------------------------------------------------------------------------
# Full RELRO (-z relro -z now, as dpkg-buildflags' hardening=+bindnow): only the link differs from
# bench-replay.sh's build of the same scratch path.
BUILD_FLAGS=(-c release --static-swift-stdlib --scratch-path "$SCRATCH"
    -Xlinker -z -Xlinker relro -Xlinker -z -Xlinker now)
if [[ ${SKIP_BUILD:-} != 1 ]]; then
    for product in execwatch-collector execwatch; do
        log "swift build ${BUILD_FLAGS[*]} --product $product"
        start=$SECONDS
        "$SWIFT" build "${BUILD_FLAGS[@]}" --product "$product"
        log "$product built in $((SECONDS - start)) s"
    done
fi
BIN=$("$SWIFT" build "${BUILD_FLAGS[@]}" --show-bin-path)
for product in execwatch execwatch-collector; do
    [[ -x $BIN/$product ]] || die "$BIN/$product is missing"
done

# --- 2. what the binaries contain and link --------------------------------------------------
for product in execwatch execwatch-collector; do
    # Foundation's internationalization drags in ICU (~45 MB of data and code): never shipped.
    symbols=$(nm "$BIN/$product" | wc -l)
    ((symbols > 1000)) || die "nm finds only $symbols symbols in $product (stripped?): cannot check for ICU"
    # (awk keeps reading to the end: `| head` would end the pipeline with SIGPIPE, exit 141,
    # under pipefail, instead of the message below.)
    icu=$(nm "$BIN/$product" | awk '
        $NF ~ /FoundationInternationalization|_FoundationICU|^icudt[0-9]/ ||
        $NF ~ /^(ucol|ubrk|ucal|unum|udat|uloc|utrans|ures|uset|unorm2|ucnv)_|^u_str[A-Z]/ { if (n++ < 5) print $NF }')
    [[ -z $icu ]] || die "$product links ICU / FoundationInternationalization, e.g.:"$'\n'"$icu"
    if ldd "$BIN/$product" | grep -E 'not found|libswift|libFoundation|libdispatch|libicu'; then
        die "$product needs shared libraries that are not the system's (above)"
    fi
    log "$product: no ICU; links $(ldd "$BIN/$product" | awk '$1 !~ /linux-vdso|ld-linux/ {print $1}' | tr '\n' ' ')"
done
version_out=$("$BIN/execwatch" --version 2>/dev/null || true)
[[ $version_out == "$UPSTREAM_VERSION" ]] ||
    log "WARNING: execwatch --version says '$version_out', the package is $VERSION (Sources/*/Execwatch*.swift)"

# --- 3. man pages ---------------------------------------------------------------------------
MAN="$DIST/man"
rm -rf "$MAN"
mkdir -p "$MAN"
ARGUMENT_PARSER="$SCRATCH/checkouts/swift-argument-parser"
GENERATE_MANUAL="$SCRATCH/generate-manual/release/generate-manual"
if [[ ! -x $GENERATE_MANUAL ]]; then
    log "building swift-argument-parser's generate-manual"
    "$SWIFT" build --package-path "$ARGUMENT_PARSER" --scratch-path "$SCRATCH/generate-manual" \
        -c release --product generate-manual
fi
MAN_DATE=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)
for product in execwatch execwatch-collector; do
    "$GENERATE_MANUAL" "$BIN/$product" --output-directory "$MAN" --date "$MAN_DATE" --section 1 \
        --authors "execwatch maintainers" >/dev/null
    [[ -s $MAN/$product.1 ]] || die "generate-manual wrote no $product.1"
done

# --- 4. packages ----------------------------------------------------------------------------
rm -rf "$STAGE"
mkdir -p "$DIST"

# dpkg-shlibdeps wants a debian/control beside it: a minimal one in a scratch folder.
shlib_depends() { # shlib_depends BINARY — the Depends that dpkg-shlibdeps finds for it
    local dir
    dir=$(mktemp -d)
    mkdir -p "$dir/debian"
    printf 'Source: execwatch\n\nPackage: execwatch\nArchitecture: any\n' >"$dir/debian/control"
    (cd "$dir" && dpkg-shlibdeps -O "$1") | sed -n 's/^shlibs:Depends=//p'
    rm -rf "$dir"
}

installed_size() { # installed_size ROOT — KiB, as dpkg-gencontrol counts it
    find "$1" -path "$1/DEBIAN" -prune -o \( -type f -printf '%s\n' \) -o \( ! -type f -printf '0\n' \) |
        awk '{ kib += ($1 > 0 ? int(($1 + 1023) / 1024) : 1) } END { print kib }'
}

stage_common() { # stage_common PACKAGE ROOT
    local package=$1 root=$2
    install -d -m 0755 "$root/usr/share/doc/$package" "$root/usr/share/man/man1" "$root/lib/systemd/system" \
        "$root/etc/execwatch" "$root/DEBIAN"
    install -m 0644 "$PKG/debian/copyright" "$root/usr/share/doc/$package/copyright"
    gzip -9n -c "$CHANGELOG" >"$root/usr/share/doc/$package/changelog.Debian.gz"
    chmod 0644 "$root/usr/share/doc/$package/changelog.Debian.gz"
    # The binary: stripped as dh_strip does for programs.
    install -m 0755 "$BIN/$package" "$root/usr/bin/$package"
    strip --remove-section=.comment --remove-section=.note "$root/usr/bin/$package"
    gzip -9n -c "$MAN/$package.1" >"$root/usr/share/man/man1/$package.1.gz"
    chmod 0644 "$root/usr/share/man/man1/$package.1.gz"
    install -m 0644 "$PKG/systemd/$package.service" "$root/lib/systemd/system/$package.service"
    local script
    for script in postinst prerm postrm; do
        install -m 0755 "$PKG/debian/$package.$script" "$root/DEBIAN/$script"
    done
    install -m 0644 "$PKG/debian/$package.conffiles" "$root/DEBIAN/conffiles"
    install -d -m 0755 "$root/usr/share/lintian/overrides"
    install -m 0644 "$PKG/debian/$package.lintian-overrides" "$root/usr/share/lintian/overrides/$package"
}

finish_package() { # finish_package PACKAGE ROOT — control, md5sums, timestamps, dpkg-deb
    local package=$1 root=$2 depends size deb
    depends=$(shlib_depends "$root/usr/bin/$package")
    [[ -n $depends ]] || die "dpkg-shlibdeps found no dependencies for $package"
    size=$(installed_size "$root")
    sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@MAINTAINER@|$MAINTAINER|" \
        -e "s|@INSTALLED_SIZE@|$size|" -e "s|@DEPENDS@|$depends|" \
        "$PKG/debian/$package.control" >"$root/DEBIAN/control"
    chmod 0644 "$root/DEBIAN/control"
    ! grep -n '@[A-Z_]*@' "$root/DEBIAN/control" || die "unfilled field in $package's control"
    (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
        xargs -0 md5sum) >"$root/DEBIAN/md5sums"
    chmod 0644 "$root/DEBIAN/md5sums"
    find "$root" -exec touch --no-dereference -d "@$SOURCE_DATE_EPOCH" {} +
    deb="$DIST/${package}_${VERSION}_${ARCH}.deb"
    dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
    log "$deb: $(du -h "$deb" | cut -f1), installed $((size / 1024)) MiB; Depends: $depends"
}

# The agent.
A="$STAGE/execwatch"
install -d -m 0755 "$A/usr/bin" "$A/usr/share/execwatch/rules" "$A/etc/execwatch/rules.d" "$A/etc/audit/plugins.d"
stage_common execwatch "$A"
install -m 0644 "$REPO"/rules/*.xml "$A/usr/share/execwatch/rules/"
install -m 0644 "$PKG/etc/agent.yaml" "$A/etc/execwatch/agent.yaml"
install -m 0644 "$PKG/audit/plugins.d/execwatch.conf" "$A/etc/audit/plugins.d/execwatch.conf"
finish_package execwatch "$A"

# The collector.
C="$STAGE/execwatch-collector"
install -d -m 0755 "$C/usr/bin"
stage_common execwatch-collector "$C"
install -m 0644 "$PKG/etc/collector.yaml" "$C/etc/execwatch/collector.yaml"
finish_package execwatch-collector "$C"

rm -rf "$STAGE" "$MAN"
ls -l "$DIST"/*_"$VERSION"_"$ARCH".deb
