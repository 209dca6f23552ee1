/** The daemon: one OS process around a node — config file, logs, health and metrics HTTP, signals. */

export { type ClusterFiles, type ClusterFilesOptions, createClusterFiles } from './cluster-files.js';
export { defaultConfigPaths, type LoadedConfig, loadConfigFile, parseConfigYaml } from './config-file.js';
export { HealthServer, type HealthServerOptions, parseListenAddress, type ReadinessReport } from './http.js';
export {
  acceptsConnections,
  freeLocalPort,
  type LocalNatsServer,
  natsServerOnPath,
  startLocalNatsServer,
} from './local-nats-server.js';
export {
  createLogger,
  type DaemonLogger,
  isSecretName,
  type LoggingOptions,
  type LogLevel,
  parseLogLevel,
  REDACTED,
  redact,
} from './logging.js';
export { type PromMetricsOptions, PromNodeMetrics } from './metrics.js';
export {
  connectUntilReachable,
  MIN_NATS_MAX_PAYLOAD_BYTES,
  type NatsFactoryOptions,
  NODE_INBOX_PREFIX,
  natsOptionsFromConfig,
  natsTransportFactory,
  natsTransports,
  nodeStreamExpectations,
  PEERS_BUCKET,
  READINESS_BUCKET,
  readinessTtlMs,
  readPeersBucket,
  watchConnection,
  writePeersBucket,
} from './nats-transports.js';
export { handleShutdownSignals, type ShutdownHandle, type ShutdownOptions, type SignalSource } from './shutdown.js';
export {
  checkBackupSettings,
  Daemon,
  type DaemonOptions,
  type DaemonTransports,
  resolveVaultSecret,
  startDaemon,
  type TransportFactory,
} from './start.js';
