#!/usr/bin/env bash
# Compiles the SQL endpoint's guard (jvm/sql-guard: the read-only session check and file system) against the
# pinned pyspark's own jars into .jars/sql-guard/, once: a stamp holding the sources' hash makes later runs a
# no-op. Nothing is downloaded.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
jars="${SALESINSIGHTS_JARS_DIR:-$root/.jars}"
pyspark_jars="$("$root/.venv/bin/python" -c 'import pathlib, pyspark; print(pathlib.Path(pyspark.__file__).parent / "jars")')"
sources="$root/jvm/sql-guard/src"
target="$jars/sql-guard"

mapfile -t files < <(find "$sources" -name '*.java' | sort)
stamp="$(cat "${files[@]}" | sha256sum | cut -d' ' -f1)"
if [ -f "$target/.stamp" ] && [ "$(cat "$target/.stamp")" = "$stamp" ]; then
  exit 0
fi
echo "compiling the SQL endpoint's guard into $target"
rm -rf "$target" && mkdir -p "$target/classes"
javac --release 17 -Xlint:all,-path -Werror -d "$target/classes" -cp "$pyspark_jars/*" "${files[@]}"
jar --create --file "$target/salesinsights-sql-guard.jar" -C "$target/classes" .
rm -rf "$target/classes"
echo "$stamp" >"$target/.stamp"
