#!/usr/bin/env bash
# Fetches the JVM dependencies declared in jvm/*/pom.xml into .jars/<name>/ with Maven, once: a stamp holding
# the pom's hash makes later runs a no-op, so everything after `make setup` runs offline.
# Spark's extra jars are pruned of every artifact that pyspark already ships (Scala, Jackson, Hadoop, …).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
jars="${SALESINSIGHTS_JARS_DIR:-$root/.jars}"
pyspark_jars="$("$root/.venv/bin/python" -c 'import pathlib, pyspark; print(pathlib.Path(pyspark.__file__).parent / "jars")')"

artifact_name() { # foo-bar_2.13-1.2.3.jar -> foo-bar_2.13
  basename "$1" .jar | sed -E 's/-[0-9][0-9A-Za-z.+_-]*$//'
}

for pom in "$root"/jvm/*/pom.xml; do
  name="$(basename "$(dirname "$pom")")"
  target="$jars/$name"
  stamp="$(sha256sum "$pom" | cut -d' ' -f1)"
  if [ -f "$target/.stamp" ] && [ "$(cat "$target/.stamp")" = "$stamp" ]; then
    continue
  fi
  echo "fetching $name jars with Maven into $target"
  rm -rf "$target" && mkdir -p "$target"
  mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$target"
  if [ "$name" = spark ] || [ "$name" = metastore ]; then
    for jar in "$target"/*.jar; do
      if compgen -G "$pyspark_jars/$(artifact_name "$jar")-[0-9]*.jar" >/dev/null; then rm "$jar"; fi
    done
  fi
  echo "$stamp" >"$target/.stamp"
done
