// cloudrec join page: publish camera and microphone to the channel over WHIP.
//
// WHIP (RFC 9725) as the server implements it: gather every ICE candidate first,
// POST the complete offer (application/sdp), apply the 201's answer, DELETE the
// Location to leave. The first video m-line is the HIGH stream, a second one the
// LOW stream of the dual stream.
"use strict";

const $ = (id) => document.getElementById(id);
const GATHER_TIMEOUT_MS = 3000;
const ROSTER_INTERVAL_MS = 1000;

let pc = null;
let stream = null;
let sessionUrl = null;
let rosterTimer = null;

function setStatus(text, isError = false) {
  const el = $("status");
  el.textContent = text;
  el.className = isError ? "error" : "";
}

async function listDevices() {
  // Labels are only visible once the page may use the devices.
  try {
    const probe = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    probe.getTracks().forEach((t) => t.stop());
  } catch (err) {
    setStatus(`No camera/microphone access: ${err.message}`, true);
  }
  const devices = await navigator.mediaDevices.enumerateDevices();
  for (const [kind, select] of [["videoinput", $("camera")], ["audioinput", $("microphone")]]) {
    const found = devices.filter((d) => d.kind === kind);
    found.forEach((d, i) => {
      const option = document.createElement("option");
      option.value = d.deviceId || "default";
      option.textContent = d.label || `${kind} ${i + 1}`;
      select.appendChild(option);
    });
    if (found.length) select.selectedIndex = 1;
  }
}

function waitForIceGathering(peer) {
  if (peer.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (peer.iceGatheringState !== "complete") return;
      peer.removeEventListener("icegatheringstatechange", done);
      resolve();
    };
    peer.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, GATHER_TIMEOUT_MS); // publish what we have
  });
}

function whipUrl() {
  const app = encodeURIComponent($("app").value.trim());
  const channel = encodeURIComponent($("channel").value);
  const uid = encodeURIComponent($("uid").value.trim());
  const query = new URLSearchParams({ role: $("role").value, channel_type: $("channelType").value });
  return `/whip/${app}/${channel}/${uid}?${query}`;
}

async function join(event) {
  event.preventDefault();
  const camera = $("camera").value;
  const microphone = $("microphone").value;
  if (!camera && !microphone) {
    setStatus("Pick a camera or a microphone to publish.", true);
    return;
  }
  $("join").disabled = true;
  setStatus("Joining…");
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: microphone ? { deviceId: microphone === "default" ? undefined : { exact: microphone } } : false,
      video: camera
        ? { deviceId: camera === "default" ? undefined : { exact: camera }, width: 640, height: 360 }
        : false,
    });
    $("preview").srcObject = stream;
    pc = new RTCPeerConnection({ iceServers: [] });
    pc.addEventListener("connectionstatechange", () => {
      if (pc && (pc.connectionState === "failed" || pc.connectionState === "disconnected")) {
        setStatus(`Connection ${pc.connectionState}.`, true);
      } else if (pc && pc.connectionState === "connected") {
        setStatus(`Publishing as ${$("uid").value} in “${$("channel").value}”.`);
      }
    });
    for (const track of stream.getAudioTracks()) pc.addTransceiver(track, { direction: "sendonly" });
    const [video] = stream.getVideoTracks();
    if (video) {
      pc.addTransceiver(video, { direction: "sendonly" });
      if ($("lowStream").checked) {
        pc.addTransceiver(video.clone(), {
          direction: "sendonly",
          sendEncodings: [{ scaleResolutionDownBy: 2, maxBitrate: 200000 }],
        });
      }
    }
    await pc.setLocalDescription(await pc.createOffer());
    await waitForIceGathering(pc);
    const headers = { "Content-Type": "application/sdp" };
    const token = $("token").value.trim();
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(whipUrl(), { method: "POST", headers, body: pc.localDescription.sdp });
    const body = await response.text();
    if (response.status !== 201) throw new Error(`The server refused (HTTP ${response.status}): ${body}`);
    sessionUrl = new URL(response.headers.get("Location"), location.href).href;
    await pc.setRemoteDescription({ type: "answer", sdp: body });
    setStatus("Connecting…");
    $("leave").disabled = false;
    startRoster();
  } catch (err) {
    await cleanUp();
    setStatus(err.message, true);
    $("join").disabled = false;
  }
}

async function cleanUp() {
  if (pc) pc.close();
  pc = null;
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = null;
  $("preview").srcObject = null;
}

async function leave() {
  $("leave").disabled = true;
  const url = sessionUrl;
  sessionUrl = null;
  if (url) {
    try {
      await fetch(url, { method: "DELETE" });
    } catch (err) {
      // The server is gone: nothing to leave.
    }
  }
  await cleanUp();
  setStatus("Left the channel.");
  $("join").disabled = false;
  refreshRoster();
}

function renderRoster(users) {
  const body = $("roster");
  body.textContent = "";
  if (!users.length) {
    body.innerHTML = '<tr><td colspan="4">nobody</td></tr>';
    return;
  }
  for (const user of users) {
    const row = document.createElement("tr");
    row.dataset.uid = String(user.uid);
    const joined = new Date(user.joined_at * 1000).toLocaleTimeString();
    for (const text of [user.uid, user.role, joined, user.tracks.join(", ")]) {
      const cell = document.createElement("td");
      cell.textContent = String(text);
      row.appendChild(cell);
    }
    body.appendChild(row);
  }
}

async function refreshRoster() {
  const app = encodeURIComponent($("app").value.trim());
  const channel = encodeURIComponent($("channel").value);
  if (!app || !channel) return;
  try {
    const response = await fetch(`/channels/${app}/${channel}`, { cache: "no-store" });
    const data = await response.json();
    if (response.ok) renderRoster(data.users);
    else renderRoster([]);
  } catch (err) {
    // Keep the last roster while the server is unreachable.
  }
}

function startRoster() {
  if (rosterTimer === null) rosterTimer = setInterval(refreshRoster, ROSTER_INTERVAL_MS);
  refreshRoster();
}

function prefill() {
  const params = new URLSearchParams(location.search);
  for (const name of ["app", "channel", "uid", "token", "role", "channelType"]) {
    if (params.has(name)) $(name).value = params.get(name);
  }
  if (params.get("low") === "1") $("lowStream").checked = true;
  if (!$("uid").value) $("uid").value = String(1000 + Math.floor(Math.random() * 9000));
}

window.addEventListener("beforeunload", () => {
  if (sessionUrl) fetch(sessionUrl, { method: "DELETE", keepalive: true });
});

prefill();
$("form").addEventListener("submit", join);
$("leave").addEventListener("click", leave);
$("channel").addEventListener("change", refreshRoster);
listDevices().then(startRoster);
