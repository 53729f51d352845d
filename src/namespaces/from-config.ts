import type { Config } from '../config';
import { ConfigError } from '../errors';
import { trackedChannels } from '../presence/tracked-channels';
import { loadChannelsConfig } from './load';
import { Namespaces, type NamespaceDefaults } from './namespaces';

/** What a channel follows when no namespace (or no option of it) decides: the environment. */
export function namespaceDefaults(config: Config): NamespaceDefaults {
  return {
    historySize: config.historySize,
    historyTtlS: config.historyTtlS,
    maxEventBytes: config.maxEventBytes,
    publicChannels: config.publicChannels,
    presenceChannels: trackedChannels(config.presenceChannels),
  };
}

/**
 * The namespaces of CHANNELS_CONFIG (read once, synchronously, at start), or none without it.
 * Throws ConfigError (one line naming CHANNELS_CONFIG) for an invalid file, and for a namespace
 * with `public: false` when there is neither a JWT key nor AUTH_HOOK_URL: without them every
 * channel is public, so the setting would only look like protection (as PUBLIC_CHANNELS).
 */
export function namespacesFromConfig(config: Config): Namespaces {
  const defaults = namespaceDefaults(config);
  if (config.channelsConfig === undefined) return Namespaces.none(defaults);
  const namespaces = loadChannelsConfig(config.channelsConfig, defaults);
  const private_ = namespaces.list.find((namespace) => namespace.public === false);
  if (private_ !== undefined && config.jwtKey === undefined && config.authHookUrl === undefined) {
    throw new ConfigError(
      `CHANNELS_CONFIG=${config.channelsConfig}: namespaces[${private_.index}] ("${private_.pattern.source}") has public: false, which needs JWT_SECRET, JWT_PUBLIC_KEY or AUTH_HOOK_URL: without a key or a hook every channel is public`,
    );
  }
  return namespaces;
}
