#!/usr/bin/env bash
# Assembles Kafka Connect standalone and a JDBC sink connector from Maven
# Central once per machine, into the same cache as the broker
# (scripts/ensure-kafka.sh), for the side-by-side of scripts/bench-connect.sh.
# Prints the folder on stdout's last line:
#
#   lib/                  the Connect worker: connect-runtime, connect-json,
#                         connect-file and their runtime dependencies, with
#                         the SLF4J binding the broker uses (on the classpath)
#   plugins/jdbc-sink/    Debezium's JDBC sink connector and the PostgreSQL
#                         driver, in a plugin folder of its own (plugin.path),
#                         so that its libraries (Hibernate, its Jackson) load
#                         in an isolated class loader and cannot clash with
#                         the worker's
#
# Kafka's own API jars are `provided` in the connector's POM, so the plugin
# folder holds none: the worker's are used, as Connect expects.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
DEBEZIUM_VERSION="${DEBEZIUM_VERSION:-3.6.0.Final}"
PG_JDBC_VERSION="${PG_JDBC_VERSION:-42.7.8}"
HIBERNATE_AGROAL_VERSION="${HIBERNATE_AGROAL_VERSION:-7.2.0.Final}"
# The Jackson that Debezium 3.6.0's connector brings.
PLUGIN_JACKSON_VERSION="${PLUGIN_JACKSON_VERSION:-2.21.2}"
LOG4J_VERSION="${LOG4J_VERSION:-2.24.3}"
CACHE="${WIRESTREAM_CACHE:-$HOME/.cache/wirestream}"
HOME_DIR="$CACHE/kafka-connect-$KAFKA_VERSION-debezium-$DEBEZIUM_VERSION"
say() { echo "==> $*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

if [ -f "$HOME_DIR/.complete" ]; then
  echo "$HOME_DIR"
  exit 0
fi
# Java and Maven: the broker's script installs or checks them.
"$ROOT/scripts/ensure-kafka.sh" >/dev/null

mkdir -p "$HOME_DIR"
exec 9>"$HOME_DIR/.lock"
flock 9
if [ -f "$HOME_DIR/.complete" ]; then
  echo "$HOME_DIR"
  exit 0
fi

pom() { # $1 = artifact id, then <dependency> elements on stdin
  cat <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.wirestream</groupId>
  <artifactId>$1</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
$(cat)
  </dependencies>
</project>
POM
}
dep() { # group artifact version [group:artifact to exclude]...
  local exclusions="" x
  for x in "${@:4}"; do
    exclusions+="<exclusion><groupId>${x%%:*}</groupId><artifactId>${x#*:}</artifactId></exclusion>"
  done
  echo "    <dependency><groupId>$1</groupId><artifactId>$2</artifactId><version>$3</version><exclusions>$exclusions</exclusions></dependency>"
}
fetch() { # $1 = pom file, $2 = output folder
  rm -rf "$2"
  mvn -q -B -f "$1" dependency:copy-dependencies -DoutputDirectory="$2" -DincludeScope=runtime >&2
}

say "assembling Kafka Connect $KAFKA_VERSION and Debezium's JDBC sink $DEBEZIUM_VERSION from Maven Central into $HOME_DIR (once per machine)"
{
  dep org.apache.kafka connect-runtime "$KAFKA_VERSION"
  dep org.apache.kafka connect-json "$KAFKA_VERSION"
  dep org.apache.kafka connect-file "$KAFKA_VERSION"
  dep org.apache.logging.log4j log4j-slf4j-impl "$LOG4J_VERSION"
} | pom kafka-connect >"$HOME_DIR/worker.pom.xml"
fetch "$HOME_DIR/worker.pom.xml" "$HOME_DIR/lib" \
  || die "Maven could not fetch connect-runtime $KAFKA_VERSION (see the lines above)"
[ -f "$HOME_DIR/lib/connect-runtime-$KAFKA_VERSION.jar" ] || die "connect-runtime-$KAFKA_VERSION.jar is not in $HOME_DIR/lib"

{
  # Its connection pool, hibernate-agroal, is named at Hibernate 7.2.6's
  # version under the old group org.hibernate; Hibernate 7 publishes it under
  # org.hibernate.orm, where Maven Central has 7.2.0.Final but not 7.2.6's
  # jar. So that one, beside the connector's hibernate-core 7.2.6 (same
  # minor version: the provider's SPI is the same).
  dep io.debezium debezium-connector-jdbc "$DEBEZIUM_VERSION" org.hibernate:hibernate-agroal
  dep org.hibernate.orm hibernate-agroal "$HIBERNATE_AGROAL_VERSION" org.hibernate.orm:hibernate-core
  dep org.postgresql postgresql "$PG_JDBC_VERSION"
  # The worker's classpath has three Jackson modules that register through
  # ServiceLoader; Hibernate's ObjectMapper, in the plugin's class loader,
  # finds them there and refuses them ("Jdk8Module not a subtype": they
  # belong to the worker's jackson-databind). The same modules at the
  # plugin's Jackson version, in the plugin folder, load first.
  for module in datatype:jackson-datatype-jdk8 module:jackson-module-blackbird \
    module:jackson-module-jakarta-xmlbind-annotations; do
    dep "com.fasterxml.jackson.${module%%:*}" "${module#*:}" "$PLUGIN_JACKSON_VERSION"
  done
} | pom jdbc-sink >"$HOME_DIR/plugin.pom.xml"
fetch "$HOME_DIR/plugin.pom.xml" "$HOME_DIR/plugins/jdbc-sink" \
  || die "Maven could not fetch io.debezium:debezium-connector-jdbc:$DEBEZIUM_VERSION (see the lines above)"
[ -f "$HOME_DIR/plugins/jdbc-sink/debezium-connector-jdbc-$DEBEZIUM_VERSION.jar" ] \
  || die "debezium-connector-jdbc-$DEBEZIUM_VERSION.jar is not in $HOME_DIR/plugins/jdbc-sink"
# Should the connector's POM carry Kafka's API after all, the worker's copy
# must be the only one: two copies of connect-api break the plugin's classes.
rm -f "$HOME_DIR"/plugins/jdbc-sink/{kafka-clients,connect-api,connect-runtime,connect-json,connect-transforms}-[0-9]*.jar
touch "$HOME_DIR/.complete"
echo "$HOME_DIR"
