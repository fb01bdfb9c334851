// While a report's PDF is being prepared, asks the server every few seconds how it is coming along and, once it
// is ready, puts the download link where the "being prepared" message was (the region is aria-live="polite",
// so screen readers hear the change); if it could not be made, says so and why; if a newer PDF has replaced it,
// links to the page, which offers that one.
// Progressive enhancement: without JavaScript the page has a "Check again" link and shows the same on reload.
// Marks: <div aria-live="polite" data-report-status="URL of the render's JSON" data-report-page="URL of this page">

const EVERY = 3000;

function paragraph(...children) {
  const element = document.createElement("p");
  element.className = "govuk-body";
  element.append(...children);
  return element;
}

function link(href, text, className = "govuk-link") {
  const element = document.createElement("a");
  element.className = className;
  element.href = href;
  element.textContent = text;
  return element;
}

function showReady(region, status) {
  const download = link(status.download_url, `Download the award report (PDF, ${status.size})`, "govuk-button");
  download.setAttribute("download", "");
  region.replaceChildren(paragraph(`The PDF is ready. Made on ${status.made}.`), paragraph(download));
}

function showSuperseded(region) {
  region.replaceChildren(
    paragraph("A newer PDF of this report has been made since."),
    paragraph(link(region.dataset.reportPage, "See the newer PDF")),
  );
}

function showFailed(region, status) {
  region.replaceChildren(
    paragraph(`The PDF could not be made. ${status.error}`),
    paragraph(link(region.dataset.reportPage, "Try again")),
  );
}

async function check(region) {
  let status;
  try {
    const response = await fetch(region.dataset.reportStatus, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
    });
    if (!response.ok) return; // signed out, or gone: the "Check again" link still works
    status = await response.json();
  } catch {
    setTimeout(() => check(region), EVERY); // the network blinked: ask again
    return;
  }
  if (status.status === "queued") setTimeout(() => check(region), EVERY);
  else if (status.status === "ready") showReady(region, status);
  else if (status.status === "failed") showFailed(region, status);
  else showSuperseded(region);
}

document.querySelectorAll("[data-report-status]").forEach((region) => {
  setTimeout(() => check(region), EVERY);
});
