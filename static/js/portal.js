// Progressive enhancement only: every page works without JavaScript.
"use strict";

// Popups on the home page (SPEC §5). The server renders each as an open, non-modal <dialog>
// (a banner) that works without script; here they become modal dialogs shown one at a time.
// "오늘 하루 이 창을 열지 않음" sets the same cookie the server would: until the next 00:00
// in Seoul (UTC+9, no daylight saving), whatever the visitor's own time zone.
const KST_OFFSET_MS = 9 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

function nextKstMidnight(now = Date.now()) {
  const kstDayStart = Math.floor((now + KST_OFFSET_MS) / DAY_MS) * DAY_MS;
  return new Date(kstDayStart + DAY_MS - KST_OFFSET_MS);
}

function hideToday(id) {
  const secure = window.location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `notice_hidden_${id}=1; expires=${nextKstMidnight().toUTCString()}; path=/; SameSite=Lax${secure}`;
}

function setUpPopups() {
  const popups = Array.from(document.querySelectorAll("dialog[data-popup]"));
  if (!popups.length || typeof HTMLDialogElement !== "function") return;
  // Hide them all (no close event for this), then show them modally one at a time.
  popups.forEach((dialog) => dialog.removeAttribute("open"));
  const showNext = () => {
    const next = popups.shift();
    if (!next) return;
    next.addEventListener(
      "close",
      () => {
        next.remove(); // "닫기": gone for this view only
        showNext();
      },
      { once: true },
    );
    next.showModal(); // traps focus, Esc closes, the page behind is inert
    const close = next.querySelector("[data-popup-close]");
    if (close) close.focus();
  };
  popups.forEach((dialog) => {
    const form = dialog.querySelector("form[data-popup-dismiss-today]");
    if (!form) return;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      hideToday(dialog.getAttribute("data-popup"));
      dialog.close();
    });
  });
  showNext();
}

document.addEventListener("DOMContentLoaded", () => {
  // Buttons that ask before a destructive action: <button data-confirm="...">.
  document.querySelectorAll("[data-confirm]").forEach((el) => {
    el.addEventListener("click", (event) => {
      if (!window.confirm(el.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
  setUpPopups();
});
