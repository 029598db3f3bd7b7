#!/usr/bin/env bash
# Lays out one repository at one commit from a local bare mirror, without a network.
# usage: materialise.sh MIRROR_GIT_DIR COMMIT DEST
# Blobs the mirror lacks (very large files are left out of snapshots) are skipped, not fatal.
# The tree gets an empty `.git` repository, as a checkout has, so that a workspace in a
# subdirectory is linted with the deployment files above it, as a user's would be.
set -euo pipefail
git_dir=$1 commit=$2 dest=$3
if [ -f "$dest/.materialised" ] && [ "$(cat "$dest/.materialised")" = "$commit" ]; then
  [ -e "$dest/.git" ] || git init -q "$dest"
  exit 0
fi
rm -rf "$dest"
mkdir -p "$dest"
if git --git-dir="$git_dir" archive "$commit" 2>/dev/null | tar -x -C "$dest" 2>/dev/null; then
  git init -q "$dest"
  echo "$commit" >"$dest/.materialised"
  exit 0
fi
# Fall back to writing blob by blob, leaving out the ones the mirror does not hold.
rm -rf "$dest"
mkdir -p "$dest"
git --git-dir="$git_dir" ls-tree -r -z "$commit" | while IFS= read -r -d '' entry; do
  meta=${entry%%$'\t'*} path=${entry#*$'\t'}
  read -r mode type object <<<"$meta"
  [ "$type" = blob ] || continue
  mkdir -p "$dest/$(dirname "$path")"
  if [ "$mode" = 120000 ]; then
    target=$(git --git-dir="$git_dir" cat-file blob "$object" 2>/dev/null) || continue
    ln -sfn "$target" "$dest/$path"
  else
    git --git-dir="$git_dir" cat-file blob "$object" >"$dest/$path" 2>/dev/null || rm -f "$dest/$path"
  fi
done
git init -q "$dest"
echo "$commit" >"$dest/.materialised"
