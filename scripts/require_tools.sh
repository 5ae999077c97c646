#!/usr/bin/env bash
# Checks for the system tools that `make setup` needs (Python 3.11, a JDK 17+, Maven) and installs the JVM
# ones from Debian's packages when they are missing and we may (root).
set -euo pipefail
missing=()
# javac: the SQL endpoint's guard (jvm/sql-guard) is compiled here, against the pinned pyspark's jars.
command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || missing+=(maven)
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: please install: ${missing[*]}" >&2
    exit 1
  fi
  echo "installing ${missing[*]} from Debian's packages"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
java_major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/ *java.specification.version = //p')"
if [ "${java_major%%.*}" -lt 17 ]; then
  echo "error: Java 17 or newer is needed (found $java_major)" >&2
  exit 1
fi
