/** Channel namespaces (API.md, "Channel namespaces: CHANNELS_CONFIG"): load once, look up per channel. */
export { loadChannelsConfig, fingerprintOf, createSchemaCompiler, MAX_NAMESPACE_HISTORY } from './load';
export { Namespaces, type ChannelPolicy, type ChannelPredicate, type EventContract, type Namespace, type NamespaceDefaults } from './namespaces';
export { validateEvent, MAX_DETAILS, type DataProblem, type EventRejection } from './validate-event';
