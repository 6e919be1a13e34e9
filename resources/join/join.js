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

// --- End-to-end encryption (docs/encryption.md, frame format v1) -------------------
//
// The same scheme as core/channel/e2ee.py: every encoded frame is cut into units (VP8,
// Opus: the frame; H.264: each NAL unit), each unit becomes
//   clear | E(body | PKCS#7 pad) | iv (4-byte salt, 4-byte counter) | mac (4) | tag (1)
// with E = AES-XTS (tweak iv | 0^8) or AES-ECB, mac = HMAC-SHA256(tag | iv | clear |
// ciphertext)[:4], tag = 0xA0 | mode; keys from HKDF-SHA256(secret, "cloudrec-e2ee-v1",
// mode name). WebCrypto has no XTS or ECB, so the AES block cipher (encryption only:
// the page never decrypts) is written out here; HKDF and HMAC come from WebCrypto.
// This function is self-contained so that it can also run in a worker.
function cloudrecE2eeModule(scope) {
  const MODES = { aes_128_xts: 1, aes_128_ecb: 2, aes_256_xts: 3 };
  const CIPHER_KEY_BYTES = { 1: 32, 2: 16, 3: 64 };
  const MODE_NAMES = { 1: "AES_128_XTS", 2: "AES_128_ECB", 3: "AES_256_XTS" };
  const SALT = new TextEncoder().encode("cloudrec-e2ee-v1");

  // AES S-box, computed (FIPS-197 section 5.1.1).
  const SBOX = new Uint8Array(256);
  (() => {
    const rotl = (x, n) => ((x << n) | (x >> (8 - n))) & 0xff;
    let p = 1;
    let q = 1;
    do {
      p = (p ^ (p << 1) ^ (p & 0x80 ? 0x1b : 0)) & 0xff; // p * 3
      q ^= q << 1; // q / 3
      q ^= q << 2;
      q ^= q << 4;
      q &= 0xff;
      if (q & 0x80) q ^= 0x09;
      SBOX[p] = q ^ rotl(q, 1) ^ rotl(q, 2) ^ rotl(q, 3) ^ rotl(q, 4) ^ 0x63;
    } while (p !== 1);
    SBOX[0] = 0x63;
  })();
  const xtime = (a) => ((a << 1) ^ (a & 0x80 ? 0x1b : 0)) & 0xff;

  // Round keys as bytes (FIPS-197 section 5.2), for 16- or 32-byte keys.
  function expandKey(key) {
    const nk = key.length / 4;
    const rounds = nk + 6;
    const w = new Uint8Array(16 * (rounds + 1));
    w.set(key);
    let rcon = 1;
    for (let i = nk; i < 4 * (rounds + 1); i++) {
      let t = w.slice(4 * (i - 1), 4 * i);
      if (i % nk === 0) {
        t = Uint8Array.of(SBOX[t[1]] ^ rcon, SBOX[t[2]], SBOX[t[3]], SBOX[t[0]]);
        rcon = xtime(rcon);
      } else if (nk > 6 && i % nk === 4) {
        t = t.map((b) => SBOX[b]);
      }
      for (let j = 0; j < 4; j++) w[4 * i + j] = w[4 * (i - nk) + j] ^ t[j];
    }
    return { w, rounds };
  }

  // One block, in place: state[r + 4c] = input[r + 4c].
  function encryptBlock(ks, s) {
    const { w, rounds } = ks;
    const t = new Uint8Array(16);
    for (let i = 0; i < 16; i++) s[i] ^= w[i];
    for (let round = 1; round <= rounds; round++) {
      for (let c = 0; c < 4; c++) {
        for (let r = 0; r < 4; r++) t[r + 4 * c] = SBOX[s[r + 4 * ((c + r) % 4)]];
      }
      if (round < rounds) {
        for (let c = 0; c < 4; c++) {
          const a0 = t[4 * c], a1 = t[4 * c + 1], a2 = t[4 * c + 2], a3 = t[4 * c + 3];
          const all = a0 ^ a1 ^ a2 ^ a3;
          s[4 * c] = a0 ^ all ^ xtime(a0 ^ a1);
          s[4 * c + 1] = a1 ^ all ^ xtime(a1 ^ a2);
          s[4 * c + 2] = a2 ^ all ^ xtime(a2 ^ a3);
          s[4 * c + 3] = a3 ^ all ^ xtime(a3 ^ a0);
        }
      } else {
        s.set(t);
      }
      for (let i = 0; i < 16; i++) s[i] ^= w[16 * round + i];
    }
    return s;
  }

  function ecbEncrypt(ks, data) {
    const out = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i += 16) out.set(encryptBlock(ks, data.slice(i, i + 16)), i);
    return out;
  }

  // IEEE 1619 XTS for whole blocks: data key ks1, tweak key ks2, 16-byte tweak.
  function xtsEncrypt(ks1, ks2, tweak, data) {
    const t = encryptBlock(ks2, Uint8Array.from(tweak));
    const out = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i += 16) {
      const block = data.slice(i, i + 16);
      for (let j = 0; j < 16; j++) block[j] ^= t[j];
      encryptBlock(ks1, block);
      for (let j = 0; j < 16; j++) out[i + j] = block[j] ^ t[j];
      const carry = t[15] >> 7; // t = t * x in GF(2^128), little endian
      for (let j = 15; j > 0; j--) t[j] = ((t[j] << 1) | (t[j - 1] >> 7)) & 0xff;
      t[0] = ((t[0] << 1) & 0xff) ^ (carry ? 0x87 : 0);
    }
    return out;
  }

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  async function deriveKeys(modeName, secret) {
    const mode = MODES[String(modeName).toLowerCase()];
    if (!mode) throw new Error(`unknown encryption mode ${modeName}`);
    if (!/^[\x20-\x7e]{8,128}$/.test(secret)) {
      throw new Error("The secret must be 8 to 128 printable ASCII characters.");
    }
    const size = CIPHER_KEY_BYTES[mode];
    const ikm = await crypto.subtle.importKey(
      "raw", new TextEncoder().encode(secret), "HKDF", false, ["deriveBits"]);
    const info = new TextEncoder().encode(MODE_NAMES[mode]);
    const bits = await crypto.subtle.deriveBits(
      { name: "HKDF", hash: "SHA-256", salt: SALT, info }, ikm, 8 * (size + 32));
    const okm = new Uint8Array(bits);
    const cipherKey = okm.slice(0, size);
    const macKey = await crypto.subtle.importKey(
      "raw", okm.slice(size), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const half = size / 2;
    return {
      mode,
      tag: 0xa0 | mode,
      ecb: mode === 2 ? expandKey(cipherKey) : null,
      data: mode === 2 ? null : expandKey(cipherKey.slice(0, half)),
      tweak: mode === 2 ? null : expandKey(cipherKey.slice(half)),
      macKey,
    };
  }

  async function seal(keys, clear, body, iv) {
    const pad = 16 - (body.length % 16);
    const padded = concat(body, new Uint8Array(pad).fill(pad));
    const ciphertext = keys.ecb
      ? ecbEncrypt(keys.ecb, padded)
      : xtsEncrypt(keys.data, keys.tweak, concat(iv, new Uint8Array(8)), padded);
    const tag = Uint8Array.of(keys.tag);
    const mac = new Uint8Array(
      await crypto.subtle.sign("HMAC", keys.macKey, concat(tag, iv, clear, ciphertext)));
    return concat(clear, ciphertext, iv, mac.slice(0, 4), tag);
  }

  // H.264 emulation prevention over the sealed part: 00 00 0x (x <= 3) never appears.
  function escape(data) {
    const out = [];
    let zeros = 0;
    for (const byte of data) {
      if (zeros >= 2 && byte <= 3) {
        out.push(3);
        zeros = 0;
      }
      out.push(byte);
      zeros = byte === 0 ? zeros + 1 : 0;
    }
    return Uint8Array.from(out);
  }

  function splitAnnexB(data) {
    const units = [];
    const find = (from) => {
      for (let i = from; i + 2 < data.length; i++) {
        if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) return i;
      }
      return -1;
    };
    let i = find(0);
    while (i !== -1) {
      const start = i + 3;
      i = find(start);
      const end = i === -1 ? data.length : data[i - 1] === 0 ? i - 1 : i;
      units.push(data.subarray(start, end));
    }
    return units;
  }

  function createEncryptor(keys, options = {}) {
    const salt = options.salt ? Uint8Array.from(options.salt) : crypto.getRandomValues(new Uint8Array(4));
    let counter = options.counter || 0;
    const nextIv = () => {
      counter = (counter + 1) >>> 0;
      const iv = new Uint8Array(8);
      iv.set(salt);
      new DataView(iv.buffer).setUint32(4, counter);
      return iv;
    };
    return {
      // codec: "VP8", "H264" or "OPUS"; frame: Uint8Array of an encoded frame.
      async encrypt(codec, frame) {
        if (codec === "H264") {
          const parts = [];
          for (const nal of splitAnnexB(frame)) {
            if (!nal.length) continue;
            const sealed = await seal(keys, nal.subarray(0, 1), nal.subarray(1), nextIv());
            parts.push(Uint8Array.of(0, 0, 0, 1, nal[0]), escape(sealed.subarray(1)));
          }
          return concat(...parts);
        }
        const clear = codec === "VP8" ? (frame.length && !(frame[0] & 1) ? 10 : 3) : 1;
        const head = frame.subarray(0, Math.min(clear, frame.length));
        return seal(keys, head, frame.subarray(head.length), nextIv());
      },
    };
  }

  // A TransformStream step for an RTCEncodedVideoFrame / RTCEncodedAudioFrame.
  function frameTransformer(keys, kind) {
    const encryptor = createEncryptor(keys);
    return async (frame, controller) => {
      const data = new Uint8Array(frame.data);
      let codec = "OPUS";
      if (kind === "video") {
        const mime = (frame.getMetadata().mimeType || "").toLowerCase();
        const annexB = data[0] === 0 && data[1] === 0 && (data[2] === 1 || data[3] === 1);
        codec = mime.endsWith("h264") || (!mime && annexB) ? "H264" : "VP8";
      }
      frame.data = (await encryptor.encrypt(codec, data)).buffer;
      controller.enqueue(frame);
    };
  }

  scope.cloudrecE2ee = {
    MODES, deriveKeys, createEncryptor, frameTransformer, expandKey, encryptBlock,
    ecbEncrypt, xtsEncrypt, escape,
  };
}
cloudrecE2eeModule(window);

