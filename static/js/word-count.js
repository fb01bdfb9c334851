// A live word count for answer boxes that have no word limit. Boxes with a limit use GOV.UK Frontend's
// character count (data-module="govuk-character-count" with data-maxwords), which app.js starts.
// Progressive enhancement: the server renders the count for the saved text, and enforces every limit itself.
// Marks: <textarea data-word-count="id of the element that shows the count">

const DELAY = 300;

// The same rule as marketplace/bids/rules.py count_words(): runs of characters that are not spaces.
export function countWords(text) {
  const words = (text || "").match(/\S+/g);
  return words ? words.length : 0;
}

export function describe(count) {
  return `${count.toLocaleString("en-GB")} word${count === 1 ? "" : "s"}`;
}

function watch(textarea) {
  const output = document.getElementById(textarea.dataset.wordCount);
  if (!output) return;
  let timer;
  const update = () => {
    output.textContent = describe(countWords(textarea.value));
  };
  textarea.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(update, DELAY);
  });
  update();
}

document.querySelectorAll("textarea[data-word-count]").forEach(watch);
