// The storefront's behaviour: shopper search, feedback buttons, live feed refresh, path pictures.
"use strict";
(function () {
  const token = document.querySelector('meta[name="storefront-token"]').content;
  const feed = document.getElementById("feed");
  const profile = document.getElementById("profile");
  const results = document.getElementById("user-results");
  const status = document.getElementById("status");
  const say = (text) => { if (status) status.textContent = text; };

  async function fragment(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(url + ": " + response.status);
    return response.text();
  }

  async function showUser(user) {
    feed.dataset.user = user;
    feed.setAttribute("aria-busy", "true");
    const q = "?user=" + encodeURIComponent(user);
    const [cards, panel] = await Promise.all([fragment("/ui/feed" + q), fragment("/ui/profile" + q)]);
    feed.innerHTML = cards;
    profile.innerHTML = panel;
    feed.setAttribute("aria-busy", "false");
    history.replaceState(null, "", "/" + q);
  }

  async function refreshFeed() {
    feed.setAttribute("aria-busy", "true");
    feed.innerHTML = await fragment("/ui/feed?user=" + encodeURIComponent(feed.dataset.user));
    feed.setAttribute("aria-busy", "false");
  }

  const form = document.getElementById("user-search");
  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const q = document.getElementById("user-query").value;
      const response = await fetch("/v1/users?limit=8&q=" + encodeURIComponent(q));
      const users = response.ok ? await response.json() : [];
      results.innerHTML = "";
      for (const u of users) {
        const li = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.className = "choose-user";
        button.dataset.user = u.id;
        button.textContent = u.name + " (" + u.id + ")";
        li.appendChild(button);
        results.appendChild(li);
      }
      say(users.length ? users.length + " shoppers found" : "No shopper matches");
    });
  }

  const lookForm = document.getElementById("look-form");
  if (lookForm) {
    lookForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const file = document.getElementById("look-photo").files[0];
      const list = document.getElementById("look-results");
      if (!file) { say("Choose a photo first"); return; }
      let url = "/v1/look?k=8";
      if (feed.dataset.user) url += "&user=" + encodeURIComponent(feed.dataset.user);
      const response = await fetch(url, { method: "POST", headers: { "Content-Type": file.type }, body: file });
      const found = await response.json();
      list.innerHTML = "";
      if (!response.ok) { say("No look-alikes: " + (found.detail || response.status)); return; }
      for (const r of found) {
        const li = document.createElement("li");
        li.className = "card look-card";
        if (r.image_url) {
          const img = document.createElement("img");
          img.className = "thumb"; img.alt = r.name || r.item; img.src = r.image_url;
          li.appendChild(img);
        }
        const h = document.createElement("h3");
        const a = document.createElement("a");
        a.href = "/items/" + encodeURIComponent(r.item.split(":").slice(1).join(":"));
        a.textContent = r.name || r.item;
        h.appendChild(a); li.appendChild(h);
        if (r.price !== null && r.price !== undefined) {
          const p = document.createElement("p"); p.className = "price"; p.textContent = r.price.toFixed(2); li.appendChild(p);
        }
        const why = document.createElement("p"); why.className = "why"; why.textContent = r.text; li.appendChild(why);
        list.appendChild(li);
      }
      say(found.length + " products look like your photo");
    });
  }

  document.addEventListener("click", async (event) => {
    const chooser = event.target.closest("button.choose-user");
    if (chooser) {
      results.innerHTML = "";
      await showUser(chooser.dataset.user);
      say("Showing the feed of " + chooser.textContent);
      const title = document.getElementById("feed-title");
      if (title) { title.tabIndex = -1; title.focus(); }
      return;
    }
    const button = event.target.closest(".card button[data-kind]");
    if (button) {
      const card = button.closest(".card");
      const kind = button.dataset.kind;
      button.disabled = true;
      const response = await fetch("/ui/feedback", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Storefront-Token": token },
        body: JSON.stringify({ user: feed.dataset.user, item: card.dataset.item, kind: kind }),
      });
      if (!response.ok) { button.disabled = false; say("That did not work: " + response.status); return; }
      if (kind === "not-interested") card.remove();
      say({ like: "Liked", "not-interested": "Removed from the feed", cart: "Added to the cart" }[kind]);
      await refreshFeed();
      return;
    }
    const why = event.target.closest(".card button.why-button");
    if (why) {
      const card = why.closest(".card");
      const box = card.querySelector(".picture");
      const open = why.getAttribute("aria-expanded") === "true";
      if (!open && !box.firstChild) {
        const q = "?user=" + encodeURIComponent(feed.dataset.user) + "&item=" + encodeURIComponent(card.dataset.item);
        const response = await fetch("/ui/why" + q);
        const found = response.ok ? await response.json() : { svg: null };
        if (found.svg) {
          const img = document.createElement("img");
          img.alt = "How this product links to you: " + found.paths.join("; ");
          img.src = URL.createObjectURL(new Blob([found.svg], { type: "image/svg+xml" }));
          box.appendChild(img);
        } else {
          box.textContent = "No path to draw for this one.";
        }
      }
      box.hidden = open;
      why.setAttribute("aria-expanded", String(!open));
    }
  });
})();
