#!/usr/bin/env bash
# Vendor Mermaid and MathJax from npm so the book's diagrams and math render offline.
#
#   bash scripts/vendor_assets.sh DEST        (the Makefile uses DEST=book/_vendor)
#
# DEST gets:  mermaid/mermaid.esm.min.mjs + mermaid/chunks/mermaid.esm.min/   (mermaid@11)
#             mathjax/es5/tex-svg.js + the components it loads on demand         (mathjax@3)
# _config.yml lists DEST in html_static_path, so both end up under _static/ in the HTML.
# Idempotent: does nothing when DEST already holds both. Leaves no node_modules behind.
set -euo pipefail

MERMAID_SPEC="${MERMAID_SPEC:-mermaid@11}"
MATHJAX_SPEC="${MATHJAX_SPEC:-mathjax@3}"

if [[ $# -ne 1 ]]; then
  echo "usage: $0 DEST   (e.g. book/_vendor)" >&2
  exit 2
fi
dest="$1"

mermaid_main="$dest/mermaid/mermaid.esm.min.mjs"
mathjax_main="$dest/mathjax/es5/tex-svg.js"
if [[ -s "$mermaid_main" && -d "$dest/mermaid/chunks/mermaid.esm.min" && -s "$mathjax_main" && -d "$dest/mathjax/es5/input" ]]; then
  echo "vendor_assets: $dest already holds Mermaid and MathJax; nothing to do"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "vendor_assets: error: npm is not installed; it is needed once to fetch $MERMAID_SPEC and $MATHJAX_SPEC" >&2
  echo "  Debian/Ubuntu: apt-get install -y npm    (or install Node.js from https://nodejs.org)" >&2
  exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

fetch() {  # fetch SPEC SUBDIR: npm pack SPEC into $tmp and extract it into $tmp/SUBDIR
  local spec="$1" sub="$2" tarball
  tarball="$(cd "$tmp" && npm pack --silent "$spec" | tail -n 1)"
  if [[ -z "$tarball" || ! -f "$tmp/$tarball" ]]; then
    echo "vendor_assets: error: 'npm pack $spec' produced no tarball" >&2
    exit 1
  fi
  mkdir -p "$tmp/$sub"
  tar -xzf "$tmp/$tarball" -C "$tmp/$sub"
  echo "vendor_assets: fetched $tarball"
}

fetch "$MERMAID_SPEC" mermaid
fetch "$MATHJAX_SPEC" mathjax

stage="$tmp/out"
mkdir -p "$stage/mermaid/chunks" "$stage/mathjax/es5"
# Mermaid: the ES module entry point and the chunks it imports.
cp "$tmp/mermaid/package/dist/mermaid.esm.min.mjs" "$stage/mermaid/"
cp -r "$tmp/mermaid/package/dist/chunks/mermaid.esm.min" "$stage/mermaid/chunks/"
cp "$tmp/mermaid/package/LICENSE" "$stage/mermaid/LICENSE"
# MathJax: the combined TeX -> SVG component (SVG fonts are inside it) plus the
# components it may load on demand: TeX extensions (input/), menu and a11y helpers.
cp "$tmp/mathjax/package/es5/tex-svg.js" "$stage/mathjax/es5/"
for sub in input ui a11y; do
  if [[ -d "$tmp/mathjax/package/es5/$sub" ]]; then
    cp -r "$tmp/mathjax/package/es5/$sub" "$stage/mathjax/es5/"
  fi
done
cp "$tmp/mathjax/package/LICENSE" "$stage/mathjax/LICENSE"

for f in "$stage/mermaid/mermaid.esm.min.mjs" "$stage/mathjax/es5/tex-svg.js"; do
  [[ -s "$f" ]] || { echo "vendor_assets: error: $f missing from the npm package" >&2; exit 1; }
done

mkdir -p "$dest"
rm -rf "$dest/mermaid" "$dest/mathjax"
cp -r "$stage/mermaid" "$stage/mathjax" "$dest/"
echo "vendor_assets: wrote $(du -sh "$dest" | cut -f1) to $dest"
