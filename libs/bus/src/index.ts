export * from './subjects';
export * from './nats-connection';
export * from './key-stream';
export * from './envelope-codec';
export * from './nats-holder';
export * from './verifier-propagation';
