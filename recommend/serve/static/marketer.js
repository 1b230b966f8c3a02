// The product page's marketer panel: fetch it in place instead of reloading the page.
"use strict";
(function () {
  const form = document.getElementById("marketer-form");
  const box = document.getElementById("marketer-panel");
  if (!form || !box) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    button.textContent = "Finding the audience and the influencers…";
    box.setAttribute("aria-busy", "true");
    const response = await fetch("/ui/marketer?item=" + encodeURIComponent(form.dataset.item));
    box.setAttribute("aria-busy", "false");
    if (!response.ok) {
      button.disabled = false;
      button.textContent = "That did not work (" + response.status + "): try again";
      return;
    }
    box.innerHTML = await response.text();
    const title = box.querySelector("h3");
    if (title) { title.tabIndex = -1; title.focus(); }
  });
})();
