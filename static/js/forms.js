// Form behaviour shared by every front end, bound by data attributes: the
// Content-Security-Policy runs scripts from files only, never inline handlers.
//
// data-ignore-enter: Enter in this field does not submit its form. A barcode scanner ends each
// scan with Enter, and a filter box inside a bigger form must not send the half-filled form.
"use strict";

document.addEventListener("keydown", (event) => {
  const field = event.target;
  if (event.key === "Enter" && field instanceof Element && field.closest("[data-ignore-enter]")) {
    event.preventDefault();
  }
});
