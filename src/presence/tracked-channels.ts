import type { PatternList } from '../access/patterns';
import type { Namespaces } from '../namespaces/namespaces';

/** The channel whose subscribers are always tracked: the chat example. */
export const ALWAYS_TRACKED_CHANNEL = 'chat';

/**
 * PRESENCE_CHANNELS (compiled once by readConfig) as a predicate: true for a channel whose
 * subscribers are tracked. `chat` always is; `{sub}` never matches here (no token).
 */
export function trackedChannels(patterns: PatternList): (channel: string) => boolean {
  return (channel) => channel === ALWAYS_TRACKED_CHANNEL || patterns.matches(channel);
}

/**
 * Whether a channel's subscribers are tracked, from its namespace's `presence`, else
 * PRESENCE_CHANNELS (the namespaces' defaults); `chat` always. Cached per channel by the policy.
 */
export function trackedByPolicy(namespaces: Namespaces): (channel: string) => boolean {
  return (channel) => namespaces.policy(channel).presence;
}