// Make a sender encrypt its frames: RTCRtpScriptTransform in a worker where the
// browser has it, else the (older) insertable streams on this thread.
function encryptSender(sender, keys, mode, secret) {
  const kind = sender.track.kind;
  if (typeof RTCRtpScriptTransform === "function" && !sender.createEncodedStreams) {
    const source = `(${cloudrecE2eeModule})(self);
      self.onrtctransform = async (event) => {
        const { mode, secret, kind } = event.transformer.options;
        const keys = await self.cloudrecE2ee.deriveKeys(mode, secret);
        const step = self.cloudrecE2ee.frameTransformer(keys, kind);
        event.transformer.readable
          .pipeThrough(new TransformStream({ transform: step }))
          .pipeTo(event.transformer.writable);
      };`;
    const worker = new Worker(URL.createObjectURL(new Blob([source], { type: "text/javascript" })));
    sender.transform = new RTCRtpScriptTransform(worker, { mode, secret, kind });
    return;
  }
  const { readable, writable } = sender.createEncodedStreams();
  readable
    .pipeThrough(new TransformStream({ transform: window.cloudrecE2ee.frameTransformer(keys, kind) }))
    .pipeTo(writable);
}

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
  // The mode only: the secret never leaves the page.
  if ($("encryption").value !== "none") query.set("encryption", $("encryption").value);
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
  const mode = $("encryption").value;
  const secret = $("secret").value;
  let keys = null;
  $("join").disabled = true;
  setStatus("Joining…");
  try {
    if (mode !== "none") {
      if (!window.crypto || !crypto.subtle) {
        throw new Error("Encryption needs a secure page (https:// or http://127.0.0.1).");
      }
      keys = await window.cloudrecE2ee.deriveKeys(mode, secret);
    }
    stream = await navigator.mediaDevices.getUserMedia({
      audio: microphone ? { deviceId: microphone === "default" ? undefined : { exact: microphone } } : false,
      video: camera
        ? { deviceId: camera === "default" ? undefined : { exact: camera }, width: 640, height: 360 }
        : false,
    });
    $("preview").srcObject = stream;
    const configuration = { iceServers: [] };
    // Chromium's insertable streams need this flag before any sender exists.
    if (keys && RTCRtpSender.prototype.createEncodedStreams) configuration.encodedInsertableStreams = true;
    pc = new RTCPeerConnection(configuration);
    pc.addEventListener("connectionstatechange", () => {
      if (pc && (pc.connectionState === "failed" || pc.connectionState === "disconnected")) {
        setStatus(`Connection ${pc.connectionState}.`, true);
      } else if (pc && pc.connectionState === "connected") {
        setStatus(`Publishing as ${$("uid").value} in “${$("channel").value}”.`);
      }
    });
    const senders = [];
    for (const track of stream.getAudioTracks()) {
      senders.push(pc.addTransceiver(track, { direction: "sendonly" }).sender);
    }
    const [video] = stream.getVideoTracks();
    if (video) {
      senders.push(pc.addTransceiver(video, { direction: "sendonly" }).sender);
      if ($("lowStream").checked) {
        senders.push(pc.addTransceiver(video.clone(), {
          direction: "sendonly",
          sendEncodings: [{ scaleResolutionDownBy: 2, maxBitrate: 200000 }],
        }).sender);
      }
    }
    if (keys) for (const sender of senders) encryptSender(sender, keys, mode, secret);
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
    // A certificate app's roster needs the channel's token (docs/channel.md).
    const headers = {};
    const token = $("token").value.trim();
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(`/channels/${app}/${channel}`, { cache: "no-store", headers });
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
  // Never the secret: a URL ends up in histories and logs.
  for (const name of ["app", "channel", "uid", "token", "role", "channelType", "encryption"]) {
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
