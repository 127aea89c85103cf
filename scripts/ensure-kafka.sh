#!/usr/bin/env bash
# Assembles Apache Kafka from Maven Central once per machine, into a cache
# outside the checkout, so that fresh clones (CI) reuse it. Prints the
# folder (with lib/ holding every jar) on stdout's last line.
#
# There is no Debian package and the Apache download site may be out of
# reach, but the broker's jars are on Maven Central: kafka_2.13 and its
# runtime dependencies run `kafka.Kafka` and `kafka.tools.StorageTool`. Its
# POM does not carry a logging binding, so we add log4j-slf4j-impl (the
# SLF4J 1.x binding Kafka's own tarball ships); without it the broker prints
# nothing, not even a fatal start-up error. Our log4j2 config is in
# scripts/kafka/log4j2.properties.
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
LOG4J_VERSION="${LOG4J_VERSION:-2.24.3}"
CACHE="${WIRESTREAM_CACHE:-$HOME/.cache/wirestream}"
HOME_DIR="$CACHE/kafka-$KAFKA_VERSION"
say() { echo "==> $*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

if [ -f "$HOME_DIR/.complete" ]; then
  echo "$HOME_DIR"
  exit 0
fi

need() { # need COMMAND DEBIAN-PACKAGE
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing $2 from Debian's packages (for $1)"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >&2
  else
    die "$1 is missing: install Debian's '$2' package (Kafka needs Java 17 or newer, and Maven to fetch its jars)"
  fi
}
need java openjdk-17-jre-headless
need mvn maven
java_major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
[ "${java_major%%.*}" -ge 17 ] 2>/dev/null || die "Kafka $KAFKA_VERSION needs Java 17 or newer; 'java' is $java_major (set JAVA_HOME or PATH)"

mkdir -p "$HOME_DIR"
# A lock so that two `make` targets started together do not fetch twice.
exec 9>"$HOME_DIR/.lock"
flock 9
if [ -f "$HOME_DIR/.complete" ]; then
  echo "$HOME_DIR"
  exit 0
fi

say "assembling Apache Kafka $KAFKA_VERSION from Maven Central into $HOME_DIR (once per machine)"
cat >"$HOME_DIR/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.wirestream</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
  </dependencies>
</project>
POM
rm -rf "$HOME_DIR/lib"
mvn -q -B -f "$HOME_DIR/pom.xml" dependency:copy-dependencies \
  -DoutputDirectory="$HOME_DIR/lib" -DincludeScope=runtime >&2 \
  || die "Maven could not fetch Kafka $KAFKA_VERSION (see the lines above)"
[ -f "$HOME_DIR/lib/kafka_2.13-$KAFKA_VERSION.jar" ] || die "Maven finished but kafka_2.13-$KAFKA_VERSION.jar is not in $HOME_DIR/lib"
touch "$HOME_DIR/.complete"
echo "$HOME_DIR"
