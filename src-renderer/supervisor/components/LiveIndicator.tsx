/** Live / connecting / reconnecting / stale since …: whether what the board shows is current. */
import { useTranslation } from 'react-i18next';
import { formatClock } from '../format.js';
import { useBoard, useUi } from '../stores/hooks.js';

export function LiveIndicator() {
  const { t } = useTranslation();
  const feed = useBoard((s) => s.feed);
  const tz = useBoard((s) => s.supervision.timeZone);
  const locale = useUi((s) => s.locale);
  let kind: 'live' | 'connecting' | 'reconnecting' | 'stale' | 'stopped' = feed.kind;
  let text: string;
  if (feed.kind === 'reconnecting') {
    // After a few failed attempts the data is no longer "just a blip": say how old it is.
    kind = feed.attempt >= 3 ? 'stale' : 'reconnecting';
    text = t(`sv.live.${kind}`, { since: formatClock(feed.since, tz, locale) });
  } else {
    text = t(`sv.live.${kind}`);
  }
  const icon = { live: '●', connecting: '◌', reconnecting: '↻', stale: '⚠', stopped: '■' }[kind];
  return (
    <span className={`sv-live sv-live-${kind}`} role="status" aria-live="polite" data-testid="sv-live" data-state={kind}>
      <span aria-hidden="true">{icon}</span> {text}
    </span>
  );
}
