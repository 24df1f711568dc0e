/**
 * Kiosk mode: no cursor, fullscreen where the browser allows it, and the screen kept awake. Chromium only grants
 * fullscreen after a user gesture unless started with --kiosk, so it is retried on the first touch or key press.
 */

interface WakeLockSentinelLike {
  released: boolean;
  release(): Promise<void>;
  addEventListener(type: 'release', listener: () => void): void;
}

export interface KioskStatus {
  fullscreen: boolean;
  wakeLock: 'held' | 'unsupported' | 'refused' | 'released';
}

export function startKiosk(onStatus: (status: KioskStatus) => void): () => void {
  document.documentElement.classList.add('kiosk');
  let sentinel: WakeLockSentinelLike | null = null;
  let stopped = false;
  const status: KioskStatus = { fullscreen: document.fullscreenElement !== null, wakeLock: 'released' };
  const report = () => onStatus({ ...status, fullscreen: document.fullscreenElement !== null || matchMedia('(display-mode: fullscreen)').matches });

  const requestWakeLock = async () => {
    const wakeLock = (navigator as Navigator & { wakeLock?: { request(type: 'screen'): Promise<WakeLockSentinelLike> } }).wakeLock;
    if (!wakeLock) {
      status.wakeLock = 'unsupported';
      report();
      return;
    }
    if (sentinel && !sentinel.released) return;
    try {
      sentinel = await wakeLock.request('screen');
      status.wakeLock = 'held';
      sentinel.addEventListener('release', () => {
        status.wakeLock = 'released';
        report();
      });
    } catch {
      // Refused while hidden or without permission; retried on the next visibility change.
      status.wakeLock = 'refused';
    }
    report();
  };

  const requestFullscreen = async () => {
    if (document.fullscreenElement !== null || !document.fullscreenEnabled) return;
    try {
      await document.documentElement.requestFullscreen({ navigationUI: 'hide' });
    } catch {
      // Needs a user gesture; the gesture listeners below try again.
    }
    report();
  };

  const onVisibility = () => {
    // The browser drops the wake lock whenever the page is hidden.
    if (document.visibilityState === 'visible') void requestWakeLock();
  };
  const onGesture = () => {
    void requestFullscreen();
    void requestWakeLock();
  };

  document.addEventListener('visibilitychange', onVisibility);
  document.addEventListener('fullscreenchange', report);
  window.addEventListener('pointerdown', onGesture);
  window.addEventListener('keydown', onGesture);
  void requestWakeLock();
  void requestFullscreen();

  return () => {
    if (stopped) return;
    stopped = true;
    document.documentElement.classList.remove('kiosk');
    document.removeEventListener('visibilitychange', onVisibility);
    document.removeEventListener('fullscreenchange', report);
    window.removeEventListener('pointerdown', onGesture);
    window.removeEventListener('keydown', onGesture);
    void sentinel?.release();
  };
}
