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

// The idle warning (PRODUCT.md §2): the body carries the idle timeout, the seconds left of
// it when the page was made, and how long before the end to warn. "연장" posts to
// /account/session/extend (CSRF token from the dialog's own form), which counts as activity.
// When the time is up the page reloads: the server has ended the session and says so.
function setUpIdleWarning() {
  const body = document.body;
  const dialog = document.getElementById("idle-warning");
  if (!dialog || !body.dataset.idleSeconds || typeof HTMLDialogElement !== "function") return;
  const form = document.getElementById("idle-extend-form");
  const countdown = document.getElementById("idle-countdown");
  const warnBefore = Number(body.dataset.idleWarning) * 1000;
  let deadline = Date.now() + Number(body.dataset.idleRemaining) * 1000;
  let warnTimer = null;
  let tick = null;

  const show = (left) => {
    const seconds = Math.max(0, Math.ceil(left / 1000));
    const minutes = Math.floor(seconds / 60);
    countdown.textContent = minutes ? `${minutes}:${String(seconds % 60).padStart(2, "0")}` : `${seconds}s`;
  };
  const expire = () => {
    clearInterval(tick);
    window.location.reload();
  };
  const warn = () => {
    show(deadline - Date.now());
    if (!dialog.open) dialog.showModal();
    document.getElementById("idle-extend").focus();
    tick = setInterval(() => {
      const left = deadline - Date.now();
      // A second's grace: the server ends the session only once the idle time has passed.
      if (left <= -1000) expire();
      else show(left);
    }, 1000);
  };
  const schedule = () => {
    clearTimeout(warnTimer);
    clearInterval(tick);
    warnTimer = setTimeout(warn, Math.max(0, deadline - warnBefore - Date.now()));
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const response = await fetch(form.action, {
        method: "POST",
        headers: { Accept: "application/json", "X-CSRFToken": form.elements.csrf_token.value },
        credentials: "same-origin",
      });
      // A redirect means the session had already ended (sent to the sign-in page).
      if (!response.ok || response.redirected) return expire();
      const data = await response.json();
      deadline = Date.now() + data.remaining * 1000;
      dialog.close();
      schedule();
    } catch (error) {
      form.submit(); // no connection to the script's request: the ordinary form post
    }
  });
  schedule();
}

// The OTP key's copy button (rendered hidden: without script the key is simply shown).
function setUpCopyButtons() {
  document.querySelectorAll("[data-copy-target]").forEach((button) => {
    const target = document.getElementById(button.getAttribute("data-copy-target"));
    if (!target || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const status = document.getElementById(button.getAttribute("data-copy-status"));
      try {
        await navigator.clipboard.writeText(target.textContent.replace(/\s+/g, ""));
        if (status) status.textContent = button.getAttribute("data-copied");
      } catch (error) {
        if (status) status.textContent = button.getAttribute("data-copy-failed");
      }
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  // Buttons that ask before a destructive action: <button data-confirm="...">.
  document.querySelectorAll("[data-confirm]").forEach((el) => {
    el.addEventListener("click", (event) => {
      if (!window.confirm(el.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
  setUpPopups();
  setUpIdleWarning();
  setUpCopyButtons();
});
