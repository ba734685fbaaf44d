/*
 * Telling an agent that a new conversation waits: a browser notification and
 * a short two-note chime made with WebAudio (no audio file).
 *
 * Browsers allow both only after a user gesture: `unlockOnGesture` prepares the
 * audio context on the first click or key press, and `askPermission` is called
 * from a button.
 */

let audio = null;

function audioContext() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return null;
  if (!audio) audio = new Context();
  return audio;
}

/** Creates (and resumes) the audio context on the first user gesture. */
export function unlockOnGesture() {
  const unlock = () => {
    const context = audioContext();
    if (context && context.state === "suspended") context.resume();
    window.removeEventListener("pointerdown", unlock, true);
    window.removeEventListener("keydown", unlock, true);
  };
  window.addEventListener("pointerdown", unlock, true);
  window.addEventListener("keydown", unlock, true);
}

/** Plays a soft two-note chime; three notes when urgent. */
export function chime(urgent = false) {
  const context = audioContext();
  if (!context) return;
  const notes = urgent ? [880, 660, 880] : [660, 880];
  const start = context.currentTime + 0.02;
  notes.forEach((frequency, index) => {
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = frequency;
    const at = start + index * 0.16;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.15);
    oscillator.connect(gain).connect(context.destination);
    oscillator.start(at);
    oscillator.stop(at + 0.16);
  });
}

/** "granted", "denied", "default" or "unsupported". */
export function permission() {
  return "Notification" in window ? Notification.permission : "unsupported";
}

/** Asks for permission; call from a click handler. */
export async function askPermission() {
  if (!("Notification" in window)) return "unsupported";
  if (Notification.permission !== "default") return Notification.permission;
  return Notification.requestPermission();
}

/**
 * Shows a notification when allowed; clicking it focuses the inbox.
 * @param {string} title
 * @param {string} body plain text (notifications never render HTML)
 * @param {string} tag collapses repeated notifications for one conversation
 * @param {() => void} onClick
 */
export function notify(title, body, tag, onClick) {
  if (permission() !== "granted") return null;
  try {
    const notification = new Notification(title, { body, tag });
    notification.onclick = () => {
      window.focus();
      onClick();
      notification.close();
    };
    return notification;
  } catch (_) {
    return null; // e.g. Android Chrome only allows service-worker notifications
  }
}
