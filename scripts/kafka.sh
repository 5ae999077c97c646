#!/usr/bin/env bash
# The single-node KRaft broker: `kafka.sh start|stop|status`. Listens on the configured loopback address
# only; its logs (the data) live in $SI_KAFKA_DIR.
source "$(dirname "$0")/lib.sh"

classpath="$SI_JARS/broker/*"
config_dir="$SI_KAFKA_DIR/config"
host="${SI_KAFKA_BOOTSTRAP%:*}"
port="${SI_KAFKA_BOOTSTRAP##*:}"

write_config() {
  mkdir -p "$config_dir" "$SI_KAFKA_DIR/logs"
  cat >"$config_dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$host:$SI_KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$host:$port,CONTROLLER://$host:$SI_KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$host:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$SI_KAFKA_DIR/logs
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
transaction.max.timeout.ms=900000
offsets.topic.num.partitions=4
transaction.state.log.num.partitions=4
PROPS
  cat >"$config_dir/log4j2.properties" <<PROPS
status = warn
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.console.ref = console
logger.kafka.name = kafka
logger.kafka.level = warn
logger.apache.name = org.apache.kafka
logger.apache.level = warn
logger.state.name = state.change.logger
logger.state.level = warn
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = info
PROPS
}

java_opts=(-Xms"$SI_KAFKA_HEAP" -Xmx"$SI_KAFKA_HEAP" -XX:+UseG1GC -Djava.awt.headless=true
  -Dlog4j2.configurationFile="$config_dir/log4j2.properties")

format_storage() {
  [ -f "$SI_KAFKA_DIR/logs/meta.properties" ] && return 0
  local cluster_id
  cluster_id="$(java -cp "$classpath" kafka.tools.StorageTool random-uuid)"
  java "${java_opts[@]}" -cp "$classpath" kafka.tools.StorageTool format \
    -t "$cluster_id" -c "$config_dir/server.properties" >/dev/null
  echo "kafka: formatted storage in $SI_KAFKA_DIR/logs (cluster $cluster_id)"
}

case "${1:-}" in
  start)
    [ -d "$SI_JARS/broker" ] || { echo "error: broker jars missing; run 'make setup'" >&2; exit 1; }
    if pid_of kafka >/dev/null; then echo "kafka: already running (pid $(pid_of kafka))"; exit 0; fi
    if port_open "$host" "$port"; then echo "error: $host:$port is taken by another process" >&2; exit 1; fi
    write_config
    format_storage
    start_service kafka java "${java_opts[@]}" -cp "$classpath" kafka.Kafka "$config_dir/server.properties"
    wait_for "kafka on $SI_KAFKA_BOOTSTRAP" 90 "$PY" -m salesinsights.kafka_admin ping
    "$PY" -m salesinsights.kafka_admin ensure-topics
    ;;
  stop)
    stop_service kafka 60
    ;;
  status)
    if pid=$(pid_of kafka); then
      echo "kafka: running (pid $pid) on $SI_KAFKA_BOOTSTRAP"
      "$PY" -m salesinsights.kafka_admin describe
    else
      echo "kafka: stopped"; exit 3
    fi
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
