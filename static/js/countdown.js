// Keeps "Closes in 3 days, 4 hours – 27 March 2027 at 5:00pm" current without a reload.
// Progressive enhancement: the server renders the same text, so the page works without JavaScript.
// Marks: <p data-countdown data-deadline="ISO 8601" data-deadline-text="27 March 2027 at 5:00pm">

const MINUTE = 60 * 1000;

function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

// The same words as marketplace/opportunities/search.py time_left().
export function timeLeft(milliseconds) {
  const totalMinutes = Math.floor(milliseconds / MINUTE);
  const days = Math.floor(totalMinutes / (24 * 60));
  const hours = Math.floor((totalMinutes % (24 * 60)) / 60);
  const minutes = totalMinutes % 60;
  if (days) return [plural(days, "day"), ...(hours ? [plural(hours, "hour")] : [])].join(", ");
  if (hours) return [plural(hours, "hour"), ...(minutes ? [plural(minutes, "minute")] : [])].join(", ");
  return minutes ? plural(minutes, "minute") : "less than a minute";
}

function update(element) {
  const deadline = Date.parse(element.dataset.deadline);
  const when = element.dataset.deadlineText;
  if (Number.isNaN(deadline) || !when) return;
  const left = deadline - Date.now();
  element.textContent = left <= 0 ? `Closed on ${when}` : `Closes in ${timeLeft(left)} – ${when}`;
}

const countdowns = document.querySelectorAll("[data-countdown]");
if (countdowns.length) {
  countdowns.forEach(update);
  setInterval(() => countdowns.forEach(update), MINUTE);
}
