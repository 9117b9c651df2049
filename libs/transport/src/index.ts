/** The transport library's public surface (what other libs, apps, scripts and tests import as @vfl/transport). */
export * from './msgpack-socket';
export * from './nats-msgpack';
export * from './payload-codec';
export * from './rpc-call';
export * from './transport-options';
export * from './psi-work-queue';
