"use strict";
// The portal's page: every value shown goes through text() (no HTML from data), every request is
// same-origin JSON, and nothing about a citizen is fetched unless they are signed in.
let me = { signed_in: false };
let timer = null;

function text(value) { const span = document.createElement("span"); span.textContent = value ?? ""; return span.innerHTML; }

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  return { ok: response.ok, status: response.status, body: await response.json() };
}

async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body) });
  let answer = {};
  try { answer = await response.json(); } catch (error) { answer = {}; }
  return { ok: response.ok, status: response.status, body: answer };
}

async function loadCatalog() {
  const catalog = (await getJson("/api/catalog")).body;
  const services = document.getElementById("s-service");
  services.innerHTML = '<option value="">— choose —</option>' +
    Object.entries(catalog.services).map(([code, name]) => `<option value="${text(code)}">${text(name)}</option>`).join("");
  const agencies = document.getElementById("i-agency");
  agencies.innerHTML = '<option value="">— choose —</option>' +
    Object.entries(catalog.agencies).map(([urn, name]) => `<option value="${text(urn)}">${text(name)}</option>`).join("");
}

async function loadMe() {
  me = (await getJson("/api/me")).body;
  const signedIn = me.signed_in === true;
  document.getElementById("sign-in").hidden = signedIn || !me.sign_in.available;
  document.getElementById("sign-out").hidden = !signedIn;
  document.getElementById("development-sign-in").hidden = !me.sign_in.development;
  const who = document.getElementById("signed-in-as");
  who.hidden = !signedIn;
  who.textContent = signedIn ? `Signed in as ${me.name || me.curp} (${me.curp})` : "";
  document.getElementById("service-fields").disabled = !signedIn;
  document.getElementById("service-needs-sign-in").hidden = signedIn;
  const curp = document.getElementById("i-curp");
  curp.readOnly = signedIn;
  if (signedIn) curp.value = me.curp;
  if (signedIn && timer === null) { refresh(); timer = setInterval(refresh, 1000); }
}

function clearErrors(form) {
  form.querySelectorAll(".field-error").forEach(e => { e.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach(e => e.removeAttribute("aria-invalid"));
  const notice = form.querySelector(".notice");
  if (notice) notice.textContent = "";
}

function showErrors(form, errors) {
  for (const error of errors) {
    const slot = form.querySelector(`.field-error[data-for="${CSS.escape(error.field)}"]`) || form.querySelector('.field-error[data-for="form"]');
    slot.textContent = slot.textContent ? slot.textContent + " " + error.message : error.message;
    const input = form.querySelector(`[name="${CSS.escape(error.field)}"]`);
    if (input) input.setAttribute("aria-invalid", "true");
  }
}

async function submit(event) {
  event.preventDefault();
  const form = event.target;
  clearErrors(form);
  const body = {};
  for (const element of form.elements) {
    if (!element.name) continue;
    body[element.name] = element.type === "checkbox" ? element.checked : element.value;
  }
  const answer = await postJson(form.dataset.endpoint, body);
  if (!answer.ok) { showErrors(form, answer.body.errors || [{ field: "form", message: "the portal could not take the request" }]); return; }
  const notice = form.querySelector(".notice");
  notice.innerHTML = `Request <span class="request-id">${text(answer.body.request.request_id)}</span> received.
    Tracking code: <span class="tracking-code">${text(answer.body.tracking_code)}</span> — write it down with the
    request id: it is shown only this once.`;
  if (me.signed_in) refresh();
}

function requestRow(r) {
  return `<tr data-request-id="${text(r.request_id)}"><td class="muted">${text(r.request_id.slice(0, 8))}</td><td>${text(r.topic)}</td>
    <td class="status request-status">${text(r.status)}</td>
    <td class="muted">${text([r.case_id && "case " + r.case_id, r.folio && "folio " + r.folio,
      r.deadline && "due " + r.deadline, r.answer].filter(Boolean).join(" · "))}</td></tr>`;
}

async function follow(event) {
  event.preventDefault();
  const form = event.target;
  clearErrors(form);
  const answer = await postJson("/api/requests/status", {
    request_id: form.elements.request_id.value.trim(), tracking_code: form.elements.tracking_code.value.trim() });
  if (!answer.ok) { showErrors(form, answer.body.errors || []); document.getElementById("followed").hidden = true; return; }
  document.getElementById("followed-request").innerHTML = requestRow(answer.body);
  document.getElementById("followed").hidden = false;
}

async function refresh() {
  const mine = await getJson("/api/me/requests");
  if (!mine.ok) return;
  document.getElementById("my-requests").innerHTML = mine.body.requests.length ? mine.body.requests.map(requestRow).join("")
    : '<tr><td colspan="4" class="muted">No requests yet.</td></tr>';
  const log = await getJson("/api/me/access-log");
  if (!log.ok) return;
  document.getElementById("access-log").innerHTML = log.body.accesses.length ? log.body.accesses.map(a => `
    <tr><td>${text(a.at)}</td><td>${text(a.accessor)}</td><td>${text(a.fields.join(", "))}</td>
      <td>${text(a.purpose)}</td><td>${text(a.legal_basis)}</td></tr>`).join("")
    : '<tr><td colspan="5" class="muted">Nobody yet.</td></tr>';
}

async function signOut() {
  await fetch("/auth/logout", { method: "POST" });
  window.location.reload();
}

document.getElementById("service-form").addEventListener("submit", submit);
document.getElementById("information-form").addEventListener("submit", submit);
document.getElementById("follow-form").addEventListener("submit", follow);
document.getElementById("sign-out").addEventListener("click", signOut);
loadCatalog();
loadMe();
